"""A camera made of generated frames, for evaluations and tests: the CameraSource interface, a frame made only
when the pipeline asks for the next one (nothing is dropped, so every frame is seen however fast or slow the box
is), each stamped with the time it would have at FPS. It ends when its frames do."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from kiosk.config.camera import CameraConfig
from kiosk.live.camera import CameraSource
from kiosk.types import Frame

FPS = 30.0


class GeneratedCamera(CameraSource):
    def __init__(self, frames: Iterator[np.ndarray], name: str):
        super().__init__(CameraConfig(source=name, loop=False, stall_timeout_s=30.0))
        self._frames = frames
        self._made = threading.Lock()
        self._started_at = 0.0
        self._running = False

    def start(self) -> GeneratedCamera:
        self._started_at, self._running, self._connected = time.monotonic(), True, True
        return self

    def stop(self) -> None:
        self._running = False

    @property
    def alive(self) -> bool:
        return self._running

    @property
    def connected(self) -> bool:
        return self._running and not self.ended

    def wait_newer(self, than_index: int, timeout: float) -> Frame | None:
        with self._made:
            frame = self._frame
            if frame is None or frame.index <= than_index:
                image = next(self._frames, None)
                if image is None:
                    self.ended = True
                    return None
                frame = Frame(image, self.frames_read, self._started_at + self.frames_read / FPS)
                self._frame, self.frames_read = frame, self.frames_read + 1
            return frame
