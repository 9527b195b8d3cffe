"""Live pipeline: camera frames -> detector -> classifier (OpenVINO async) -> tracker -> decision -> JPEG.

Up to `jobs` frames are in flight; each waits for its turn so results are
published in frame order. A new frame is taken only when a slot is free, and
it is always the newest one, so nothing queues without bound. Every result
feeds the tracker and the decision; one that is already more than
MAX_FRAMES_BEHIND camera frames old when ready is not shown (unless nothing
has been shown for a while), so viewers always see a fresh picture.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import openvino as ov

from kiosk.camera import CameraSource, Frame
from kiosk.decision import GateDecision, GateState
from kiosk.detectors.base import FaceDetector
from kiosk.faces import Face
from kiosk.imageops import Letterbox
from kiosk.live_metrics import PipelineMetrics
from kiosk.mask_classifier import MaskClassifier
from kiosk.render import annotate_tracked, encode_jpeg
from kiosk.tracker import FaceTracker, TrackedFace

log = logging.getLogger(__name__)

DISCONNECTED = "DISCONNECTED"
MAX_FRAMES_BEHIND = 2
SHOW_STALE_AFTER_S = 0.25  # an overloaded box still shows something, late, rather than freeze
STALL_S = 2.0            # no frame published for this long while the camera delivers: stalled
HUNG_CAMERA_S = 15.0     # the capture thread neither read nor retried for this long: hung


@dataclass(frozen=True)
class DisplaySettings:
    max_width: int = 1280
    max_height: int = 720
    jpeg_quality: int = 80


@dataclass(frozen=True)
class Published:
    sequence: int
    frame_index: int
    captured: float
    published: float
    faces: list[TrackedFace]
    state: GateState
    jpeg: bytes
    frames_behind: int      # newer frames the camera had captured when this one was published
    frame_size: tuple[int, int]  # width, height of the camera frame the face boxes refer to


@dataclass
class _Job:
    sequence: int
    frame: Frame
    transform: Letterbox
    submitted: float
    faces: list[Face] = field(default_factory=list)
    detected: float = 0.0
    classify_ms: float | None = None


class Broadcast:
    """The newest published frame, handed to any number of viewers without re-encoding."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._latest: Published | None = None
        self._subscribers: list[Callable[[Published], None]] = []

    def subscribe(self, callback: Callable[[Published], None]) -> None:
        """callback(item) runs on the publishing thread: it must only hand the news on."""
        with self._condition:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[Published], None]) -> None:
        with self._condition:
            self._subscribers.remove(callback)

    def publish(self, item: Published) -> None:
        with self._condition:
            self._latest = item
            self._condition.notify_all()
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback(item)

    def latest(self) -> Published | None:
        return self._latest

    def wait_newer(self, than_sequence: int, timeout: float) -> Published | None:
        with self._condition:
            self._condition.wait_for(lambda: self._latest is not None and self._latest.sequence > than_sequence, timeout)
            latest = self._latest
            return latest if latest is not None and latest.sequence > than_sequence else None


class LivePipeline:
    def __init__(self, source: CameraSource, detector: FaceDetector, classifier: MaskClassifier,
                 decision: GateDecision, tracker: FaceTracker, display: DisplaySettings, jobs: int = 2):
        self.source = source
        self.detector = detector
        self.classifier = classifier
        self.decision = decision
        self.tracker = tracker
        self.display = display
        self.jobs = jobs
        self.broadcast = Broadcast()
        self.metrics = PipelineMetrics()
        # one classifier request per detector request, so a detection callback never waits for a free one
        self._detect_queue = ov.AsyncInferQueue(detector.compiled, jobs)
        self._classify_queue = ov.AsyncInferQueue(classifier.compiled, jobs)
        self._detect_queue.set_callback(self._on_detected)
        self._classify_queue.set_callback(self._on_classified)
        self._slots = threading.Semaphore(jobs)
        self._order_lock = threading.Lock()
        self._finished: dict[int, _Job] = {}
        self._next_to_publish = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0
        self.last_published_at = 0.0
        self.stale_hidden = 0

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> "LivePipeline":
        self._warm_up()
        self.last_published_at = time.monotonic()  # start-up counts as shown: the stale rule and stall grace
        if not self.source.alive:
            self.source.start()
        self._thread = threading.Thread(target=self._submit_loop, name="pipeline-submit", daemon=True)
        self._thread.start()
        return self

    def _warm_up(self) -> None:
        """One inference per model before the camera starts: the first real frame must not pay for it."""
        blank = np.zeros((480, 640, 3), np.uint8)
        self.detector.detect(blank)
        self.classifier.probabilities(np.zeros((1, self.classifier.input_size, self.classifier.input_size, 3), np.uint8))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._detect_queue.wait_all()
        self._classify_queue.wait_all()
        self.source.stop()

    def replace_source(self, source: CameraSource) -> None:
        """Switch cameras while running (settings change); the old capture thread ends."""
        old, self.source = self.source, source.start()
        old.stop()

    def health(self) -> tuple[bool, str]:
        """(healthy, reason): healthy only while frames are being published."""
        if self._thread is None or not self._thread.is_alive() or not self.source.alive:
            return False, "pipeline thread stopped"
        if not self.source.connected:
            return False, f"camera disconnected ({self.source.last_error or 'no frames'})"
        if time.monotonic() - self.last_published_at > STALL_S:
            return False, "pipeline stalled: frames arrive but none is published"
        return True, "ok"

    def worth_keeping(self) -> bool:
        """For the systemd watchdog: False when a restart could help (stalled or hung), True while the camera
        is merely absent and its reconnect loop is still running."""
        healthy, _ = self.health()
        if healthy:
            return True
        threads_alive = self._thread is not None and self._thread.is_alive() and self.source.alive
        retrying = not self.source.connected and time.monotonic() - self.source.last_activity < HUNG_CAMERA_S
        return threads_alive and (retrying or self.source.ended)  # a restart would only replay the file

    @property
    def state(self) -> str:
        """The gate state, or DISCONNECTED while the camera delivers no frames."""
        return self.decision.state.value if self.source.connected else DISCONNECTED

    def snapshot(self) -> dict:
        return self.metrics.snapshot(self.source.capture_rate.rate(time.monotonic()),
                                     self.source.frames_dropped, self.stale_hidden, self.state)

    # -- submit side -----------------------------------------------------------
    def _submit_loop(self) -> None:
        sequence = 0
        last_index = -1
        source = self.source
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.2):
                continue
            frame = None
            while frame is None and not self._stop.is_set():
                if source is not self.source:  # a new camera counts its frames from 0
                    source, last_index = self.source, -1
                frame = source.wait_newer(last_index, timeout=0.2)
            if frame is None:
                self._slots.release()
                break
            last_index = frame.index
            tensor, transform = self.detector.preprocess(frame.image)
            job = _Job(sequence, frame, transform, time.monotonic())
            sequence += 1
            self._detect_queue.start_async({0: tensor}, job)

    # -- OpenVINO callbacks (run on the runtime's threads) -------------------------
    def _on_detected(self, request: ov.InferRequest, job: _Job) -> None:
        try:
            job.faces = self.detector.postprocess(self.detector.outputs_of(request), job.transform)
            job.detected = time.monotonic()
            if job.faces:
                # the largest faces are nearest the gate; beyond max_batch the rest stay unlabelled
                job.faces.sort(key=lambda f: -(f.box[2] - f.box[0]))
                boxes = [f.box for f in job.faces[:self.classifier.max_batch]]
                self._classify_queue.start_async({0: self.classifier.preprocess(job.frame.image, boxes)}, job)
                return
        except Exception:
            self.errors += 1
            log.exception("detection of frame %d failed", job.frame.index)
        self._finish(job)

    def _on_classified(self, request: ov.InferRequest, job: _Job) -> None:
        try:
            self.classifier.label(job.faces, request.get_output_tensor(0).data)
            job.classify_ms = (time.monotonic() - job.detected) * 1000
        except Exception:
            self.errors += 1
            log.exception("classification of frame %d failed", job.frame.index)
        self._finish(job)

    # -- in-order publish ----------------------------------------------------------
    def _finish(self, job: _Job) -> None:
        with self._order_lock:
            self._finished[job.sequence] = job
            while self._next_to_publish in self._finished:
                ready = self._finished.pop(self._next_to_publish)
                self._next_to_publish += 1
                try:
                    self._publish(ready)
                except Exception:
                    self.errors += 1
                    log.exception("publishing frame %d failed", ready.frame.index)
                self._slots.release()

    def _publish(self, job: _Job) -> None:
        frame = job.frame
        height, width = frame.image.shape[:2]
        tracked = self.tracker.update(job.faces, frame.captured)
        state = self.decision.update(tracked, width, height, frame.captured)
        now = time.monotonic()
        self.metrics.record_processed(now, (job.detected - job.submitted) * 1000, job.classify_ms, len(job.faces))
        newest = self.source.latest()
        behind = newest.index - frame.index if newest is not None and newest.index >= frame.index else 0
        if behind > MAX_FRAMES_BEHIND and now - self.last_published_at < SHOW_STALE_AFTER_S:
            self.stale_hidden += 1
            return
        image = annotate_tracked(frame.image, tracked, (self.display.max_width, self.display.max_height))
        jpeg = encode_jpeg(image, self.display.jpeg_quality)
        now = time.monotonic()
        self.last_published_at = now
        self.broadcast.publish(Published(job.sequence, frame.index, frame.captured, now, tracked, state, jpeg, behind,
                                         (width, height)))
        self.metrics.record_published((now - frame.captured) * 1000)
