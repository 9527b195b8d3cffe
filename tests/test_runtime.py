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
