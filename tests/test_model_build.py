import json

from kiosk.model_build import DETECTOR_WHEEL_SHA256, MANIFEST_NAME, build_detector_models, sha256_of


def test_manifest_records_source_and_files(config):
    models_dir = config.models_dir()
    manifest = json.loads((models_dir / MANIFEST_NAME).read_text())
    assert manifest["source"]["sha256"] == DETECTOR_WHEEL_SHA256
    for variant, size in (("short", 128), ("full", 192)):
        entry = manifest["models"][variant]
        assert sha256_of(models_dir / entry["bin"]) == entry["bin_sha256"]
        assert list(entry["inputs"].values()) == [f"[1,{size},{size},3]"]


def test_rebuild_is_a_no_op_when_current(config):
    assert build_detector_models(config.models_dir()) is False
