"""Clips around events: the annotated frames of a few seconds before a verdict and a few after, as a WebM (VP8)
that a browser plays without plugins.

The published frames (already JPEG at the display size) pass through `observe` on the publishing thread: the
last `record.clip_before_s` seconds are kept, at most `record.clip_fps` a second, as references (nothing is
decoded there). A clip asked for at a frame takes those and the next `record.clip_after_s` seconds of frames, then
goes to a thread of its own that decodes them, pixelates the faces when `record.blur_faces` is on, encodes, writes
the file (on disk before its row names it) and names it in its event's row. Clips are files beside the snapshots,
so the snapshot quota and the retention cover them (kiosk.record.events). A clip that cannot be made is counted
and logged once per kind; its event stays.
"""
from __future__ import annotations

import logging
import queue
import sqlite3
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kiosk.config.record import RecordConfig
from kiosk.durable import PRIVATE_FILE, private_folder, write_durably
from kiosk.errors import one_line
from kiosk.types import Published

log = logging.getLogger(__name__)

FOURCC = "VP80"
WAIT_FOR_ROW_S = 30.0
STOP_WAIT_S = 5.0  # the event's row is committed by the event writer; a clip waits this long for its id


@dataclass(frozen=True)
class ClipFrame:
    captured: float                       # monotonic
    jpeg: bytes
    boxes: tuple[np.ndarray, ...]         # face boxes in frame pixels (for the privacy blur)
    frame_size: tuple[int, int]


@dataclass
class ClipJob:
    relative: str                          # the file's path under the snapshots folder
    ends: float                            # monotonic: the last frame's time
    frames: list[ClipFrame]
    event_id: int | None = None            # set by the event writer once the row is committed
    stored: threading.Event = field(default_factory=threading.Event)

    def row_written(self, event_id: int | None) -> None:
        """The event writer's word: the row is in (its id), or it was not stored (None: no clip then)."""
        self.event_id = event_id
        self.stored.set()


def pixelate(image: np.ndarray, boxes: tuple[np.ndarray, ...] | list[np.ndarray], frame_size: tuple[int, int]) \
        -> np.ndarray:
    """The image with each face box (in frame pixels) pixelated, in place."""
    scale = image.shape[1] / frame_size[0]
    for box in boxes:
        x1, y1, x2, y2 = (int(round(v * scale)) for v in box)
        x1, y1 = max(x1, 0), max(y1, 0)
        x2, y2 = min(x2, image.shape[1]), min(y2, image.shape[0])
        if x2 - x1 > 1 and y2 - y1 > 1:
            face = image[y1:y2, x1:x2]
            small = cv2.resize(face, (max(1, (x2 - x1) // 12), max(1, (y2 - y1) // 12)), interpolation=cv2.INTER_AREA)
            image[y1:y2, x1:x2] = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
    return image


def encode_webm(frames: list[np.ndarray], fps: float) -> bytes:
    """The frames (BGR, one size) as a WebM with VP8, made in a private temporary file (the encoder writes a
    file, not bytes)."""
    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory(prefix="mask-kiosk-clip-") as folder:
        path = Path(folder) / "clip.webm"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*FOURCC), fps, (width, height))
        if not writer.isOpened():
            raise OSError("no VP8 encoder in this OpenCV")
        for frame in frames:
            writer.write(frame)
        writer.release()
        return path.read_bytes()


def paced(times: list[float], fps: float) -> list[int]:
    """For each 1/fps step from the first time to the last, the index of the newest frame by then: a clip plays at
    the pace it happened, however few frames the kiosk published meanwhile (a busy box publishes fewer)."""
    indices, newest = [], 0
    for step in range(int(round((times[-1] - times[0]) * fps)) + 1):
        due = times[0] + step / fps + 1e-6
        while newest + 1 < len(times) and times[newest + 1] <= due:
            newest += 1
        indices.append(newest)
    return indices


class ClipRecorder:
    def __init__(self, settings: Callable[[], RecordConfig], snapshots: Path, db_path: Path,
                 make_room: Callable[[sqlite3.Connection, int], bool], queue_size: int = 8):
        self.settings = settings
        self.make_room = make_room  # the snapshot quota's (kiosk.record.events), before each file
        self.snapshots = snapshots
        self.db_path = db_path
        self._recent: deque[ClipFrame] = deque()
        self._collecting: list[ClipJob] = []
        self._queue: queue.Queue[ClipJob | None] = queue.Queue(maxsize=queue_size)
        self.written = 0
        self.failed = 0       # clips not made (writer behind, encoder or storage fault)
        self._last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="clip-writer", daemon=True)

    def start(self) -> ClipRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Clips still collecting their last seconds are not made (a stop must take seconds, not encodes); the
        queued ones are given a few seconds."""
        self._collecting.clear()
        try:
            self._queue.put(None, timeout=1)
        except queue.Full:
            return
        self._thread.join(timeout=STOP_WAIT_S)

    # -- publishing thread: references only --------------------------------------------------------------------
    def observe(self, item: Published) -> None:
        settings = self.settings()
        if settings.clips == "off":
            return
        if not self._recent or item.captured - self._recent[-1].captured >= 1 / settings.clip_fps - 1e-3:
            frame = ClipFrame(item.captured, item.jpeg, tuple(t.face.box for t in item.faces), item.frame_size)
            self._recent.append(frame)
            for job in list(self._collecting):
                if item.captured > job.ends:
                    self._collecting.remove(job)
                    self._hand_on(job)
                else:
                    job.frames.append(frame)
        while self._recent and item.captured - self._recent[0].captured > settings.clip_before_s:
            self._recent.popleft()

    def wanted(self, state: str) -> bool:
        clips = self.settings().clips
        return clips == "all" or (clips == "stop" and state == "STOP")

    def request(self, item: Published, relative: str) -> ClipJob:
        """A clip around this frame (already kept by observe), to be stored at `relative`."""
        job = ClipJob(relative, item.captured + self.settings().clip_after_s, list(self._recent))
        self._collecting.append(job)
        return job

    def _hand_on(self, job: ClipJob) -> None:
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.failed += 1

    # -- clip thread ---------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._store(job)
            except Exception as error:  # noqa: BLE001 - a clip must never take the record down
                self.failed += 1
                (self.snapshots / job.relative).unlink(missing_ok=True)
                if one_line(error) != self._last_error:
                    log.error("clip %s not made (%s); events go on being recorded", job.relative, one_line(error))
                self._last_error = one_line(error)

    def _store(self, job: ClipJob) -> None:
        if not job.stored.wait(WAIT_FOR_ROW_S) or job.event_id is None or not job.frames:
            raise OSError("its event was not stored")
        settings = self.settings()
        images: list[tuple[float, np.ndarray]] = []
        for frame in job.frames:
            image = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                continue
            if settings.blur_faces and frame.boxes:
                pixelate(image, frame.boxes, frame.frame_size)
            if images and image.shape != images[0][1].shape:  # the display size changed mid-clip
                image = cv2.resize(image, (images[0][1].shape[1], images[0][1].shape[0]))
            images.append((frame.captured, image))
        if not images:
            raise OSError("no frame of the clip decodes")
        path = self.snapshots / job.relative
        steps = paced([captured for captured, _ in images], settings.clip_fps)
        clip = encode_webm([images[index][1] for index in steps], settings.clip_fps)
        db = sqlite3.connect(self.db_path, timeout=10)
        try:
            if not self.make_room(db, len(clip)):
                raise OSError(f"a clip of {len(clip)} bytes does not fit in record.snapshot_quota_mb")
            private_folder(path.parent)
            write_durably(path, clip, PRIVATE_FILE)
            with db:
                updated = db.execute("UPDATE events SET clip = ? WHERE id = ?", (job.relative, job.event_id)).rowcount
        finally:
            db.close()
        if not updated:  # its event was pruned meanwhile
            path.unlink(missing_ok=True)
            return
        self.written += 1
        self._last_error = None
