"""Builds the live pipeline from the config: camera -> models -> tracker -> decision -> display."""
from __future__ import annotations

from kiosk.camera import CameraSettings, CameraSource
from kiosk.config import Config
from kiosk.decision import DecisionSettings, GateDecision
from kiosk.image_input import ImageLimits
from kiosk.models import load_classifier, load_detector
from kiosk.pipeline import DisplaySettings, LivePipeline
from kiosk.tracker import FaceTracker


def camera_settings(config: Config, source: str | None = None) -> CameraSettings:
    section = dict(config["camera"])
    if source is not None:
        section["source"] = source
    return CameraSettings(**section)


def decision_settings(config: Config) -> DecisionSettings:
    decision = config["decision"]
    return DecisionSettings(decision["hold_ms"], decision["switch_ms"], tuple(decision["zone"]),
                            decision["min_face_fraction"])


def display_settings(config: Config) -> DisplaySettings:
    display = config["display"]
    return DisplaySettings(display["max_width"], display["max_height"], display["jpeg_quality"])


def image_limits(config: Config) -> ImageLimits:
    photo = config["photo"]
    return ImageLimits(int(photo["max_file_mb"] * 1e6), int(photo["max_megapixels"] * 1e6))


def build_pipeline(config: Config, source: str | None = None) -> LivePipeline:
    """A pipeline ready to start; `source` overrides camera.source (a video file for tests and benchmarks)."""
    return LivePipeline(
        source=CameraSource(camera_settings(config, source)),
        detector=load_detector(config),
        classifier=load_classifier(config),
        decision=GateDecision(decision_settings(config)),
        tracker=FaceTracker(**config["tracker"]),
        display=display_settings(config),
        jobs=config["pipeline"]["jobs"],
    )
