"""systemd integration: unit files verify; READY=1 after the first frame; WATCHDOG=1 only while the pipeline
advances."""
from __future__ import annotations

import shutil
import subprocess
import threading

import pytest
from kiosk_server import KioskServer
from waiting import wait_until

from kiosk.bench.samples import frame_with_face
from kiosk.bench.sim_camera import SimulatedIPCamera
from kiosk.config import PROJECT_ROOT
from kiosk.systemd_notify import NotifyListener, Watchdog, notify

UNITS = PROJECT_ROOT / "systemd"


def verify(tmp_path, *units: str) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    rendered = []
    for unit in units:
        path = tmp_path / unit
        path.write_text((UNITS / unit).read_text().replace("@PREFIX@", str(PROJECT_ROOT)))
        rendered.append(str(path))
    result = subprocess.run(["systemd-analyze", "verify", *rendered], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_service_unit_verifies(tmp_path):
    verify(tmp_path, "mask-kiosk.service")


def test_service_unit_stops_quickly_and_does_not_loop_on_a_config_error():
    lines = (UNITS / "mask-kiosk.service").read_text().splitlines()
    assert "TimeoutStopSec=10" in lines
    assert "RestartPreventExitStatus=2" in lines  # `mask-kiosk` exits 2 on a config error


def test_screen_unit_verifies_with_the_service(tmp_path):
    if not shutil.which("cage"):
        pytest.skip("cage is absent (install.sh --system installs it; .ci/run too)")
    verify(tmp_path, "mask-kiosk.service", "mask-kiosk-screen.service")


def test_ready_after_first_frame_then_periodic_watchdog(tmp_path, videos):
    systemd = NotifyListener(tmp_path / "notify.sock")
    server = KioskServer(tmp_path, videos["bare"])
    try:
        server.start(environment={"NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "600000"})  # ping every 0.3 s
        ready = systemd.wait_for("READY=1", 60)
        ready_message = systemd.with_line("READY=1")[0][1]
        assert "first frame processed" in ready_message
        wait_until(lambda: len(systemd.with_line("WATCHDOG=1")) >= 3, 30, "three watchdog pings")
        assert systemd.with_line("WATCHDOG=1")[0][0] >= ready
        assert any(m.startswith("STATUS=") or "\nSTATUS=" in m for _, m in systemd.messages)
    finally:
        server.stop()
        systemd.close()
    assert systemd.with_line("STOPPING=1")


def test_watchdog_pings_stop_when_the_pipeline_freezes(tmp_path, config, monkeypatch):
    from kiosk.app import build_pipeline
    systemd = NotifyListener(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", systemd.path)
    camera = SimulatedIPCamera(frame_with_face(640, 480)).plug()
    pipeline = build_pipeline(config, camera.url).start()
    watchdog = Watchdog(pipeline.worth_keeping, lambda: pipeline.state, 0.2).start()
    release = threading.Event()
    original = pipeline.detector.postprocess

    def hung_postprocess(*args, **kwargs):
        release.wait(30)  # a hung inference: frames keep arriving, nothing is published
        return original(*args, **kwargs)

    def stalled_reports() -> int:
        return sum("stalled" in m for _, m in systemd.messages)

    try:
        wait_until(lambda: len(systemd.with_line("WATCHDOG=1")) >= 4, 30, "pings while healthy")
        pipeline.detector.postprocess = hung_postprocess
        wait_until(stalled_reports, 30, "the stall reported")
        count, reports = len(systemd.with_line("WATCHDOG=1")), stalled_reports()
        # the watchdog's own next five looks (each one would have pinged if it took the kiosk for healthy)
        wait_until(lambda: stalled_reports() >= reports + 5, 30, "five more looks")
        assert len(systemd.with_line("WATCHDOG=1")) == count, "pings went on while frozen"
        assert pipeline.source.connected
    finally:
        watchdog.stop()
        release.set()
        pipeline.stop()
        camera.unplug()
        systemd.close()


def test_notify_outside_systemd_does_nothing(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("READY=1") is False
