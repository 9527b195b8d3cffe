"""The kiosk on a read-only or a full state folder: it starts, serves frames, and /healthz names the fault."""
import json
import urllib.error
import urllib.request

import pytest
from kiosk_server import KioskServer
from mounts import fill, tmpfs
from waiting import wait_until


def health(server: KioskServer) -> dict:
    try:
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())


def wait_healthy_with_recording_fault(server: KioskServer) -> dict:
    def faulted() -> dict | None:
        body = health(server)
        return body if body["healthy"] and body["recording"].startswith("failed") else None
    return wait_until(faulted, 30, "healthy, with the recording fault named")


@pytest.mark.parametrize("kind", ["read-only", "full"])
def test_kiosk_serves_frames_and_names_the_recording_fault(tmp_path, videos, kind):
    with tmpfs(tmp_path / "state", "size=1m" + (",ro" if kind == "read-only" else "")) as state:
        if kind == "full":
            fill(state)
        server = KioskServer(tmp_path, videos["bare"]).start()
        try:
            body = wait_healthy_with_recording_fault(server)
            assert ("Read-only" if kind == "read-only" else "full") in body["recording"], body
            metrics = urllib.request.urlopen(server.url + "/metrics", timeout=5).read().decode()
            assert "mask_kiosk_recording_ok 0.0" in metrics
            assert "mask_kiosk_published_frames_total" in metrics
        finally:
            server.stop()
        assert server.process.returncode == 0
