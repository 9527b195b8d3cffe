import logging

import pytest

from kiosk.vision.model_build import detector_xml
from kiosk.vision.runtime import compile_model, core, resolve_device


def test_core_is_created_once():
    assert core() is core()


def test_missing_device_falls_back_to_cpu_with_warning(caplog):
    if any(device.startswith("GPU") for device in core().available_devices):
        pytest.skip("this machine has a GPU")
    with caplog.at_level(logging.WARNING):
        assert resolve_device("GPU") == "CPU"
    assert "falling back to CPU" in caplog.text


def test_compile_writes_model_cache(config, tmp_path):
    cached = config.replaced(runtime={"cache_dir": str(tmp_path), "device": "CPU"})
    compile_model(detector_xml(config.models_dir(), "blazeface_short"), cached)
    assert any((tmp_path / "openvino").iterdir())


@pytest.mark.parametrize("device", ["CPU", "AUTO"])
def test_inference_threads_reach_openvino_and_change_no_result(config, device):
    import numpy as np
    import openvino.properties as props

    from kiosk.bench.samples import frame_with_face
    from kiosk.vision.models import load_detector
    frame = frame_with_face(640, 480)
    outputs = {}
    for threads in (0, 1):
        detector = load_detector(config.replaced(runtime={"device": device, "inference_threads": threads}))
        if device == "CPU":
            assert (detector.compiled.get_property(props.inference_num_threads) == 1) == (threads == 1)
        outputs[threads] = [(face.box, face.score, face.keypoints) for face in detector.detect(frame, min_score=0.05)]
    assert len(outputs[0]) == len(outputs[1]) >= 1
    assert all(np.array_equal(a, b) for one, other in zip(outputs[0], outputs[1]) for a, b in zip(one, other))
