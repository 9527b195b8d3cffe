"""The gate output with the real pipeline: a USB serial relay on a pseudo-terminal pair, an HTTP webhook on a
local server, a GPIO line where the kernel offers a simulated chip. Each through the kiosk's own assembly
(kiosk.app)."""
from __future__ import annotations

import glob
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest
from relay_board import OFF, ON, RelayBoard
from waiting import wait_until

from kiosk.app import Kiosk
from kiosk.bench.samples import frame_with_face, grace_hopper
from kiosk.bench.sim_camera import SimulatedIPCamera
from kiosk.outputs.relays import lcus_frame
from kiosk.types import CameraState

PULSE_MS = 400


def jpeg(face: np.ndarray) -> bytes:
    """A camera frame of the one size the stream has, with this portrait in it."""
    return cv2.imencode(".jpg", frame_with_face(640, 480, face))[1].tobytes()


@pytest.fixture
def camera():
    empty = np.full((480, 640, 3), 90, np.uint8)
    camera = SimulatedIPCamera(empty).plug()
    yield camera
    camera.unplug()


def running(config, camera, gate: dict):
    """The kiosk's own assembly with this gate section, without the web service and the record."""
    kiosk = Kiosk(config.replaced(gate=gate, record={"enabled": False}), camera.url, web=False).start()
    return kiosk.pipeline, kiosk


def test_lcus_frames_are_the_boards_protocol():
    assert ON == bytes.fromhex("A00101A2") and OFF == bytes.fromhex("A00100A1")
    assert lcus_frame(2, True) == bytes.fromhex("A00201A3")


def test_serial_relay_pulses_on_pass_and_goes_to_the_fail_state_when_the_camera_is_unplugged(
        config, camera, masked_portrait):
    board = RelayBoard()
    pipeline, outputs = running(config, camera, {"mode": "hard", "pulse_ms": PULSE_MS, "fail_state": "open",
                                                 "serial_port": board.port})
    gate = outputs.gate
    try:
        wait_until(lambda: pipeline.health().healthy and board.commands()[-1:] == [OFF], 20, "a healthy kiosk holding")
        camera.jpeg = jpeg(masked_portrait)
        wait_until(lambda: ON in board.commands(), 20, "the release on PASS")
        wait_until(lambda: board.commands()[-1] == OFF, 5, "the end of the pulse")
        (on_at, _), (off_at, _) = board.frames[-2:]
        pulse_ms = (off_at - on_at) * 1000
        print(f"release pulse {pulse_ms:.1f} ms for pulse_ms = {PULSE_MS}")
        # tells a pulse of pulse_ms from one that ends at once or lasts the default 1000 ms; the 250 ms margin is
        # 5x the jitter of a loaded 2-core box (the pulse's accuracy itself is not a test's business)
        assert abs(pulse_ms - PULSE_MS) <= 250, f"pulse {pulse_ms:.0f} ms"
        assert pipeline.decision.state.value == "PASS"

        before = len(board.frames)
        camera.unplug()
        wait_until(lambda: pipeline.state == CameraState.DISCONNECTED, 10)
        wait_until(lambda: board.commands()[before:] == [ON], 5, "fail state open")
        assert "camera" in gate.status().fault
        camera.plug()
        wait_until(lambda: board.commands()[-1] == OFF and gate.status().fault is None, 20,
                   "back to normal by itself")
    finally:
        outputs.stop()
    assert board.commands()[-1] == ON  # stopping the service leaves the output at fail_state (open here)
    assert gate.status().outputs[0].failures == 0


class WebhookServer:
    """Answers 500 to the first request and 200 after; hangs while `hang` is set."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.answers: list[int] = []
        self.hang = threading.Event()
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if server.hang.is_set():
                    server.release.wait(60)
                status = 500 if not server.answers else 200
                server.bodies.append(body)
                server.answers.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/gate"

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


def test_webhook_retries_after_a_500_and_a_hanging_webhook_never_stalls_the_pipeline(config, camera):
    webhook = WebhookServer()
    pipeline, outputs = running(config, camera, {"mode": "soft", "webhook_url": webhook.url,
                                                 "webhook_timeout_s": 30.0, "webhook_retries": 2})
    try:
        wait_until(lambda: len(webhook.answers) >= 2, 10, "the first command and its retry")
        assert webhook.answers[:2] == [500, 200]
        assert webhook.bodies[0] == webhook.bodies[1]  # the same command again
        first = webhook.bodies[0]
        assert first["mode"] == "soft" and first["released"] is True  # soft mode never holds the door
        assert first["reason"] == "start" and first["device_id"] == "kiosk-1"

        webhook.hang.set()
        camera.jpeg = jpeg(grace_hopper())  # a bare face: STOP, posted to a webhook that does not answer
        wait_until(lambda: pipeline.decision.state.value == "STOP", 20)
        published = pipeline.metrics.published
        wait_until(lambda: pipeline.metrics.published >= published + 30, 10, "frames published while it hangs")
        assert pipeline.health().healthy
        webhook.release.set()
        wait_until(lambda: any(body["reason"] == "STOP" for body in webhook.bodies), 10)
        assert outputs.gate.status().outputs[0].last_error is None
    finally:
        outputs.stop()
        webhook.close()


class FirstAttemptHangs:
    """A door controller behind a webhook that takes each command's first attempt and never answers it; a later
    attempt is carried out at once. Records each command carried out with the time it was."""

    def __init__(self):
        self.seen: set[tuple[str, float]] = set()
        self.acted: list[tuple[float, dict]] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = (body["reason"], body["time"])
                if key not in server.seen:
                    server.seen.add(key)
                    server.release.wait(60)  # hangs; the kiosk gives up on this attempt
                    return
                server.acted.append((time.time(), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/gate"

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


def test_a_slow_webhook_never_opens_the_door_late():
    """Each command's first attempt hangs for the whole 5 s timeout: no command is carried out more than
    MAX_LATE_S after it was given, and none after a newer one was given (a release never lands after its end)."""
    from event_items import published

    from kiosk.config.gate import GateConfig
    from kiosk.outputs.gate import MAX_LATE_S, GateController
    from kiosk.outputs.relays import backends_for
    from kiosk.types import GateState, Health
    webhook = FirstAttemptHangs()
    settings = GateConfig(mode="hard", pulse_ms=1000, webhook_url=webhook.url, webhook_timeout_s=5.0,
                          webhook_retries=2)
    controller = GateController(settings, backends_for(settings, "kiosk-1"), lambda: Health(True, "ok"))
    worker = controller.workers[0]
    given: list[float] = []
    put = worker.put
    worker.put = lambda command: (given.append(command.time), put(command))  # watched, not changed
    controller.start()
    try:
        wait_until(lambda: given, 5, "the start command")
        controller.on_change(published(1, GateState.PASS), "CHECKING")
        wait_until(lambda: len(given) >= 3, 5, "the release and its end")  # start, PASS, pulse end
        wait_until(lambda: worker.sent + worker.expired + worker.superseded + worker.failures >= len(given),
                   3 * MAX_LATE_S, "every command carried out or given up")
        accounted = worker.sent + worker.expired + worker.superseded
        given_before_stop = len(given)
    finally:
        controller.stop()
        webhook.close()
    assert len(webhook.seen) >= 2, "the webhook was not tried"
    for acted_at, body in webhook.acted:
        late = acted_at - body["time"]
        assert late <= MAX_LATE_S, f"{body['reason']} carried out {late:.1f} s late"
        newer = [t for t in given if body["time"] < t < acted_at]
        assert not (body["released"] and newer), f"a release carried out after a newer command: {body}"
    assert accounted == given_before_stop  # each one carried out or given up


def simulated_gpio_chip() -> str | None:
    """A gpio-sim or gpio-mockup chip, if the kernel has one."""
    try:
        import gpiod
    except ImportError:
        return None
    for path in sorted(glob.glob("/dev/gpiochip*")):
        try:
            with gpiod.Chip(path) as chip:
                if chip.get_info().label.startswith(("gpio-sim", "gpio-mockup")):
                    return path
        except OSError:
            continue
    return None


def test_gpio_line_follows_the_gate(config, camera, masked_portrait):
    chip = simulated_gpio_chip()
    if chip is None:
        pytest.skip("no gpio-sim or gpio-mockup chip on this machine (a kernel with CONFIG_GPIO_SIM or "
                    "CONFIG_GPIO_MOCKUP and root: modprobe gpio-mockup gpio_mockup_ranges=-1,8)")
    from gpiod.line import Value
    pipeline, outputs = running(config, camera, {"mode": "hard", "pulse_ms": 2000, "gpio_chip": chip, "gpio_line": 3})
    relay = outputs.gate.workers[0].backend
    try:
        wait_until(lambda: relay._request is not None and pipeline.health().healthy, 20)
        assert relay._request.get_value(3) == Value.INACTIVE
        camera.jpeg = jpeg(masked_portrait)
        wait_until(lambda: relay._request.get_value(3) == Value.ACTIVE, 20, "released on PASS")
    finally:
        outputs.stop()


@pytest.mark.parametrize("mode", ["hard", "soft", "off"])
def test_a_staff_override_releases_the_gate_once_is_recorded_and_is_rate_limited(config, camera, tmp_path, mode):
    """Nobody is in front of the camera: only the override can release the door."""
    from kiosk.record.events import EventLog
    board = RelayBoard()
    gate = {"mode": mode, "pulse_ms": PULSE_MS, "fail_state": "closed", "override_min_interval_s": 0.5}
    if mode != "off":
        gate["serial_port"] = board.port
    kiosk = Kiosk(config.replaced(gate=gate, runtime={"state_dir": str(tmp_path)}), camera.url, web=False).start()
    resting = [] if mode == "off" else [ON] if mode == "soft" else [OFF]
    try:
        wait_until(lambda: kiosk.pipeline.health().healthy and board.commands() == resting
                   and kiosk.pipeline.broadcast.latest() is not None, 20, "a healthy kiosk showing the scene")
        result = kiosk.override.request("admin", "api")
        assert result.accepted, result.message
        released = {"hard": [OFF, ON, OFF], "soft": [ON, ON], "off": []}[mode]  # once: a pulse, or the outputs told
        wait_until(lambda: board.commands() == released, 10, f"one release ({mode})")
        accepted_at = time.monotonic()
        again = kiosk.override.request("admin", "api")
        assert not again.accepted and "again in" in again.message  # half a second is not over yet
        wait_until(lambda: time.monotonic() - accepted_at > 0.5, 2, "the interval")
        assert kiosk.override.request("guard", "admin page").accepted
        accepted_at = time.monotonic()
        if mode != "off":
            wait_until(lambda: len(board.commands()) > len(released), 10, "the second release")
        camera.unplug()  # unhealthy, and the gate fails closed: refused while the door must stay held
        wait_until(lambda: not kiosk.pipeline.health().healthy, 10)
        wait_until(lambda: time.monotonic() - accepted_at > 0.5, 3, "the interval")
        refused = kiosk.override.request("admin", "api")
        assert refused.accepted is (mode == "off") and (mode == "off" or "unhealthy" in refused.message)
        assert kiosk.recorder is not None
        wait_until(lambda: kiosk.recorder.written >= 2, 10, "the overrides in the record")
    finally:
        kiosk.stop()
    rows = [row for row in reversed(EventLog(kiosk.recorder.db_path, kiosk.recorder.snapshots).query(0))
            if row.state == "OVERRIDE"]
    assert [(row.actor, row.reason) for row in rows][:2] == [("admin", "api"), ("guard", "admin page")]
    assert all(row.snapshot for row in rows[:2])  # the picture of the moment: who was let through
