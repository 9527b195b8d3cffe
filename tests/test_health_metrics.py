
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from waiting import wait_until

from kiosk.bench.samples import frame_with_face
from kiosk.bench.sim_camera import SimulatedIPCamera


@pytest.fixture
def running(config, tmp_path):
    from kiosk.app import Kiosk
    from kiosk.web.app import create_app
    camera = SimulatedIPCamera(frame_with_face(640, 480)).plug()
    kiosk = Kiosk(config.replaced(runtime={"state_dir": str(tmp_path)}), camera.url).start()
    client = TestClient(create_app(kiosk.service))
    yield camera, kiosk.service, client
    kiosk.stop()
    camera.unplug()


def test_metrics_parse_and_healthz_follows_the_source(running):
    camera, service, client = running
    wait_until(lambda: client.get("/healthz").status_code == 200, 15)
    assert client.get("/healthz").json()["healthy"] is True
    assert client.get("/healthz").json()["selftest"] == "ok"  # a good install passes its start-up self-test
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    for name in ("mask_kiosk_processed_fps", "mask_kiosk_latency_ms", "mask_kiosk_faces_per_frame",
                 "mask_kiosk_camera_connected", "mask_kiosk_gate_state", "mask_kiosk_violations",
                 "mask_kiosk_selftest_ok", "mask_kiosk_detect_fps"):
        assert name in families, name
    assert families["mask_kiosk_camera_connected"].samples[0].value == 1.0
    assert families["mask_kiosk_processed_fps"].samples[0].value > 5
    camera.unplug()
    wait_until(lambda: client.get("/healthz").status_code == 503, 5)
    assert "camera disconnected" in client.get("/healthz").json()["reason"]
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    assert families["mask_kiosk_camera_connected"].samples[0].value == 0.0
