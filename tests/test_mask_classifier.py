import numpy as np
import pytest
from conftest import SHARED_DATASETS, shared_dataset

from kiosk.bench.samples import grace_hopper
from kiosk.vision.analyzer import load_analyzer
from kiosk.vision.classifier import CLASSES, crop_face
from kiosk.vision.models import load_classifier
from training.dataset import (
    all_samples,
    gate_faces,
    is_validation,
    prepare_crops,
)
from training.decision_rule import apply_offsets, balanced_offsets, fit_gate_offsets, stopped
from training.metrics import classification_report, gate_outcomes


def test_crop_is_square_around_the_box_with_margin():
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 90:110] = 255  # a 20 px white square
    crop = crop_face(image, np.array([90, 40, 110, 60]), margin=0.5, size=40)
    assert crop.shape == (40, 40, 3)
    assert crop[20, 20].tolist() == [255, 255, 255]
    assert crop[2, 2].tolist() == [0, 0, 0]     # the margin shows the surroundings
    assert crop[10:30, 10:30].min() > 200       # the box fills the middle half


def test_crop_outside_the_image_is_black():
    image = np.full((50, 50, 3), 255, np.uint8)
    crop = crop_face(image, np.array([-20, -20, 10, 10]), margin=0.0, size=30)
    assert crop[0, 0].tolist() == [0, 0, 0] and crop[-1, -1].tolist() == [255, 255, 255]


def test_all_faces_of_a_frame_in_one_batch(config):
    classifier = load_classifier(config)
    image = grace_hopper()
    boxes = [np.array([168.0, 150, 352, 335])] * 5
    crops = classifier.preprocess(image, boxes)
    assert crops.shape == (5, classifier.input_size, classifier.input_size, 3)
    probabilities = classifier.probabilities(crops)
    assert probabilities.shape == (5, len(CLASSES))
    np.testing.assert_allclose(probabilities.sum(1), 1, atol=1e-2)
    np.testing.assert_allclose(probabilities, probabilities[:1].repeat(5, 0), atol=1e-3)


@pytest.fixture(scope="module", params=["fp16", "int8"])
def analyzer_of_each_precision(request, config):
    return load_analyzer(config.replaced(classifier={"precision": request.param}))


def test_bare_face_is_no_mask(analyzer_of_each_precision):
    faces = analyzer_of_each_precision.analyse(grace_hopper())
    assert [f.label for f in faces] == ["no_mask"]
    assert faces[0].label_score > 0.5


def test_drawn_mask_is_mask(analyzer_of_each_precision, masked_portrait):
    faces = analyzer_of_each_precision.analyse(masked_portrait)
    assert [f.label for f in faces] == ["mask"]


def test_mask_below_the_nose_is_not_mask(analyzer_of_each_precision, below_nose_portrait):
    faces = analyzer_of_each_precision.analyse(below_nose_portrait)
    assert len(faces) == 1 and faces[0].label != "mask"


# Issue 21's acceptance figures on the validation split, fixed here: a retrained model cannot lower them (they
# are not read from anything training writes)
FRAME_FLOORS = {"bare_stopped": 0.995, "incorrect_stopped": 0.90, "masks_passed": 0.97}
SCENE_SETS_NEEDED = ("ilc2021-scenes", "ilc2021-scenes-extra")


@pytest.fixture(scope="module")
def validation_faces(config):
    """The validation split's gate faces, cut the run-time way (detector with the photo settings)."""
    for name in (*SCENE_SETS_NEEDED, "chandrikadeb7"):
        shared_dataset(name)
    validation = [s for s in all_samples(SHARED_DATASETS) if is_validation(s.group)]
    crops = prepare_crops(validation, config, cache=None, input_size=load_classifier(config).input_size)
    chosen = gate_faces(crops)
    truth = np.array([CLASSES.index(validation[i].label) for i in crops["index"]])
    return crops["exact"][chosen], truth[chosen]


@pytest.mark.slow(minutes=3)
@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_gate_outcomes_per_frame_on_held_out_faces(config, validation_faces, precision):
    crops, truth = validation_faces
    assert all(np.bincount(truth, minlength=3) >= 80)
    classifier = load_classifier(config.replaced(classifier={"precision": precision}))
    report = classification_report(truth, classifier.probabilities(crops).argmax(1), CLASSES)
    outcomes = gate_outcomes(report, CLASSES)
    assert all(outcomes[key] >= floor for key, floor in FRAME_FLOORS.items()), (outcomes, report["confusion"])


def test_decision_rule_undoes_a_prior_shift_and_stops_the_guarded_classes():
    rng = np.random.default_rng(0)
    truth = rng.choice(3, 3000, p=[0.5, 0.4, 0.1])
    logits = rng.normal(size=(3000, 3))
    logits[np.arange(3000), truth] += 2.0
    logits[:, 2] += 1.0  # the network favours the rare class
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    offsets = balanced_offsets(probabilities, truth)
    assert offsets[0] == 0 and abs(offsets[2] + 1.0) < 0.15
    guarded = fit_gate_offsets(probabilities, truth, passing=0, targets={1: 0.99, 2: 0.97})
    adjusted = apply_offsets(probabilities, guarded)
    assert stopped(adjusted, truth, 1, 0) >= 0.99 and stopped(adjusted, truth, 2, 0) >= 0.97
    assert guarded[1] > offsets[1] and guarded[2] > offsets[2] and guarded[0] == 0
    assert stopped(adjusted, truth, 0, 0) < 0.5  # most masks still pass
