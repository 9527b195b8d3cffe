"""Presence-aware compute: which camera frames the detector sees.

Guarantees: while a face was found or the picture moved within `idle_after_s`, every frame is detected. After
that the kiosk is idle and frames are detected at `idle_detect_fps`; the first frame that moves is detected itself
and ends the idle spell, so a person stepping in is looked for on the frame they appear in. Motion is a small grey
copy of the frame compared with a slowly updated background (a few hundred microseconds a frame).
`wants` runs on the submit thread, `saw_faces` on the publisher's.
"""
from __future__ import annotations

import cv2
import numpy as np

from kiosk.config.presence import PresenceConfig

MOTION_SIZE = (64, 48)     # the grey copy: large enough for a face across the room, too small for sensor noise
BACKGROUND_RATE = 0.05     # the background follows the picture over about a second (lighting drifts)


class PresenceGate:
    def __init__(self, settings: PresenceConfig):
        self.settings = settings
        self._background: np.ndarray | None = None
        self._last_presence = -float("inf")   # monotonic time of the last motion or face
        self._last_detected = -float("inf")

    def moved(self, image: np.ndarray) -> bool:
        """Whether this frame differs from the background enough to be someone (and learns it)."""
        step = max(1, image.shape[1] // (2 * MOTION_SIZE[0]))  # every step-th pixel, then averaged: 4 per cell
        small = cv2.resize(image[::step, ::step], MOTION_SIZE, interpolation=cv2.INTER_AREA)
        small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        small = small.astype(np.float32)
        if self._background is None or self._background.shape != small.shape:
            self._background = small
            return True  # a first frame (or a new camera): look
        changed = float(np.mean(np.abs(small - self._background) > self.settings.motion_delta))
        cv2.accumulateWeighted(small, self._background, BACKGROUND_RATE)
        return changed > self.settings.motion_share

    def wants(self, image: np.ndarray, now: float) -> bool:
        """Whether the detector should see this frame, captured at `now` (monotonic)."""
        if not self.settings.enabled:
            return True
        if self.moved(image):
            self._last_presence = now
        if not self.idle(now) or now - self._last_detected >= 1.0 / self.settings.idle_detect_fps:
            self._last_detected = now
            return True
        return False

    def saw_faces(self, now: float) -> None:
        self._last_presence = max(self._last_presence, now)

    def idle(self, now: float) -> bool:
        return self.settings.enabled and now - self._last_presence > self.settings.idle_after_s
