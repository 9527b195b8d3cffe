from __future__ import annotations

from typing import Literal

from pydantic import Field

from kiosk.config.base import Section


class ClassifierConfig(Section):
    """Mask classifier (models_ir/mask_classifier/MODEL_CARD.md); crop margin and input size come with it."""

    max_batch: int = Field(8, ge=1, le=64, title="faces per call",
                           description="faces classified in one inference call; the largest go first")
    precision: Literal["fp16", "int8"] = Field(
        "int8", title="precision", description="int8 (NNCF-quantized, faster) or fp16; figures in the model card")
