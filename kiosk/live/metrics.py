"""In-memory figures of the live pipeline: rates, latencies, faces, state."""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from kiosk.types import ShownState

WINDOW_S = 2.0      # rates over the last two seconds
SAMPLES = 300       # latency percentiles over the last 300 published frames


class RateMeter:
    """Events per second over the last WINDOW_S; ticked and read from different threads."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._times and now - self._times[0] > WINDOW_S:
            self._times.popleft()

    def tick(self, now: float) -> None:
        with self._lock:
            self._times.append(now)
            self._expire(now)

    def rate(self, now: float) -> float:
        with self._lock:
            self._expire(now)
            if len(self._times) < 2:
                return 0.0
            return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-6)


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float


def percentiles(values: deque) -> Percentiles:
    if not values:
        return Percentiles(0.0, 0.0)
    array = np.fromiter(values, float)
    return Percentiles(round(float(np.median(array)), 2), round(float(np.percentile(array, 95)), 2))


@dataclass(frozen=True)
class PipelineSnapshot:
    """The live pipeline's figures now (the admin's cards, /metrics, the systemd status line, benchmarks)."""
    state: ShownState
    capture_fps: float
    processed_fps: float
    detect_fps: float          # frames the detector saw (below processed_fps while nobody is there)
    processed_frames: int
    published_frames: int
    dropped_frames: int        # camera frames never processed (the pipeline was busy)
    stale_hidden: int          # processed but not shown: newer ones were ready
    errors: int                # frames that failed in the pipeline (logged, counted, skipped)
    latency_ms: Percentiles    # capture -> published
    detect_ms: Percentiles
    classify_ms: Percentiles
    faces_per_frame: float


class PipelineMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.processed = RateMeter()
        self.detected = RateMeter()
        self.latency_ms: deque[float] = deque(maxlen=SAMPLES)      # capture -> published (shown frames)
        self.detect_ms: deque[float] = deque(maxlen=SAMPLES)       # detector inference + postprocess
        self.classify_ms: deque[float] = deque(maxlen=SAMPLES)     # classifier inference + postprocess
        self.faces: deque[int] = deque(maxlen=SAMPLES)
        self.published = 0
        self.processed_frames = 0

    def record_processed(self, now: float, detect_ms: float | None, classify_ms: float | None, faces: int) -> None:
        """Every frame through the tracker and decision; detect_ms None: the detector skipped it (nobody there)."""
        with self._lock:
            self.processed.tick(now)
            self.processed_frames += 1
            if detect_ms is not None:
                self.detected.tick(now)
                self.detect_ms.append(detect_ms)
            if classify_ms is not None:
                self.classify_ms.append(classify_ms)
            self.faces.append(faces)

    def record_published(self, latency_ms: float) -> None:
        """A frame handed to viewers, latency_ms after its capture."""
        with self._lock:
            self.latency_ms.append(latency_ms)
            self.published += 1

    def snapshot(self, capture_fps: float, dropped: int, stale_hidden: int, errors: int,
                 state: ShownState) -> PipelineSnapshot:
        now = time.monotonic()
        with self._lock:
            return PipelineSnapshot(
                state=state, capture_fps=round(capture_fps, 1), processed_fps=round(self.processed.rate(now), 1),
                detect_fps=round(self.detected.rate(now), 1),
                processed_frames=self.processed_frames, published_frames=self.published, dropped_frames=dropped,
                stale_hidden=stale_hidden, errors=errors, latency_ms=percentiles(self.latency_ms),
                detect_ms=percentiles(self.detect_ms), classify_ms=percentiles(self.classify_ms),
                faces_per_frame=round(float(np.mean(self.faces)), 2) if self.faces else 0.0)
