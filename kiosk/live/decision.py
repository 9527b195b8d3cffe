"""Gate decision per frame: NO_FACE, CHECKING, PASS or STOP, with hysteresis."""
from __future__ import annotations

from kiosk.config.decision import DecisionConfig
from kiosk.types import GateState, TrackedFace

VIOLATIONS = {"no_mask", "incorrect"}


class GateDecision:
    """Turns the tracked faces of consecutive frames into one stable gate state."""

    def __init__(self, settings: DecisionConfig):
        self.settings = settings
        self.state = GateState.NO_FACE
        self._candidate = GateState.NO_FACE
        self._candidate_since = 0.0

    def faces_in_zone(self, faces: list[TrackedFace], width: int, height: int) -> list[TrackedFace]:
        x1, y1, x2, y2 = self.settings.zone
        chosen = []
        for tracked in faces:
            bx1, by1, bx2, by2 = tracked.face.box
            centre_x, centre_y = (bx1 + bx2) / 2 / width, (by1 + by2) / 2 / height
            big_enough = (by2 - by1) / height >= self.settings.min_face_fraction
            if big_enough and x1 <= centre_x <= x2 and y1 <= centre_y <= y2:
                chosen.append(tracked)
        return chosen

    def raw_state(self, faces: list[TrackedFace], timestamp: float) -> GateState:
        if not faces:
            return GateState.NO_FACE
        if any(f.label in VIOLATIONS for f in faces):
            return GateState.STOP
        hold_s = self.settings.hold_ms / 1000
        if all(f.label == "mask" and timestamp - f.label_since >= hold_s for f in faces):
            return GateState.PASS
        return GateState.CHECKING

    def update(self, faces: list[TrackedFace], width: int, height: int, timestamp: float) -> GateState:
        raw = self.raw_state(self.faces_in_zone(faces, width, height), timestamp)
        if raw != self._candidate:
            self._candidate, self._candidate_since = raw, timestamp
        if raw != self.state and timestamp - self._candidate_since >= self.settings.switch_ms / 1000:
            self.state = raw
        return self.state
