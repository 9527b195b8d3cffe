"""Published frames for event-log tests, from the shipped portrait."""
from __future__ import annotations

import time

import cv2
import numpy as np

from kiosk.bench.samples import GRACE_HOPPER_FACE, frame_with_face
from kiosk.types import Face, GateState, Published, TrackedFace

JPEG = cv2.imencode(".jpg", frame_with_face(640, 480))[1].tobytes()


def published(sequence: int, state: GateState, age_s: float = 0.0, label: str = "no_mask") -> Published:
    face = Face(np.array(GRACE_HOPPER_FACE), 0.9, np.zeros((6, 2)), label, 0.9)
    now = time.monotonic() - age_s
    reason = {GateState.PASS: "mask", GateState.STOP: label}.get(state)
    return Published(sequence, sequence, now, now, [TrackedFace(face, 1, label, now)], state, JPEG, 0, (640, 480),
                     people=(1,), reason=reason, shown=(label,), in_zone=(True,))
