"""Still-image analysis: detector, then (when shipped) the mask classifier."""
from __future__ import annotations

import json
from typing import Iterator

import numpy as np
import openvino as ov

from kiosk.config import Config
from kiosk.face_detector import Face, FaceDetector
from kiosk.model_build import MANIFEST_NAME
from kiosk.mask_classifier import MaskClassifier
from kiosk.models import load_classifier, load_detector
from kiosk.runtime import core, resolve_device


class PhotoAnalyzer:
    """Faces and mask labels of one still photo, with the photo settings.

    Without a classifier (training data preparation), faces keep label None.
    """

    def __init__(self, detector: FaceDetector, classifier: MaskClassifier | None, padding: float, min_score: float):
        self.detector = detector
        self.classifier = classifier
        self.padding = padding
        self.min_score = min_score

    def analyse(self, image: np.ndarray) -> list[Face]:
        faces = self.detector.detect(image, self.padding, self.min_score)
        return self.classifier.classify(image, faces) if self.classifier else faces


def load_analyzer(config: Config, with_classifier: bool = True) -> PhotoAnalyzer:
    classifier = load_classifier(config) if with_classifier else None
    return PhotoAnalyzer(load_detector(config), classifier, config["photo"]["padding"], config["photo"]["min_score"])


def describe_setup(config: Config, detector: FaceDetector, classifier: MaskClassifier) -> Iterator[str]:
    """Lines for `mask-kiosk check` and the admin page: runtime, device, models."""
    yield f"openvino: {ov.__version__}"
    yield f"devices available: {', '.join(core().available_devices)}"
    requested = config["runtime"]["device"]
    yield f"device: {requested} -> {resolve_device(requested)} ({config['runtime']['performance_hint']} hint)"
    yield f"model cache: {config.cache_dir() / 'openvino'}"
    manifest_path = config.models_dir() / MANIFEST_NAME
    if manifest_path.exists():
        source = json.loads(manifest_path.read_text())["source"]
        yield f"detector source: {source['package']} sha256 {source['sha256'][:12]}"
    yield f"face detector: {detector.variant} range, input {detector.input_size}px, {len(detector.anchors)} anchors"
    yield (f"mask classifier: {config['classifier']['precision']}, {', '.join(classifier.classes)}, "
           f"input {classifier.input_size}px, margin {classifier.margin}, max batch {classifier.max_batch}")
