"""Still-image analysis: detector, then (when shipped) the mask classifier."""
from __future__ import annotations

import json
import time
from typing import Iterator

import numpy as np
import openvino as ov

from kiosk.config import Config
from kiosk.face_detector import Face, FaceDetector
from kiosk.model_build import MANIFEST_NAME
from kiosk.models import load_detector
from kiosk.runtime import core, resolve_device


class PhotoAnalyzer:
    """Faces and mask labels of one still photo, with the photo settings."""

    def __init__(self, detector: FaceDetector, padding: float, min_score: float):
        self.detector = detector
        self.padding = padding
        self.min_score = min_score

    def analyse(self, image: np.ndarray) -> list[Face]:
        return self.detector.detect(image, self.padding, self.min_score)


def load_analyzer(config: Config) -> PhotoAnalyzer:
    return PhotoAnalyzer(load_detector(config), config["photo"]["padding"], config["photo"]["min_score"])


def describe_setup(config: Config) -> Iterator[str]:
    """Lines for `mask-kiosk check`: runtime, device, models; compiles each model once."""
    yield f"openvino: {ov.__version__}"
    yield f"devices available: {', '.join(core().available_devices)}"
    requested = config["runtime"]["device"]
    yield f"device: {requested} -> {resolve_device(requested)}"
    yield f"model cache: {config.cache_dir() / 'openvino'}"
    manifest_path = config.models_dir() / MANIFEST_NAME
    if manifest_path.exists():
        source = json.loads(manifest_path.read_text())["source"]
        yield f"detector source: {source['package']} sha256 {source['sha256'][:12]}"
    started = time.perf_counter()
    detector = load_detector(config)
    yield (f"face detector: {detector.variant} range, input {detector.input_size}px, "
           f"{len(detector.anchors)} anchors, compiled in {time.perf_counter() - started:.2f} s")
