from __future__ import annotations

from pydantic import Field

from kiosk.config.base import Section


class TrackerConfig(Section):
    """Face tracking across frames; a face's label is the majority of its recent frames."""

    history: int = Field(5, ge=1, le=30, title="label history (frames)",
                         description="label = majority over this many frames")
    min_iou: float = Field(0.3, ge=0.05, le=0.95, title="same face overlap (IoU)",
                           description="a face overlapping its last box this much is the same person")
    max_missed: int = Field(5, ge=0, le=100, title="frames a face may be missed",
                            description="a face unseen for more frames ends its track")
