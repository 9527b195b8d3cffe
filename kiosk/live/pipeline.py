"""Live pipeline: camera frames -> detector (OpenVINO async) -> classifier -> tracker -> decision -> JPEG.

Three kinds of thread, each with one job. The submit thread takes the newest
frame when one of `jobs` slots is free (so nothing queues without bound),
applies settings queued by the admin page between frames, and starts the
detector's async request, for every frame unless nobody has been there for a
while (kiosk.live.presence: then a few a second, and again every frame from the
first that moves; the others are shown without faces). OpenVINO's callbacks only store the outputs. One
publisher thread takes the frames in the order they were submitted and does
the rest: faces, mask labels, tracking, decision, drawing, JPEG, and handing
the result to viewers and the recorder. Every result feeds the tracker and the
decision; one already more than MAX_FRAMES_BEHIND camera frames old when ready
is not shown (unless nothing has been shown for a while), so viewers always see
a fresh picture.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import openvino as ov

from kiosk.config.camera import CameraConfig
from kiosk.config.decision import DecisionConfig
from kiosk.config.display import DisplayConfig
from kiosk.config.presence import PresenceConfig
from kiosk.config.tracker import TrackerConfig
from kiosk.errors import one_line
from kiosk.live.camera import CameraSource
from kiosk.live.decision import GateDecision
from kiosk.live.guidance import Guidance
from kiosk.live.metrics import PipelineMetrics, PipelineSnapshot
from kiosk.live.presence import PresenceGate
from kiosk.live.render import annotate_tracked, encode_jpeg
from kiosk.live.selftest import SelfTest
from kiosk.live.tracker import FaceTracker
from kiosk.types import CameraState, Face, Frame, GateState, Health, Published, ShownState
from kiosk.vision.classifier import MaskClassifier
from kiosk.vision.detectors.base import FaceDetector
from kiosk.vision.imageops import Letterbox

log = logging.getLogger(__name__)

MAX_FRAMES_BEHIND = 2
SHOW_STALE_AFTER_S = 0.25  # an overloaded box still shows something, late, rather than freeze
STALL_S = 2.0            # no frame published for this long while the camera delivers: stalled
HUNG_CAMERA_S = 15.0     # the capture thread neither read nor retried for this long: hung


@dataclass
class _Job:
    sequence: int
    frame: Frame
    transform: Letterbox
    submitted: float
    detect: bool = True                      # False: nobody is there and the detector skips this frame
    outputs: tuple[np.ndarray, ...] = ()      # the detector's, copied by its callback
    detected: float = 0.0
    error: BaseException | None = None       # what went wrong in the callback, for the publisher to report
    done: threading.Event = field(default_factory=threading.Event)


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
            def newer() -> bool:
                return self._latest is not None and self._latest.sequence > than_sequence
            self._condition.wait_for(newer, timeout)
            return self._latest if newer() else None


class LivePipeline:
    def __init__(self, source: CameraSource, detector: FaceDetector, classifier: MaskClassifier,
                 decision: GateDecision, tracker: TrackerConfig, display: DisplayConfig, self_test: SelfTest,
                 presence: PresenceConfig, jobs: int = 2):
        self.source = source
        self.self_test = self_test  # failed: out of service, never PASS (kiosk.live.selftest)
        self.detector = detector
        self.classifier = classifier
        self.decision = decision
        self.guidance = Guidance(decision.settings)
        self.tracker_settings = tracker
        self.tracker = FaceTracker(**tracker.model_dump(), rule=classifier.verdict)
        self.display = display
        self.presence = PresenceGate(presence)
        self.jobs = jobs
        self.broadcast = Broadcast()
        self.metrics = PipelineMetrics()
        self._detect_queue = ov.AsyncInferQueue(detector.compiled, jobs)
        self._detect_queue.set_callback(self._on_detected)
        self._classify_request = classifier.compiled.create_infer_request()  # the publisher's own
        self._slots = threading.Semaphore(jobs)
        self._in_flight: queue.Queue[_Job] = queue.Queue()  # in submit order
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._publisher: threading.Thread | None = None
        self._pending: dict = {}   # settings queued by request_settings, applied by the publisher thread
        self._pending_camera: CameraConfig | None = None  # a camera queued by request_settings (submit thread)
        self._pending_lock = threading.Lock()
        self.errors = 0           # frames that failed after the camera (counted, logged once per kind)
        self._last_error: str | None = None
        self.last_published_at = 0.0
        self.stale_hidden = 0
        # told (on the submit thread, so they must only hand it on) when the camera is lost or back: (connected,
        # what the camera said)
        self.camera_listeners: list[Callable[[bool, str], None]] = []
        self._camera_seen: bool | None = None  # None until the first frame, or the stall timeout without one
        self._started_at = 0.0

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> LivePipeline:
        self._warm_up()
        self.last_published_at = self._started_at = time.monotonic()  # start-up counts as shown: the stale rule
        # and stall grace
        if not self.source.alive:
            self.source.start()
        self._thread = threading.Thread(target=self._submit_loop, name="pipeline-submit", daemon=True)
        self._publisher = threading.Thread(target=self._publish_loop, name="pipeline-publish", daemon=True)
        self._thread.start()
        self._publisher.start()
        return self

    def _warm_up(self) -> None:
        """One inference per model before the camera starts: the first real frame must not pay for it."""
        blank = np.zeros((480, 640, 3), np.uint8)
        self.detector.detect(blank)
        size = self.classifier.input_size
        self.classifier.probabilities(np.zeros((1, size, size, 3), np.uint8))

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._publisher):
            if thread is not None:
                thread.join(timeout=5)
        self._detect_queue.wait_all()
        self.source.stop()

    def request_settings(self, *, min_score: float, decision: DecisionConfig, display: DisplayConfig,
                         tracker: TrackerConfig, camera: CameraConfig | None = None) -> None:
        """Queues new settings. The publisher thread applies them between two frames (new tracker settings:
        tracking starts afresh); a new camera is opened by the submit thread, even while the old one delivers
        nothing (the old one is closed first). Safe to call from any thread."""
        with self._pending_lock:
            self._pending = {"min_score": min_score, "decision": decision, "display": display, "tracker": tracker}
            if camera is not None:
                self._pending_camera = camera

    def _apply_pending(self) -> None:
        """On the publisher thread, between frames: nothing it uses changes mid-frame."""
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        self.detector.min_score = pending["min_score"]
        self.decision.settings = self.guidance.settings = pending["decision"]
        self.display = pending["display"]
        if pending["tracker"] != self.tracker_settings:
            self.tracker_settings = pending["tracker"]
            self.tracker = FaceTracker(**self.tracker_settings.model_dump(), rule=self.classifier.verdict)

    def _switch_camera(self) -> None:
        """On the submit thread: the camera asked for by request_settings, if any."""
        with self._pending_lock:
            camera, self._pending_camera = self._pending_camera, None
        if camera is not None:
            self.source.stop()  # a V4L2 device can be open once: close it before opening the next
            self.source = CameraSource(camera).start()
            log.info("camera switched to %s", camera.source)

    def health(self) -> Health:
        """Healthy only while frames are being published, and never after a failed self-test."""
        if not self.self_test.ok:
            return Health(False, f"self-test {self.self_test.detail}", hold=True)
        if not self._threads_alive():
            return Health(False, "pipeline thread stopped")
        if not self.source.connected:
            return Health(False, f"camera disconnected ({self.source.last_error or 'no frames'})")
        if time.monotonic() - self.last_published_at > STALL_S:
            return Health(False, "pipeline stalled: frames arrive but none is published")
        return Health(True, "ok")

    def worth_keeping(self) -> bool:
        """For the systemd watchdog: False when a restart could help (stalled or hung), True while the camera
        is merely absent and its reconnect loop is still running."""
        if self.health().healthy:
            return True
        if not self.self_test.ok:
            return self._threads_alive()  # a restart would fail the same test: stay up, out of service
        retrying = not self.source.connected and time.monotonic() - self.source.last_activity < HUNG_CAMERA_S
        return self._threads_alive() and (retrying or self.source.ended)  # a restart would only replay the file

    def _threads_alive(self) -> bool:
        return all(t is not None and t.is_alive() for t in (self._thread, self._publisher)) and self.source.alive

    @property
    def state(self) -> ShownState:
        """The gate state; OUT_OF_SERVICE after a failed self-test, DISCONNECTED while the camera delivers no
        frames."""
        if not self.self_test.ok:
            return CameraState.OUT_OF_SERVICE
        return self.decision.state if self.source.connected else CameraState.DISCONNECTED

    @property
    def reason(self) -> str | None:
        """The label behind the PASS or STOP shown now ("mask", "no_mask", "incorrect"); None in any other state."""
        return self.decision.reason if self.state in (GateState.PASS, GateState.STOP) else None

    def snapshot(self) -> PipelineSnapshot:
        return self.metrics.snapshot(self.source.capture_rate.rate(time.monotonic()), self.source.frames_dropped,
                                     self.stale_hidden, self.errors, self.state)

    # -- submit side -----------------------------------------------------------
    def _submit_loop(self) -> None:
        sequence = 0
        last_index = -1
        source = self.source
        while not self._stop.is_set():
            self._switch_camera()
            if not self._slots.acquire(timeout=0.2):
                continue
            frame = None
            while frame is None and not self._stop.is_set():
                self._switch_camera()  # also while the camera delivers nothing: the admin may be fixing it
                if source is not self.source:  # a new camera counts its frames from 0
                    source, last_index = self.source, -1
                frame = source.wait_newer(last_index, timeout=0.2)
                self._watch_camera()
            if frame is None:
                self._slots.release()
                break
            last_index = frame.index
            if not self.presence.wants(frame.image, frame.captured):
                job = _Job(sequence, frame, Letterbox(1.0, 0, 0), time.monotonic(), detect=False)  # not detected
                job.done.set()
                self._in_flight.put(job)
            else:
                tensor, transform = self.detector.preprocess(frame.image)
                job = _Job(sequence, frame, transform, time.monotonic())
                self._in_flight.put(job)
                self._detect_queue.start_async({0: tensor}, job)
            sequence += 1

    def _watch_camera(self) -> None:
        """Tells the camera listeners when the camera stops delivering and when it is back; at start, nothing until
        the first frame, or the lost camera once the stall timeout passed without one."""
        connected = self.source.connected
        if connected == self._camera_seen:
            return
        starting = time.monotonic() - self._started_at < self.source.settings.stall_timeout_s
        if self._camera_seen is None and not connected and starting:
            return
        first, self._camera_seen = self._camera_seen is None, connected
        if first and connected:
            return
        for listener in self.camera_listeners:
            listener(connected, self.source.last_error or "no frames")

    # -- OpenVINO callback (runs on the runtime's threads): store and go ----------------
    def _on_detected(self, request: ov.InferRequest, job: _Job) -> None:
        """Always completes its job: the publisher waits for each one in order."""
        try:
            job.outputs = tuple(output.copy() for output in self.detector.outputs_of(request))  # the request is reused
            job.detected = time.monotonic()
        except BaseException as error:  # noqa: BLE001 - reported by the publisher; never left unfinished
            job.error = error
        finally:
            job.done.set()

    # -- publisher thread: everything after inference, in frame order ------------------
    def _publish_loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._in_flight.get(timeout=0.2)
            except queue.Empty:
                continue
            while not job.done.wait(0.2):
                if self._stop.is_set():
                    return
            try:
                if job.error is not None:
                    raise job.error
                self._apply_pending()
                self._publish(job)
            except Exception as error:  # noqa: BLE001 - one bad frame must not stop the kiosk
                self.errors += 1
                if one_line(error) != self._last_error:  # once per new kind, not 30 times a second
                    log.error("frame %d failed (%s); the pipeline goes on", job.frame.index, one_line(error),
                              exc_info=error)
                self._last_error = one_line(error)
            else:
                self._last_error = None
            self._slots.release()

    def _classified(self, job: _Job) -> tuple[list[Face], float | None]:
        faces = self.detector.postprocess(job.outputs, job.transform) if job.detect else []
        if not faces:
            return faces, None
        self.presence.saw_faces(job.frame.captured)
        started = time.monotonic()
        # the largest faces are nearest the gate; beyond max_batch the rest stay unlabelled
        faces.sort(key=lambda f: -(f.box[2] - f.box[0]))
        crops = self.classifier.preprocess(job.frame.image, [f.box for f in faces[:self.classifier.max_batch]])
        self.classifier.label(faces, self.classifier.probabilities(crops, self._classify_request))
        return faces, (time.monotonic() - started) * 1000

    def _publish(self, job: _Job) -> None:
        frame = job.frame
        height, width = frame.image.shape[:2]
        faces, classify_ms = self._classified(job)
        tracked = self.tracker.update(faces, frame.captured)
        state = self.decision.update(tracked, width, height, frame.captured)
        reason = self.decision.reason
        hint = self.guidance.update(tracked, self.decision.in_zone, frame.image, frame.captured, state)
        if state == GateState.PASS and not self.self_test.ok:
            state, reason = GateState.CHECKING, None  # a kiosk that failed its self-test passes nobody
        now = time.monotonic()
        self.metrics.record_processed(now, (job.detected - job.submitted) * 1000 if job.detect else None, classify_ms,
                                      len(faces))
        newest = self.source.latest()
        behind = newest.index - frame.index if newest is not None and newest.index >= frame.index else 0
        if behind > MAX_FRAMES_BEHIND and now - self.last_published_at < SHOW_STALE_AFTER_S:
            self.stale_hidden += 1
            return
        image = annotate_tracked(frame.image, tracked, self.decision.shown, self.decision.in_zone,
                                 self.decision.settings.zone, (self.display.max_width, self.display.max_height))
        jpeg = encode_jpeg(image, self.display.jpeg_quality)
        now = time.monotonic()
        self.last_published_at = now
        self.broadcast.publish(Published(job.sequence, frame.index, frame.captured, now, tracked, state, jpeg, behind,
                                         (width, height), self.decision.people, reason,
                                         self.decision.shown, self.decision.in_zone, job.detect, hint))
        self.metrics.record_published((now - frame.captured) * 1000)
