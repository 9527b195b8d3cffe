"""Still-image analysis: the photo passes of the detector, then (when given) the mask classifier."""
from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import openvino as ov

from kiosk.config import Config
from kiosk.types import Face
from kiosk.vision.classifier import MaskClassifier
from kiosk.vision.detectors.base import NESTED_INSIDE, FaceDetector
from kiosk.vision.imageops import nested, nms
from kiosk.vision.model_build import MANIFEST_NAME
from kiosk.vision.models import detector_key, load_classifier, load_detector, load_photo_detectors
from kiosk.vision.runtime import core, resolve_device

# Upscaled close-ups break into face-part "faces" in the first pass; faces taller than this share of its input
# are left to the context pass, which sees them at a third of the size (measured: models_ir/DETECTORS.md).
MAIN_PASS_MAX_HEIGHT = 1 / 3


class PhotoAnalyzer:
    """Faces and mask labels of one still photo, with the photo settings.

    Two detector passes: the photo as it is, for small and middle faces, then with a black border of
    `padding` at half the input, for large faces and close-ups whose face runs off the edge; overlapping
    finds are merged by NMS (padding 0: the first pass alone, for all sizes). Without a classifier (training
    data preparation), faces keep label None. One photo at a time: the detectors' requests are shared.
    """

    def __init__(self, detector: FaceDetector, context_detector: FaceDetector, classifier: MaskClassifier | None,
                 padding: float, min_score: float):
        self.detector = detector
        self.context_detector = context_detector
        self.classifier = classifier
        self.padding = padding
        self.min_score = min_score

    def find_faces(self, image: np.ndarray) -> list[Face]:
        faces = self.detector.detect(image, 0.0, self.min_score, MAIN_PASS_MAX_HEIGHT if self.padding > 0 else 1.0)
        if self.padding > 0:
            faces += self.context_detector.detect(image, self.padding, self.min_score)
            if len(faces) > 1:
                boxes, scores = np.stack([f.box for f in faces]), np.array([f.score for f in faces])
                kept = nms(boxes, scores, self.detector.nms_iou)
                kept = kept[nested(boxes[kept], scores[kept], NESTED_INSIDE)]
                faces = [faces[i] for i in kept]
        return faces

    def analyse(self, image: np.ndarray) -> list[Face]:
        faces = self.find_faces(image)
        return self.classifier.classify(image, faces) if self.classifier else faces


def build_analyzer(config: Config, classifier: MaskClassifier | None) -> PhotoAnalyzer:
    detector, context_detector = load_photo_detectors(config)
    return PhotoAnalyzer(detector, context_detector, classifier, config.photo.padding,
                         config.photo.min_score)


def load_analyzer(config: Config, with_classifier: bool = True) -> PhotoAnalyzer:
    return build_analyzer(config, load_classifier(config) if with_classifier else None)


def load_live_analyzer(config: Config, with_classifier: bool = True) -> PhotoAnalyzer:
    """Still images seen as the live pipeline sees a camera frame: one pass at the live input and threshold."""
    detector = load_detector(config)
    return PhotoAnalyzer(detector, detector, load_classifier(config) if with_classifier else None, 0.0,
                         detector.min_score)


def describe_setup(config: Config, detector: FaceDetector, classifier: MaskClassifier) -> Iterator[tuple[str, str]]:
    """(what, value) for `mask-kiosk check` and the admin page: runtime, device, models. The labels are fixed
    texts (the admin page translates them); the values are names, figures and paths."""
    yield "runtime", f"OpenVINO {ov.__version__}"
    yield "devices available", ", ".join(core().available_devices)
    requested = config.runtime.device
    yield "device", f"{requested} → {resolve_device(requested)}"
    yield "hint", config.runtime.performance_hint
    yield "model cache", str(config.cache_dir() / "openvino")
    manifest_path = config.models_dir() / MANIFEST_NAME
    if manifest_path.exists():
        source = json.loads(manifest_path.read_text())["models"][detector_key(config)]["source"]
        yield "detector source", f"{source['package']} sha256 {source['sha256'][:12]}"
    yield "face detector, live", f"{detector.name} {detector.input_width}x{detector.input_height}"
    yield "live threshold", f"{detector.min_score}"
    photo = config.photo
    size = photo.input_size
    passes = f"{size}x{size} + {size // 2}x{size // 2}" if config.detector.model == "retinaface" else \
        f"{detector.input_width}x{detector.input_height} + {detector.input_width}x{detector.input_height}"
    yield "face detector, photos", passes
    yield "border", f"{photo.padding}"
    yield "photo threshold", f"{photo.min_score}"
    yield "mask classifier", f"{classifier.input_size} px, {config.classifier.precision}"
    yield "margin", f"{classifier.margin}"
    yield "max batch", f"{classifier.max_batch}"
