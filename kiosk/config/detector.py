from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kiosk.config.base import Section

Pixels = Annotated[int, Field(ge=128, le=1920)]


class DetectorConfig(Section):
    """Face detector for the live camera (models_ir/DETECTORS.md)."""

    model: Literal["retinaface", "blazeface"] = Field(
        "retinaface", title="face detector",
        description="retinaface (finds masked faces) or blazeface (faster, misses many masked faces)")
    variant: Literal["full", "short"] = Field(
        "full", title="BlazeFace range",
        description="BlazeFace only: full range sees faces farther away; short is faster")
    input_size: list[Pixels] = Field(
        [640, 480], min_length=2, max_length=2, title="live input [width, height]",
        description="RetinaFace live input in pixels at most: it shrinks to the camera's shape (a 1280x720 "
                    "camera: 640x384), and frames are letterboxed into it")
    min_score: float = Field(0.5, ge=0.05, le=0.99, title="face detection threshold",
                             description="faces scored lower are not faces")
    nms_iou: float = Field(0.3, ge=0.05, le=0.95, title="overlap merge (IoU)",
                           description="detections overlapping more than this are one face")
