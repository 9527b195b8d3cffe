from __future__ import annotations

from pydantic import Field

from kiosk.config.base import Section


class TrackerConfig(Section):
    """Face tracking across frames. A face gets a label only once its last frames agree; when its frame label
    changes (another person stepped into the same place, or the mask came off) it is unlabelled until they agree
    again, so nobody is shown with the label of the person before."""

    confirm_frames: int = Field(2, ge=1, le=30, title="frames to confirm a label",
                                description="a face's label shows once this many frames in a row agree")
    min_iou: float = Field(0.3, ge=0.05, le=0.95, title="same face overlap (IoU)",
                           description="a face overlapping its last box this much is the same person")
    max_missed: int = Field(5, ge=0, le=100, title="frames a face may be missed",
                            description="a face unseen for more frames ends its track")
