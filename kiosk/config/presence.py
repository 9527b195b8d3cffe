from __future__ import annotations

from pydantic import Field

from kiosk.config.base import Section


class PresenceConfig(Section):
    """Presence-aware compute. While nobody is there the detector runs at a low rate; any motion in the picture or
    any face found brings it back to every frame at once, from the frame that moved. The screen's picture stays at
    the camera's rate throughout."""

    enabled: bool = Field(True, title="slow the detector while nobody is there",
                          description="false: the detector sees every frame, always")
    idle_after_s: float = Field(5.0, ge=0.5, le=600, title="idle after (s)",
                                description="no face and no motion for this long: the detector slows down")
    idle_detect_fps: float = Field(2.0, ge=0.2, le=30, title="detections per second while idle",
                                   description="how often the detector still looks while idle (a person standing "
                                               "perfectly still is found within 1 / this seconds)")
    motion_delta: int = Field(12, ge=2, le=128, title="motion: grey levels",
                              description="a pixel of the small grey copy has moved when it differs from the "
                                          "background by more than this")
    motion_share: float = Field(0.003, ge=0.0001, le=0.5, title="motion: share of the picture",
                                description="motion when more than this share of the small grey copy has moved")
