from __future__ import annotations

from typing import Literal

from pydantic import Field

from kiosk.config.base import Section


class DisplayConfig(Section):
    """The published picture and the kiosk screen."""

    max_width: int = Field(1280, ge=160, le=3840, title="display width",
                           description="published frames are scaled to fit, never enlarged")
    max_height: int = Field(720, ge=120, le=2160, title="display height",
                            description="published frames are scaled to fit, never enlarged")
    jpeg_quality: int = Field(80, ge=30, le=100, title="JPEG quality", description="of the published frames")
    language: Literal["en", "zh", "en+zh"] = Field("en", title="kiosk screen language",
                                                   description="en, zh (Simplified Chinese), or en+zh: both on the "
                                                               "kiosk screen, English first (sound in English; the "
                                                               "admin page has admin.language)")
    notice: str = Field("", max_length=200, title="privacy notice",
                        description="one line shown on the kiosk screen, e.g. who keeps the record and for how "
                                    "long; empty: none")
