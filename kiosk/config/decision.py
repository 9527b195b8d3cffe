from __future__ import annotations

from pydantic import Field, field_validator

from kiosk.config.base import Section


class DecisionConfig(Section):
    """The gate decision: PASS, STOP, CHECKING or NO_FACE."""

    hold_ms: float = Field(800.0, ge=0, le=10000, title="mask seen before PASS (ms)",
                           description="a mask must be seen this long before PASS")
    switch_ms: float = Field(250.0, ge=0, le=5000, title="state must hold (ms)",
                             description="a new state must hold this long before it shows")
    zone: list[float] = Field([0.0, 0.0, 1.0, 1.0], title="entry zone",
                              description="[x1, y1, x2, y2] as fractions of the frame (drawn on the admin page's "
                                          "Entry zone tab); faces whose centre is outside it are ignored")
    min_face_fraction: float = Field(0.08, ge=0.0, le=1.0, title="smallest face (share of frame height)",
                                     description="faces smaller than this share of the frame height are ignored")

    max_people: int = Field(0, ge=0, le=20, title="people at a time (0: no limit)",
                            description="more faces than this in the zone: the screen asks for one at a time (the "
                                        "decision is unchanged)")
    hint_after_ms: float = Field(700.0, ge=0, le=10000, title="hint after (ms)",
                                 description="a hint (step closer, one at a time, face the camera, hold still) "
                                             "shows once its cause has held this long")

    @field_validator("zone")
    @classmethod
    def _zone_box(cls, value: list[float]) -> list[float]:
        if len(value) != 4 or not (0 <= value[0] < value[2] <= 1 and 0 <= value[1] < value[3] <= 1):
            raise ValueError("must be [x1, y1, x2, y2] fractions of the frame with x1 < x2 and y1 < y2")
        return value
