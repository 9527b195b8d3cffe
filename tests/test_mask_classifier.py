import json

import numpy as np
import pytest
from conftest import SHARED_DATASETS, shared_dataset

from kiosk.analyzer import load_analyzer
from kiosk.mask_classifier import CLASSES, crop_face
from kiosk.models import classifier_dir, load_classifier
from kiosk.samples import grace_hopper
from kiosk.train.dataset import all_samples, face_box, load_image, split
from kiosk.train.decision_rule import (
    apply_offsets,
    balanced_offsets,
    fit_offsets,
    recall,
)
from kiosk.train.metrics import classification_report


@pytest.fixture(scope="module")
def analyzer(config):
    return load_analyzer(config)


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


def card_balanced_accuracy(config) -> float:
    return json.loads((classifier_dir(config) / "metrics.json").read_text())["ir_validation"]["balanced_accuracy"]


def test_held_out_balanced_accuracy_matches_card(config, analyzer):
    shared_dataset("ilc2021-facecrops")
    shared_dataset("chandrikadeb7")
    _, validation = split(all_samples(SHARED_DATASETS))
    truth, predicted = [], []
    for sample in validation:
        image = load_image(sample)
        box, _ = face_box(analyzer, image, sample)
        if box is None:
            continue
        probabilities = analyzer.classifier.probabilities(analyzer.classifier.preprocess(image, [box]))
        truth.append(CLASSES.index(sample.label))
        predicted.append(int(probabilities.argmax()))
    report = classification_report(np.array(truth), np.array(predicted), CLASSES)
    assert report["samples"] > 1000
    assert report["balanced_accuracy"] > card_balanced_accuracy(config) - 0.03


def test_decision_rule_undoes_a_prior_shift_and_guards_recall():
    rng = np.random.default_rng(0)
    truth = rng.choice(3, 3000, p=[0.5, 0.4, 0.1])
    logits = rng.normal(size=(3000, 3))
    logits[np.arange(3000), truth] += 2.0
    logits[:, 2] += 1.0  # the network favours the rare class
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    offsets = balanced_offsets(probabilities, truth)
    assert offsets[0] == 0 and abs(offsets[2] + 1.0) < 0.15
    guarded = fit_offsets(probabilities, truth, guarded=1, min_recall=0.95)
    assert recall(apply_offsets(probabilities, guarded), truth, 1) >= 0.95
    assert guarded[1] > offsets[1] and guarded[2] == offsets[2]
