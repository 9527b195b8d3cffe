"""Loads the run-time models once, as the config says."""
from __future__ import annotations

from pathlib import Path

from kiosk.config import Config
from kiosk.face_detector import FaceDetector
from kiosk.mask_classifier import METADATA_NAME, MaskClassifier, load_metadata
from kiosk.model_build import detector_xml
from kiosk.runtime import compile_model


class ModelMissingError(RuntimeError):
    pass


def load_detector(config: Config) -> FaceDetector:
    section = config["detector"]
    xml = detector_xml(config.models_dir(), section["variant"])
    if not xml.exists():
        raise ModelMissingError(f"{xml}: face detector not built; run `mask-kiosk models build` (install.sh does)")
    return FaceDetector(compile_model(xml, config), section["variant"], section["min_score"], section["nms_iou"])


def classifier_dir(config: Config) -> Path:
    return config.models_dir() / "mask_classifier"


CLASSIFIER_FILES = {"fp16": "mask_classifier.xml", "int8": "mask_classifier_int8.xml"}


def load_classifier(config: Config) -> MaskClassifier:
    model_dir = classifier_dir(config)
    xml = model_dir / CLASSIFIER_FILES[config["classifier"]["precision"]]
    if not (model_dir / METADATA_NAME).exists() or not xml.exists():
        raise ModelMissingError(f"{xml}: mask classifier missing; train it with `python -m kiosk.train`")
    return MaskClassifier(compile_model(xml, config), load_metadata(model_dir), config["classifier"]["max_batch"])
