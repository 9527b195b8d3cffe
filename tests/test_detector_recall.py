"""Face recall of the shipped detector on whole real photos (ilc2021-scenes), per class, faces >= 32 px tall.

The floors are fixed here; the figures on all photos are in models_ir/DETECTORS.md (`mask-kiosk eval`).
"""
import pytest
from conftest import shared_dataset

from kiosk.vision.analyzer import load_analyzer, load_live_analyzer
from kiosk.vision.classifier import CLASSES
from kiosk.vision.evaluate import evaluate, read_voc
from kiosk.vision.image_input import image_limits

LIVE_RECALL_FLOOR = 0.90   # every photo, as the live pipeline sees a frame (detector.input_size)
PHOTO_RECALL_FLOOR = 0.93  # every third photo, with the photo settings (detect, eval, "check a photo")


@pytest.fixture(scope="module")
def scenes():
    return read_voc(shared_dataset("ilc2021-scenes"))


def recalls(report: dict) -> dict[str, float]:
    return {cls: report["recall"][cls]["recall"] for cls in CLASSES}


@pytest.mark.slow
def test_live_input_finds_masked_bare_and_wrongly_masked_faces(config, scenes):
    assert len(scenes) >= 300
    report = evaluate(load_live_analyzer(config, with_classifier=False), scenes, 32, image_limits(config))
    assert all(report["recall"][cls]["faces"] >= 300 for cls in CLASSES)
    assert min(recalls(report).values()) >= LIVE_RECALL_FLOOR, recalls(report)


@pytest.mark.slow
def test_photo_settings_find_faces_of_every_class(config, scenes):
    report = evaluate(load_analyzer(config, with_classifier=False), scenes[::3], 32, image_limits(config))
    assert min(recalls(report).values()) >= PHOTO_RECALL_FLOOR, recalls(report)
