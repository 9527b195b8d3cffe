"""The start-up self-test: golden faces through the real detector, classifier and decision. A good install passes;
an IR broken on purpose (colours in the wrong order, classes in the wrong order) fails it, and then the kiosk
passes nobody, keeps the door held and says so on its screen, /healthz and /metrics."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest
from browser import chromium, require_chromium, screenshot
from kiosk_server import KioskServer
from openvino.preprocess import PrePostProcessor
from test_gate_outputs import OFF, ON, RelayBoard
from waiting import wait_until

from kiosk.app import Kiosk
from kiosk.bench.samples import frame_with_face
from kiosk.bench.sim_camera import SimulatedIPCamera
from kiosk.live.selftest import run_self_test
from kiosk.types import CameraState, GateState
from kiosk.vision.models import load_classifier, load_detector

IR_NAMES = ("mask_classifier.xml", "mask_classifier_int8.xml")


def colour_swap(model: ov.Model) -> ov.Model:
    """The IR reads its input as RGB: the colour-order slip of a careless re-export."""
    steps = PrePostProcessor(model)
    steps.input().tensor().set_layout(ov.Layout("NHWC"))
    steps.input().model().set_layout(ov.Layout("NHWC"))
    steps.input().preprocess().reverse_channels()
    return steps.build()


def classes_swapped(model: ov.Model) -> ov.Model:
    """An IR whose outputs are in another class order (no_mask, mask, incorrect): the wrong IR for its metadata."""
    order = ops.constant(np.array([1, 0, 2], np.int64))
    swapped = ops.gather(model.get_results()[0].input_value(0), order, ops.constant(np.int64(1)))
    return ov.Model([swapped], model.get_parameters(), "classes swapped")


BREAKS = {"colour swap": colour_swap, "classes swapped": classes_swapped}


def broken_models(config, folder: Path, how: str) -> Path:
    """A models folder like the installed one, with the mask classifier's IRs broken `how`."""
    shipped = config.models_dir()
    folder.mkdir()
    for item in shipped.iterdir():
        if item.name != "mask_classifier":
            (folder / item.name).symlink_to(item)
    (folder / "mask_classifier").mkdir()
    for item in (shipped / "mask_classifier").iterdir():
        if item.suffix not in (".xml", ".bin"):
            (folder / "mask_classifier" / item.name).symlink_to(item)
    core = ov.Core()
    for name in IR_NAMES:
        ov.save_model(BREAKS[how](core.read_model(shipped / "mask_classifier" / name)),
                      folder / "mask_classifier" / name)
    return folder


def test_a_good_install_passes(config):
    result = run_self_test(load_detector(config), load_classifier(config), config.decision, config.tracker)
    assert result.ok and result.detail == "ok", result


@pytest.mark.parametrize("how", list(BREAKS))
def test_a_broken_classifier_fails_and_names_the_photo(config, tmp_path, how):
    broken = config.replaced(runtime={"models_dir": str(broken_models(config, tmp_path / "models", how))})
    result = run_self_test(load_detector(broken), load_classifier(broken), broken.decision, broken.tracker)
    assert not result.ok and result.detail.startswith("failed: "), result
    assert "expected" in result.detail and "got" in result.detail, result


def test_after_a_failed_self_test_the_kiosk_passes_nobody_and_the_door_stays_held(config, tmp_path, masked_portrait):
    broken = config.replaced(runtime={"models_dir": str(broken_models(config, tmp_path / "models", "colour swap"))})
    camera = SimulatedIPCamera(frame_with_face(640, 480, masked_portrait)).plug()  # a masked face all along
    board = RelayBoard()
    # fail_state "open" would release the door for a lost camera; a failed self-test holds it all the same
    gate = {"mode": "hard", "pulse_ms": 400, "fail_state": "open", "serial_port": board.port}
    kiosk = Kiosk(broken.replaced(gate=gate, record={"enabled": False}), camera.url, web=False)
    states: list[GateState] = []
    kiosk.pipeline.broadcast.subscribe(lambda item: states.append(item.state))
    kiosk.start()
    try:
        wait_until(lambda: len(states) >= 90, 30, "three seconds of frames judged")
        health = kiosk.pipeline.health()
        assert not health.healthy and health.reason.startswith("self-test failed: ") and health.hold, health
        assert kiosk.pipeline.state == CameraState.OUT_OF_SERVICE
        wait_until(lambda: board.commands()[-1:] == [OFF] and kiosk.gate.status().fault, 10, "the fault held")
        assert "self-test failed" in kiosk.gate.status().fault
        running_commands = board.commands()  # stopping the service then leaves the door at fail_state, as ever
    finally:
        kiosk.stop()
        camera.unplug()
    assert GateState.PASS not in states, set(states)
    assert ON not in running_commands, running_commands


def test_an_out_of_service_kiosk_says_so_on_screen_healthz_and_metrics(config, tmp_path, videos):
    require_chromium()
    models = broken_models(config, tmp_path / "models", "classes swapped")
    kiosk = KioskServer(tmp_path, videos["masked"], settings={"runtime": {"models_dir": str(models)}}).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as unhealthy:
            urllib.request.urlopen(kiosk.url + "/healthz", timeout=5)
        body = json.loads(unhealthy.value.read())
        assert unhealthy.value.code == 503 and body["selftest"].startswith("failed: ") and body["state"] == \
            "OUT_OF_SERVICE", body
        metrics = kiosk.metrics()
        assert metrics["mask_kiosk_selftest_ok"] == 0 and metrics["mask_kiosk_healthy"] == 0
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(kiosk.url + "/")
            page.wait_for_function("document.querySelector('[data-state]')?.dataset.state === 'OUT_OF_SERVICE'",
                                   timeout=20000)
            assert page.locator(".gate-title").inner_text() == "OUT OF SERVICE"
            screenshot(page, "kiosk-out-of-service-1280x800")
    finally:
        kiosk.stop()
    log = (tmp_path / "server.log").read_text()
    assert "self-test failed: " in log and "out of service" in log
