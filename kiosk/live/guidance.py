"""What the person at the gate can do to be judged: step closer, one at a time, face the camera, hold still.

Guarantees: a hint comes only from what the pipeline already has (boxes, keypoints, the zone, the face's pixels),
never changes the gate decision, shows only while the gate says CHECKING or NO_FACE, and only after it has held
for `decision.hint_after_ms` (a condition that comes and goes from frame to frame never shows); it goes as soon as
its condition does.
- step_closer: nobody takes part, and a face is in the zone but smaller than `decision.min_face_fraction`, or at
  its edge (the box reaches into the zone, the centre does not).
- one_at_a_time: more faces take part than `decision.max_people` (0: no limit).
- face_camera: the nearest face is turned aside: the nose tip is off the eyes' midpoint by more than TURNED_RATIO
  of the distance between the eyes (about 30 degrees).
- hold_still: the nearest face is blurred: its sharpness (the Laplacian's variance on a SHARPNESS_SIDE grey copy)
  is under BLURRED_SHARE of the sharpest of its own last SHARPNESS_FRAMES frames. A face is compared with itself
  because sharpness varies tenfold between faces. Measured with `python -m training.hold_still` on the scene
  photos' 1,031 faces at least 48 px tall: a step of 15 % of the face's width during the exposure leaves 87 % of
  them under 0.4 of their own sharpness, while the same face unblurred, at 80-100 % of its size and with sensor
  noise, falls under it 0.3 % of the time.
"""
from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from kiosk.config.decision import DecisionConfig
from kiosk.types import GateState, TrackedFace

HINTS = ("one_at_a_time", "step_closer", "face_camera", "hold_still")
TURNED_RATIO = 0.35
SHARPNESS_SIDE = 48
BLURRED_SHARE = 0.4
SHARPNESS_FRAMES = 90   # 3 s: a person who keeps moving is told so for that long


def sharpness(image: np.ndarray, box: np.ndarray) -> float | None:
    """The Laplacian's variance of the face's grey copy at SHARPNESS_SIDE px (None for a box off the picture)."""
    height, width = image.shape[:2]
    x1, y1 = max(int(box[0]), 0), max(int(box[1]), 0)
    x2, y2 = min(int(box[2]), width), min(int(box[3]), height)
    if x2 - x1 < 4 or y2 - y1 < 4:
        return None
    crop = cv2.resize(image[y1:y2, x1:x2], (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_32F).var())


def turned_aside(keypoints: np.ndarray) -> bool:
    eye_a, eye_b, nose = keypoints[0], keypoints[1], keypoints[2]
    eyes = abs(float(eye_b[0] - eye_a[0]))
    return eyes < 1.0 or abs(float(nose[0] - (eye_a[0] + eye_b[0]) / 2)) > TURNED_RATIO * eyes


class Guidance:
    def __init__(self, settings: DecisionConfig):
        self.settings = settings
        self.hint: str | None = None
        self._candidate: str | None = None
        self._since = 0.0
        self._sharpness: dict[int, deque[float]] = {}  # per track: its recent frames

    def update(self, faces: list[TrackedFace], in_zone: tuple[bool, ...], image: np.ndarray, timestamp: float,
               state: GateState) -> str | None:
        """This frame's faces (with the decision's in_zone flags) and the gate state it shows; returns the hint."""
        sharp = {t.track_id: value for t in faces if (value := sharpness(image, t.face.box)) is not None}
        candidate = self._condition(faces, in_zone, image.shape[1], image.shape[0], sharp) \
            if state in (GateState.CHECKING, GateState.NO_FACE) else None
        self._sharpness = {track_id: self._sharpness.get(track_id, deque(maxlen=SHARPNESS_FRAMES))
                           for track_id in sharp}  # a track unseen this frame starts again: harmless
        for track_id, value in sharp.items():
            self._sharpness[track_id].append(value)
        if candidate != self._candidate:
            self._candidate, self._since = candidate, timestamp
        if candidate is not None and timestamp - self._since >= self.settings.hint_after_ms / 1000:
            self.hint = candidate
        elif candidate != self.hint:
            self.hint = None  # its condition has gone: so has the hint, and another one waits its turn
        return self.hint

    def _condition(self, faces: list[TrackedFace], in_zone: tuple[bool, ...], width: int, height: int,
                   sharp: dict[int, float]) -> str | None:
        takers = [tracked for tracked, inside in zip(faces, in_zone) if inside]
        if self.settings.max_people and len(takers) > self.settings.max_people:
            return "one_at_a_time"
        if not takers:
            return "step_closer" if any(self._near(t, width, height) for t in faces) else None
        nearest = max(takers, key=lambda t: t.face.box[3] - t.face.box[1])
        if turned_aside(nearest.face.keypoints):
            return "face_camera"
        history, now = self._sharpness.get(nearest.track_id), sharp.get(nearest.track_id)
        if history and now is not None and now < BLURRED_SHARE * max(history):
            return "hold_still"
        return None

    def _near(self, tracked: TrackedFace, width: int, height: int) -> bool:
        """In the zone but too small, or at its edge: the box reaches into it, the centre does not."""
        x1, y1, x2, y2 = self.settings.zone
        bx1, by1, bx2, by2 = tracked.face.box / np.array([width, height, width, height])
        centre_in = x1 <= (bx1 + bx2) / 2 <= x2 and y1 <= (by1 + by2) / 2 <= y2
        overlaps = bx1 < x2 and bx2 > x1 and by1 < y2 and by2 > y1
        return bool(overlaps and (not centre_in or by2 - by1 < self.settings.min_face_fraction))
