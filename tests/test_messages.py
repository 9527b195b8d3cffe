"""What the kiosk says to the one who runs it: a clean start and stop in a terminal, one line for a command given
without its sub-command, and a short password refused before it is asked again."""
from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys

import pytest
from kiosk_server import KioskServer
from waiting import wait_until


def test_a_first_start_names_its_addresses_and_ctrl_c_stops_it_without_a_traceback(tmp_path):
    kiosk = KioskServer(tmp_path, tmp_path / "no-camera.avi")  # a new state folder: the first start
    kiosk.start()
    log = tmp_path / "server.log"
    wait_until(lambda: "ready:" in log.read_text(), 60, "ready")
    kiosk.process.send_signal(signal.SIGINT)
    assert kiosk.process.wait(30) == 0
    text = log.read_text()
    assert f"kiosk screen http://127.0.0.1:{kiosk.port}/" in text
    assert "admin https://" in text and f":{kiosk.tls_port}/admin/ on the LAN" in text
    assert "Traceback" not in text and "CancelledError" not in text and "ERROR" not in text, text
    assert "unable to open database" not in text and "counts start from zero" not in text


@pytest.mark.parametrize("command, choices", [("config", "defaults"), ("models", "build"),
                                              ("bench", "detector, classifier, pipeline")])
def test_a_command_without_its_sub_command_names_the_choices(command, choices):
    result = subprocess.run([sys.executable, "-m", "kiosk", command], capture_output=True, text=True)
    assert result.returncode == 2
    assert choices in result.stderr.splitlines()[-1] and "config_command" not in result.stderr


def test_set_password_refuses_a_short_password_before_asking_again(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[runtime]\nstate_dir = "{tmp_path / "state"}"\n')
    pid, terminal = pty.fork()  # getpass reads from a terminal, as for a person at the keyboard
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", "kiosk", "--config", str(config), "set-password"])
    said = b""
    try:
        while b"password:" not in said:
            said += os.read(terminal, 1024)
        os.write(terminal, b"short\n")
        while True:
            try:
                chunk = os.read(terminal, 1024)
            except OSError:  # the child ended: its terminal is gone
                break
            if not chunk:
                break
            said += chunk
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1
    assert b"at least 8 characters" in said and b"again" not in said
    assert not (tmp_path / "state" / "settings.toml").exists()


def test_browsers_that_leave_mid_request_leave_no_traceback_in_the_log(tmp_path):
    import http.client
    import socket

    from kiosk_server import PASSWORD

    from kiosk.bench.photo import log_in
    with KioskServer.running_with_admin(tmp_path, tmp_path / "no-camera.avi") as kiosk:
        cookie = f"kiosk_admin={log_in(kiosk.url, PASSWORD)}"
        for path in ("/admin/", "/admin/config", "/admin/gradio_api/heartbeat/left", "/ws/live"):
            connection = http.client.HTTPConnection("127.0.0.1", kiosk.port, timeout=10)
            connection.request("GET", path, headers={"Cookie": cookie})
            connection.sock.close()
        with socket.create_connection(("127.0.0.1", kiosk.port), timeout=10) as upload:  # a photo, cut off
            upload.sendall(b"POST /admin/gradio_api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + cookie.encode()
                           + b"\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n"
                           + b'--b\r\nContent-Disposition: form-data; name="files"; filename="p.jpg"\r\n\r\n'
                           + b"\xff" * 20000)
        assert "logged in" in wait_until(lambda: (tmp_path / "server.log").read_text(), 10, "the log")
        assert kiosk.metrics()  # still serving: each of those requests has been dealt with
    text = (tmp_path / "server.log").read_text()
    assert "Traceback" not in text and "Exception in ASGI" not in text, text[-3000:]


def test_every_chinese_admin_text_fills_in_the_same_values_as_its_english():
    """A translation that names other {fields} than its English would fail only when that message is shown."""
    import string

    from kiosk.web.i18n import ZH, ZH_FIELDS, Texts
    from kiosk.web.service import EDITABLE

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert {english: fields(english) for english in ZH} == {english: fields(ZH[english]) for english in ZH}
    assert {f"{section}.{key}" for section, key in EDITABLE} <= set(ZH_FIELDS)  # every setting has its label
    assert Texts("zh")("Saved: {fields}.", fields="音量") == "已保存：音量。"
    assert Texts("en")("Saved: {fields}.", fields="volume") == "Saved: volume."
