"""Frame sources: a USB camera (V4L2), a video file (looping, paced) or a network stream.

A capture thread keeps only the newest frame; a consumer that falls behind
loses the stale ones (counted). When frames stop, the source says so and
reopens by itself with a growing pause, except a video file with `loop` off:
at its end the source says it ended and stays so.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from kiosk.config.camera import CameraConfig
from kiosk.live.metrics import RateMeter
from kiosk.types import Frame

log = logging.getLogger(__name__)
# OpenCV warns on every failed open; the reconnect loop logs each new reason once instead
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

RETRY_FIRST_S = 0.5
RETRY_MAX_S = 5.0


def source_kind(source: str) -> str:
    if source.isdigit() or source.startswith("/dev/"):
        return "device"
    if "://" in source:
        return "stream"
    return "file"


def open_capture(settings: CameraConfig) -> cv2.VideoCapture:
    """Opened capture for the settings; raises OSError when it cannot be opened."""
    kind = source_kind(settings.source)
    if kind == "device":
        target = int(settings.source) if settings.source.isdigit() else settings.source
        capture = cv2.VideoCapture(target, cv2.CAP_V4L2)
        if capture.isOpened():
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, settings.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, settings.height)
            capture.set(cv2.CAP_PROP_FPS, settings.fps)
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver must not queue old frames
    elif kind == "stream":
        capture = cv2.VideoCapture(settings.source, cv2.CAP_FFMPEG, [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 3000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 3000])
    else:
        if not Path(settings.source).is_file():
            raise OSError("no such video file")
        capture = cv2.VideoCapture(settings.source)
    if not capture.isOpened():
        capture.release()
        raise OSError("cannot open")
    return capture


class CameraSource:
    """Runs the capture thread; `latest()` and `wait_newer()` hand out the newest frame."""

    def __init__(self, settings: CameraConfig):
        self.settings = settings
        self._condition = threading.Condition()
        self._frame: Frame | None = None
        self._consumed_index = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_read = 0
        self.frames_dropped = 0
        self.capture_rate = RateMeter()
        self.reconnects = 0
        self.last_error = ""
        self.last_activity = time.monotonic()  # last open attempt or read return: a hung driver stops it
        self._connected = False
        self.ended = False  # a video file played to its end with loop off

    def start(self) -> CameraSource:
        self._thread = threading.Thread(target=self._run, name="camera-capture", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._condition:
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def connected(self) -> bool:
        """True while frames arrive; a reader blocked on a dead device counts as disconnected after the stall
        timeout."""
        frame = self._frame
        fresh = frame is not None and time.monotonic() - frame.captured < self.settings.stall_timeout_s
        return self._connected and fresh

    def latest(self) -> Frame | None:
        return self._frame

    def wait_newer(self, than_index: int, timeout: float) -> Frame | None:
        """The newest frame with a higher index, waiting up to timeout; None when none came."""
        with self._condition:
            self._condition.wait_for(
                lambda: self._stop.is_set() or (self._frame is not None and self._frame.index > than_index), timeout)
            frame = self._frame
            if frame is None or frame.index <= than_index:
                return None
            self._consumed_index = frame.index
            return frame

    def _publish(self, image: np.ndarray) -> None:
        with self._condition:
            if self._frame is not None and self._frame.index > self._consumed_index:
                self.frames_dropped += 1
            now = time.monotonic()
            self._frame = Frame(image, self.frames_read, now)
            self.capture_rate.tick(now)
            self.frames_read += 1
            self._condition.notify_all()

    def _run(self) -> None:
        delay = RETRY_FIRST_S
        while not self._stop.is_set():
            self.last_activity = time.monotonic()
            try:
                capture = open_capture(self.settings)
            except OSError as exc:
                self._note_failure(str(exc))
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            log.info("camera %s opened", self.settings.source)
            self._connected = True
            try:
                got_frames = self._read_until_failure(capture)
            finally:
                capture.release()
                self._connected = False
            if got_frames and source_kind(self.settings.source) == "file" and not self.settings.loop:
                self.ended = True
                self._note_failure("video file ended (camera.loop is off)")
                self._stop.wait()
                return
            if got_frames:
                delay = RETRY_FIRST_S
                self.reconnects += 1
            if not self._stop.is_set():
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    def _note_failure(self, reason: str) -> None:
        if reason != self.last_error:
            log.warning("camera %s: %s; retrying", self.settings.source, reason)
        self.last_error = reason

    def _read_until_failure(self, capture: cv2.VideoCapture) -> bool:
        """Reads until the stream ends or fails; files are paced to their own fps and may loop."""
        is_file = source_kind(self.settings.source) == "file"
        period = 1.0 / (capture.get(cv2.CAP_PROP_FPS) or self.settings.fps) if is_file else 0.0
        next_due = time.monotonic()
        got_frames = False
        while not self._stop.is_set():
            ok, image = capture.read()
            self.last_activity = time.monotonic()
            if not ok and is_file and self.settings.loop and got_frames:
                if not os.path.exists(self.settings.source):  # removed while it played: as a camera unplugged
                    self._note_failure("video file removed")
                    return got_frames
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, image = capture.read()
            if not ok:
                self._note_failure("no frame (unplugged, ended or failed)")
                return got_frames
            got_frames = True
            self.last_error = ""
            if period:
                next_due += period
                pause = next_due - time.monotonic()
                if pause > 0:
                    self._stop.wait(pause)
                else:
                    next_due = time.monotonic()  # behind: restart pacing instead of bursting
            self._publish(image)
        return got_frames
