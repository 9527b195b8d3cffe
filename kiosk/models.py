"""Loads the run-time models once, as the config says."""
from __future__ import annotations

from kiosk.config import Config
from kiosk.face_detector import FaceDetector
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
