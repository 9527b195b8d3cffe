"""SIGTERM ends the kiosk within seconds, whatever its clients hold open."""
import http.client
import signal
import socket
import subprocess
import time

import pytest
from kiosk_server import KioskServer
from websockets.sync.client import connect

# the unit's TimeoutStopSec: a stop needs about 1.5 s with a hanging webhook and a silent broker on a 2-core
# box, so this tells "ends in seconds" from "hangs" with a 5x margin
STOP_WITHIN_S = 10.0


@pytest.fixture
def server(tmp_path):
    kiosk = KioskServer(tmp_path, tmp_path / "unplugged.avi")  # no such file: the camera stays disconnected
    kiosk.start()
    yield kiosk
    kiosk.stop()


def open_heartbeat(server: KioskServer) -> http.client.HTTPConnection:
    """A Gradio heartbeat stream, held open as a browser tab does."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/gradio_api/heartbeat/test-session")
    response = connection.getresponse()
    assert response.status == 200
    assert response.read(5) == b"data:"  # the stream has begun
    return connection


def stop_time(server: KioskServer) -> float:
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(30)
    except subprocess.TimeoutExpired:
        pytest.fail("the kiosk did not exit within 30 s of SIGTERM")
    return time.monotonic() - started


def test_sigterm_with_an_open_heartbeat_stream(server):
    heartbeat = open_heartbeat(server)
    took = stop_time(server)
    heartbeat.close()
    assert took < STOP_WITHIN_S, f"exit took {took:.1f} s"
    assert server.process.returncode == 0


def test_sigterm_with_a_disconnected_camera_and_an_open_kiosk_page(server):
    with connect(f"ws://127.0.0.1:{server.port}/ws/live", open_timeout=10) as live:
        assert '"DISCONNECTED"' in live.recv(timeout=10)
        took = stop_time(server)
    assert took < STOP_WITHIN_S, f"exit took {took:.1f} s"


def test_sigterm_while_the_webhook_hangs_and_the_broker_never_answers(tmp_path):
    """Outputs that cannot finish: a webhook that takes the connection and never replies, an MQTT broker that
    takes the connection and never says CONNACK. The kiosk still ends in seconds."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the kernel's backlog; nobody ever reads or answers
    port = silent.getsockname()[1]
    kiosk = KioskServer(tmp_path, tmp_path / "unplugged.avi", settings={
        "gate": {"mode": "hard", "webhook_url": f"http://127.0.0.1:{port}/gate", "webhook_timeout_s": 30.0},
        "mqtt": {"host": "127.0.0.1", "port": port}})
    try:
        kiosk.start()
        took = stop_time(kiosk)
        print(f"SIGTERM to exit with a hanging webhook and a silent broker: {took:.2f} s")
    finally:
        kiosk.stop()
        silent.close()
    assert took < STOP_WITHIN_S, f"exit took {took:.1f} s"
    assert kiosk.process.returncode == 0
