"""Loads the run-time models once, as the config says."""
from __future__ import annotations

import math
from pathlib import Path

from kiosk.config import Config
from kiosk.vision.classifier import METADATA_NAME, MaskClassifier, load_metadata
from kiosk.vision.detectors.base import FaceDetector
from kiosk.vision.detectors.blazeface import BlazeFace
from kiosk.vision.detectors.retinaface import ANCHOR_SIZES, RetinaFace
from kiosk.vision.model_build import detector_xml
from kiosk.vision.runtime import compile_model

COARSEST_STRIDE = max(ANCHOR_SIZES)  # RetinaFace's feature maps divide its input by up to this


class ModelMissingError(RuntimeError):
    pass


def detector_key(config: Config) -> str:
    """The model_build key of the configured detector."""
    section = config.detector
    return "retinaface" if section.model == "retinaface" else f"blazeface_{section.variant}"


def _load_detector(config: Config, width: int, height: int) -> FaceDetector:
    """The configured detector; RetinaFace compiled for a width x height input, BlazeFace at its fixed size."""
    section = config.detector
    xml = detector_xml(config.models_dir(), detector_key(config))
    if not xml.exists():
        raise ModelMissingError(f"{xml}: face detector not built; run `mask-kiosk models build` (install.sh does)")
    if section.model == "retinaface":
        return RetinaFace(compile_model(xml, config, [1, height, width, 3]), section.min_score, section.nms_iou)
    return BlazeFace(compile_model(xml, config), section.variant, section.min_score, section.nms_iou)


def live_input_size(config: Config) -> tuple[int, int]:
    """`detector.input_size` shrunk to the camera's shape (its requested width and height), in whole multiples of
    RetinaFace's coarsest stride: a 16:9 camera in a 640x480 input would spend a quarter of every detection on
    letterbox padding. The picture's scale is the same, so the same faces are found."""
    width, height = config.detector.input_size
    camera = config.camera
    scale = min(width / camera.width, height / camera.height)
    fitted = (math.ceil(camera.width * scale / COARSEST_STRIDE) * COARSEST_STRIDE,
              math.ceil(camera.height * scale / COARSEST_STRIDE) * COARSEST_STRIDE)
    return min(fitted[0], width), min(fitted[1], height)


def load_detector(config: Config) -> FaceDetector:
    """The live detector: camera frames at `live_input_size`."""
    return _load_detector(config, *live_input_size(config))


def load_photo_detectors(config: Config) -> tuple[FaceDetector, FaceDetector]:
    """Still photos: the first pass at `photo.input_size`, the context pass at half of it."""
    size = config.photo.input_size
    if config.detector.model != "retinaface":
        detector = _load_detector(config, size, size)  # one fixed input: both passes share it
        return detector, detector
    return _load_detector(config, size, size), _load_detector(config, size // 2, size // 2)


def classifier_dir(config: Config) -> Path:
    return config.models_dir() / "mask_classifier"


CLASSIFIER_FILES = {"fp16": "mask_classifier.xml", "int8": "mask_classifier_int8.xml"}


def load_classifier(config: Config) -> MaskClassifier:
    model_dir = classifier_dir(config)
    xml = model_dir / CLASSIFIER_FILES[config.classifier.precision]
    if not (model_dir / METADATA_NAME).exists() or not xml.exists():
        raise ModelMissingError(f"{xml}: mask classifier missing; train it with `python -m training`")
    # f32: the model card's figures were measured so (bf16 moves probabilities by up to 0.5 on AMX CPUs)
    compiled = compile_model(xml, config, exact=True, threads=config.runtime.classifier_threads)
    return MaskClassifier(compiled, load_metadata(model_dir), config.classifier.max_batch)
