"""Builds the live pipeline from the config: camera -> models -> tracker -> decision -> display."""
from __future__ import annotations

from kiosk.config import Config
from kiosk.config.camera import CameraConfig
from kiosk.live.camera import CameraSource
from kiosk.live.decision import GateDecision
from kiosk.live.pipeline import LivePipeline
from kiosk.vision.image_input import MB, ImageLimits
from kiosk.vision.models import load_classifier, load_detector


def camera_settings(config: Config, source: str | None = None) -> CameraConfig:
    """The camera section, with `source` (a --source override) in place of camera.source when given."""
    return config.camera if source is None else config.camera.model_copy(update={"source": source})


def image_limits(config: Config) -> ImageLimits:
    return ImageLimits(int(config.photo.max_file_mb * MB), int(config.photo.max_megapixels * 1e6))


def build_pipeline(config: Config, source: str | None = None) -> LivePipeline:
    """A pipeline ready to start; `source` overrides camera.source (a video file for tests and benchmarks)."""
    return LivePipeline(
        source=CameraSource(camera_settings(config, source)),
        detector=load_detector(config),
        classifier=load_classifier(config),
        decision=GateDecision(config.decision),
        tracker=config.tracker,
        display=config.display,
        jobs=config.pipeline.jobs,
    )
