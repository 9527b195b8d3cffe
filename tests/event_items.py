"""Published frames for event-log tests, from the shipped portrait."""
from __future__ import annotations

import time

import cv2
import numpy as np

from kiosk.bench.samples import GRACE_HOPPER_FACE, frame_with_face
from kiosk.record.events import Verdict
from kiosk.types import Face, GateState, Published, TrackedFace

JPEG = cv2.imencode(".jpg", frame_with_face(640, 480))[1].tobytes()


def published(sequence: int, state: GateState, age_s: float = 0.0, label: str = "no_mask") -> Published:
    face = Face(np.array(GRACE_HOPPER_FACE), 0.9, np.zeros((6, 2)), label, 0.9)
    now = time.monotonic() - age_s
    reason = {GateState.PASS: "mask", GateState.STOP: label}.get(state)
    return Published(sequence, sequence, now, now, [TrackedFace(face, 1, label, now)], state, JPEG, 0, (640, 480),
                     people=(1,), reason=reason, shown=(label,), in_zone=(True,))


def verdict(sequence: int, state: GateState, age_s: float = 0.0, label: str = "no_mask",
            previous: str = "CHECKING") -> Verdict:
    """A row to write: one person's first verdict, half a second after they came."""
    return Verdict(published(sequence, state, age_s, label), previous, 1, 1, 0.5)


def frame(state: GateState, faces: list[tuple[int, str | None]], sequence: int = 0, at: float = 0.0) -> Published:
    """A published frame with these (track id, label) faces, all in the zone and all the verdict is about."""
    tracked = [TrackedFace(Face(np.array(GRACE_HOPPER_FACE), 0.9, np.zeros((5, 2)), label, 0.9), track, label, at)
               for track, label in faces]
    stopped_for = next((shown for _, shown in faces if shown != "mask"), None)
    reason = {GateState.PASS: "mask", GateState.STOP: stopped_for}.get(state)
    return Published(sequence, sequence, at, at, tracked, state, JPEG, 0, (640, 480),
                     people=tuple(track for track, _ in faces), reason=reason, in_zone=(True,) * len(faces))
