"""Gate decision per frame: NO_FACE, CHECKING, PASS or STOP, with hysteresis.

It also says what each face shows with that state (`shown`): its label when it is in the entry zone and agrees
with the state, none otherwise, so that one frame's boxes never contradict its banner: a face outside the zone is
not judged on screen, and while a new state waits out `switch_ms` the faces behind it show no label yet."""
from __future__ import annotations

from kiosk.config.decision import DecisionConfig
from kiosk.types import GateState, Published, TrackedFace

VIOLATIONS = {"no_mask", "incorrect"}


def people_judged(item: Published) -> list[int]:
    """The track ids a PASS or STOP is about: every person in the zone under PASS, under STOP those it stops (their
    face shows no_mask or incorrect); none in any other state."""
    if item.state not in (GateState.PASS, GateState.STOP):
        return []
    in_zone = set(item.people)
    return [t.track_id for t in item.faces if t.track_id in in_zone
            and (item.state == GateState.PASS or t.label in VIOLATIONS)]


class GateDecision:
    """Turns the tracked faces of consecutive frames into one stable gate state."""

    def __init__(self, settings: DecisionConfig):
        self.settings = settings
        self.state = GateState.NO_FACE
        self._candidate = GateState.NO_FACE
        self._candidate_since = 0.0
        self.people: tuple[int, ...] = ()  # track ids in the zone at the last update
        self.reason: str | None = None     # why the state is PASS or STOP (the label behind it)
        self.in_zone: tuple[bool, ...] = ()           # per face of the last update, in its order
        self.shown: tuple[str | None, ...] = ()       # the label each face shows with the state

    def takes_part(self, tracked: TrackedFace, width: int, height: int) -> bool:
        """Whether the face takes part in the decision: its centre in the zone, and big enough."""
        x1, y1, x2, y2 = self.settings.zone
        bx1, by1, bx2, by2 = tracked.face.box
        centre_x, centre_y = (bx1 + bx2) / 2 / width, (by1 + by2) / 2 / height
        big_enough = (by2 - by1) / height >= self.settings.min_face_fraction
        return bool(big_enough and x1 <= centre_x <= x2 and y1 <= centre_y <= y2)

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
        self.in_zone = tuple(self.takes_part(tracked, width, height) for tracked in faces)
        in_zone = [tracked for tracked, inside in zip(faces, self.in_zone) if inside]
        raw = self.raw_state(in_zone, timestamp)
        if raw != self._candidate:
            self._candidate, self._candidate_since = raw, timestamp
        if raw != self.state and timestamp - self._candidate_since >= self.settings.switch_ms / 1000:
            self.state = raw
        self.people = tuple(sorted(f.track_id for f in in_zone))
        labels = {f.label for f in in_zone}
        if self.state == GateState.PASS:
            self.reason = "mask"
        elif self.state == GateState.STOP:
            # a bare face outranks a mask worn wrongly; while STOP still holds after the faces left, it keeps its reason
            self.reason = next((label for label in ("no_mask", "incorrect") if label in labels), self.reason)
        else:
            self.reason = None
        stopped_for = self.state == GateState.STOP and bool(labels & VIOLATIONS)
        self.shown = tuple(tracked.label if inside and _agrees(tracked.label, self.state, stopped_for) else None
                           for tracked, inside in zip(faces, self.in_zone))
        return self.state


def _agrees(label: str | None, state: GateState, stopped_for: bool) -> bool:
    """Whether a face's label can show beside the banner: a violation only under STOP, and a mask under STOP only
    beside the face that STOP is about."""
    if label in VIOLATIONS:
        return state == GateState.STOP
    return label != "mask" or state != GateState.STOP or stopped_for
