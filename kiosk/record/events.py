"""Monitoring record: what happened at the gate, as rows in SQLite (WAL), each verdict with a JPEG snapshot.

A row is a verdict about people: PASS or STOP, written when a person (a track) gets that verdict for the first
time, with the reason, the people it is about and the time they waited for it. The camera lost and back are rows
too (no snapshot), and each staff override (who, how, and the picture of that moment). CHECKING and NO_FACE are
not stored: they are the way to a verdict, not one.

Writes happen on one writer thread fed by a bounded queue, so the pipeline never
waits on the disk. A snapshot is on disk (fsynced) before its row commits; a
row committed is on disk (synchronous=FULL) before the next event is taken.
Storage faults (read-only or full disk, a broken database) never reach the kiosk:
recording is marked failed (`fault`), each event not stored is counted (`dropped`),
no partial file stays behind, and the next event tries again.
"""
from __future__ import annotations

import contextlib
import logging
import os
import queue
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.config.record import RecordConfig
from kiosk.durable import private_file, private_folder, write_durably
from kiosk.errors import one_line
from kiosk.live.decision import people_judged
from kiosk.record.clips import ClipJob, ClipRecorder, pixelate
from kiosk.types import Published

log = logging.getLogger(__name__)

# AUTOINCREMENT: ids only grow, even after pruning empties the table (the MQTT outbox's cursor relies on it)
EVENTS_TABLE = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    state TEXT NOT NULL,
    previous TEXT,
    faces INTEGER NOT NULL,
    masked INTEGER NOT NULL,
    unmasked INTEGER NOT NULL,
    incorrect INTEGER NOT NULL,
    snapshot TEXT,
    reason TEXT,
    people INTEGER,
    new_people INTEGER,
    seconds REAL,
    actor TEXT,
    clip TEXT
)"""
# columns later versions added, with their types: a record made before gains them (NULL in its old rows)
ADDED_COLUMNS = {"reason": "TEXT", "people": "INTEGER", "new_people": "INTEGER", "seconds": "REAL",
                 "actor": "TEXT", "clip": "TEXT"}
EVENTS_INDEXES = ("CREATE INDEX IF NOT EXISTS events_ts ON events (ts)",
                  "CREATE INDEX IF NOT EXISTS events_state_ts ON events (state, ts)")  # the review's outcome filter
COLUMNS = ("id", "ts", "state", "previous", "faces", "masked", "unmasked", "incorrect", "snapshot", "reason",
           "people", "new_people", "seconds", "actor", "clip")
VERDICTS = ("PASS", "STOP")
CAMERA_LOST, CAMERA_RESTORED, OVERRIDE = "CAMERA_LOST", "CAMERA_RESTORED", "OVERRIDE"
REMEMBERED = 1000  # tracks whose verdict and first frame are kept (a person is judged in seconds)


@dataclass(frozen=True)
class Event:
    """One row of the record."""
    id: int
    ts: float                # Unix time of the frame
    state: str
    previous: str | None
    faces: int
    masked: int
    unmasked: int
    incorrect: int
    snapshot: str | None     # path under the snapshots folder; None once pruned by the quota
    reason: str | None       # the label behind a PASS or STOP ("mask", "no_mask", "incorrect"); for CAMERA_LOST
                             # what the camera said
    people: int | None       # the people the verdict is about (None in rows of earlier versions)
    new_people: int | None   # of them, judged so for the first time by this row (the counts add these up)
    seconds: float | None    # time to verdict: from the first frame of the longest-waiting new person
    actor: str | None = None  # who gave an OVERRIDE (its reason says how: "admin page" or "api")
    clip: str | None = None   # the WebM around it, under the snapshots folder (kiosk.record.clips); None: none

    @classmethod
    def from_row(cls, row: tuple) -> Event:
        return cls(*row)


@dataclass(frozen=True)
class RecordingStatus:
    enabled: bool
    fault: str | None      # why recording does not work now
    dropped: int           # events not stored (writer behind, storage fault)

    def __str__(self) -> str:
        """'ok', 'off' or 'failed: <reason>', as /healthz and the admin page say it."""
        if not self.enabled:
            return "off"
        return "ok" if self.fault is None else f"failed: {self.fault}"
PRUNE_EVERY_S = 60.0
ORPHAN_AFTER_S = 60.0  # a file no row names yet may be a clip whose row is being updated


def connect(path: Path) -> sqlite3.Connection:
    """The record's database, made 0600 when new (SQLite gives its -wal and -shm files the same mode)."""
    connection = sqlite3.connect(private_file(path), timeout=10, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("BEGIN IMMEDIATE")  # one writer sets up or migrates the schema at a time
    try:
        # a record made by an earlier version: ids that may be reused, or columns added since
        old = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone()
        if old is not None and "AUTOINCREMENT" not in old[0].upper():
            kept = ", ".join(row[1] for row in connection.execute("PRAGMA table_info(events)"))
            connection.execute("ALTER TABLE events RENAME TO events_before_autoincrement")
            connection.execute(EVENTS_TABLE)
            connection.execute(f"INSERT INTO events ({kept}) SELECT {kept} FROM events_before_autoincrement")
            connection.execute("DROP TABLE events_before_autoincrement")
        if old is not None:
            present = {row[1] for row in connection.execute("PRAGMA table_info(events)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in present:
                    connection.execute(f"ALTER TABLE events ADD COLUMN {column} {kind}")
        connection.execute(EVENTS_TABLE)
        for index in EVENTS_INDEXES:
            connection.execute(index)
        connection.commit()
    except BaseException:
        connection.rollback()
        connection.close()
        raise
    return connection


def blur_faces(jpeg: bytes, boxes: list[np.ndarray], frame_size: tuple[int, int]) -> bytes:
    """The snapshot with every face box pixelated (privacy option); boxes are in frame pixels."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:  # the pipeline's own JPEG: never, but an unreadable picture is kept out whole
        raise ValueError("snapshot JPEG does not decode")
    return cv2.imencode(".jpg", pixelate(image, boxes, frame_size), [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


def wall_time(captured: float) -> float:
    """The Unix time of a frame captured at `captured` (monotonic)."""
    return time.time() - (time.monotonic() - captured)


def media_name(at: float, sequence: int, suffix: str) -> str:
    """An event's file under the snapshots folder: its day's folder, its time and frame."""
    return f"{time.strftime('%Y-%m-%d', time.localtime(at))}/{int(at * 1000)}-{sequence}{suffix}"


@dataclass(frozen=True)
class Verdict:
    """A row to write: the frame a person was first judged on, with its people."""
    item: Published
    previous: str       # the gate state of the frame before
    people: int
    new_people: int
    seconds: float
    at: float | None = None       # Unix time of the frame (None: from its capture time when written)
    clip: ClipJob | None = None   # the clip being made around it, told the row's id once it is in


@dataclass(frozen=True)
class CameraChange:
    state: str          # CAMERA_LOST or CAMERA_RESTORED
    detail: str | None  # what the camera said when lost
    at: float           # Unix time


@dataclass(frozen=True)
class Override:
    actor: str                # who let the person through (the admin page's user)
    via: str                  # "admin page" or "api"
    at: float                 # Unix time
    item: Published | None    # the newest frame then: who was let through


def _bound(remembered: OrderedDict) -> None:
    while len(remembered) > REMEMBERED:
        remembered.popitem(last=False)


class EventRecorder:
    def __init__(self, state_dir: Path, settings: RecordConfig, queue_size: int = 256):
        self.settings = settings
        self.db_path = state_dir / "events.sqlite3"
        self.snapshots = state_dir / "snapshots"
        self._db: sqlite3.Connection | None = None  # opened (and reopened after a fault) by the writer thread
        self._queue: queue.Queue[Verdict | CameraChange | Override | None] = queue.Queue(maxsize=queue_size)
        self._shown = "NO_FACE"  # the gate state of the last frame (at first the decision's own start)
        self._judged: OrderedDict[int, str] = OrderedDict()     # track id -> the verdict recorded for it
        self._first_seen: OrderedDict[int, float] = OrderedDict()  # track id -> its first frame (monotonic)
        self._last_prune = 0.0
        self.dropped = 0        # events not stored: writer behind, or a storage fault
        self.written = 0
        self.fault: str | None = None  # why recording does not work now; None while it does
        self.listeners: list[Callable[[], None]] = []  # told after each commit (the MQTT outbox), on this thread
        self.clips = ClipRecorder(lambda: self.settings, self.snapshots, self.db_path, self.make_room)
        self._media_lock = threading.Lock()
        self._media_bytes: int | None = None  # snapshots and clips on disk, counted once, then kept up to date
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)

    def start(self) -> EventRecorder:
        self._thread.start()
        self.clips.start()
        return self

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        self.clips.stop()
        if self._db is not None:
            self._db.close()

    # -- pipeline side: must not block ---------------------------------------------
    def observe(self, item: Published) -> None:
        """Every published frame (the broadcast subscriber, on the publishing thread): a row when a person gets a
        verdict not recorded for them yet, with a clip around it when the settings want one."""
        self.clips.observe(item)
        for tracked in item.faces:
            if tracked.track_id not in self._first_seen:
                self._first_seen[tracked.track_id] = item.captured
                _bound(self._first_seen)
        previous, self._shown = self._shown, item.state.value
        people = people_judged(item)
        verdict = f"{item.state.value}:{item.reason}"
        new = [person for person in people if self._judged.get(person) != verdict]
        if not new:
            return
        for person in people:
            self._judged[person] = verdict
            self._judged.move_to_end(person)
        _bound(self._judged)
        waited = item.captured - min(self._first_seen.get(person, item.captured) for person in new)
        at = wall_time(item.captured)
        clip = self.clips.request(item, media_name(at, item.sequence, ".webm")) \
            if self.clips.wanted(item.state.value) else None
        if not self._put(Verdict(item, previous, len(people), len(new), waited, at, clip)) and clip is not None:
            clip.row_written(None)

    def camera_changed(self, connected: bool, detail: str) -> None:
        """The camera lost (no frames) or back (kiosk.live.pipeline's camera listeners, on its thread)."""
        self._put(CameraChange(CAMERA_RESTORED if connected else CAMERA_LOST, None if connected else detail,
                               time.time()))

    def override(self, actor: str, via: str, item: Published | None) -> None:
        """A staff override given now (kiosk.outputs.override), with the newest frame."""
        self._put(Override(actor, via, time.time(), item))

    def _put(self, change: Verdict | CameraChange | Override) -> bool:
        try:
            self._queue.put_nowait(change)
            return True
        except queue.Full:
            self.dropped += 1
            return False

    # -- writer thread ------------------------------------------------------------------
    def _storage(self) -> sqlite3.Connection:
        if self._db is None:
            private_folder(self.snapshots)
            self._db = connect(self.db_path)
        return self._db

    def _failed(self, error: BaseException) -> None:
        reason = one_line(error)
        if reason != self.fault:
            log.error("recording failed (%s); the kiosk goes on, events are counted as lost until it works", reason)
        self.fault = reason
        if self._db is not None and not isinstance(error, OSError):
            self._db.close()  # a database error may leave the connection unusable: reopen next time
            self._db = None

    def _run(self) -> None:
        try:
            self._storage()  # at start, so a fault shows before the first event
        except Exception as error:  # noqa: BLE001 - any fault: reported, retried with the next event
            self._failed(error)
        while True:
            change = self._queue.get()
            if change is None:
                return
            try:
                if isinstance(change, CameraChange):
                    self.write_camera(change)
                elif isinstance(change, Override):
                    self.write_override(change)
                else:
                    event_id = None
                    try:
                        event_id = self.write(change)
                    finally:
                        if change.clip is not None:
                            change.clip.row_written(event_id)
                if self.fault is not None:
                    log.warning("recording works again")
                    self.fault = None
                if time.monotonic() - self._last_prune > PRUNE_EVERY_S:
                    self.prune()
            except Exception as error:  # noqa: BLE001 - the writer thread must outlive any one event
                self.dropped += 1
                self._failed(error)

    def write(self, verdict: Verdict) -> int:
        """Stores one verdict (snapshot first, then the row); returns the committed row id."""
        item = verdict.item
        return self._insert({"state": item.state.value, "previous": verdict.previous, "reason": item.reason,
                             "people": verdict.people, "new_people": verdict.new_people,
                             "seconds": round(verdict.seconds, 3)}, item, verdict.at)

    def write_camera(self, change: CameraChange) -> int:
        return self._insert({"state": change.state, "reason": change.detail}, None, change.at)

    def write_override(self, change: Override) -> int:
        """The override's time and who gave it, with the picture of that moment (who was let through)."""
        return self._insert({"state": OVERRIDE, "reason": change.via, "actor": change.actor}, change.item,
                            change.at)

    def _insert(self, values: dict[str, object], item: Published | None, at: float | None = None) -> int:
        """One row at `at` (Unix time; None: the frame's own); with a frame, also its snapshot (on disk first) and
        its faces. Returns the committed row id."""
        db = self._storage()
        relative = None
        if at is None:
            at = wall_time(item.captured) if item is not None else time.time()
        row: dict[str, object] = {"ts": at, "faces": 0, "masked": 0, "unmasked": 0, "incorrect": 0}
        if item is not None:
            labels = [t.label for t in item.faces]
            row.update(faces=len(labels), masked=labels.count("mask"), unmasked=labels.count("no_mask"),
                       incorrect=labels.count("incorrect"))
            jpeg = blur_faces(item.jpeg, [t.face.box for t in item.faces], item.frame_size) \
                if self.settings.blur_faces and item.faces else item.jpeg
            if self.make_room(db, len(jpeg)):  # else the row goes in without its picture
                relative = media_name(at, item.sequence, ".jpg")  # the row's time: one file per row
                private_folder((self.snapshots / relative).parent)
                write_durably(self.snapshots / relative, jpeg)
                row["snapshot"] = relative
        row.update(values)
        try:
            with db:
                cursor = db.execute(f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                    list(row.values()))
        except BaseException:
            if relative is not None:
                (self.snapshots / relative).unlink(missing_ok=True)  # no picture without its row
            raise
        return self._committed(int(cursor.lastrowid or 0))

    def _committed(self, event_id: int) -> int:
        self.written += 1
        for listener in self.listeners:
            listener()
        return event_id

    def make_room(self, db: sqlite3.Connection, size: int) -> bool:
        """Room in the snapshot quota for `size` more bytes of picture or clip, made by removing the oldest events'
        pictures and clips (their rows stay); False when even that leaves no room: the file is not written. Called
        before each write, from the event writer and the clip writer (each with its own connection), so the quota
        is never exceeded."""
        quota = self.settings.snapshot_quota_mb * 1e6
        with self._media_lock:
            if self._media_bytes is None:
                self._media_bytes = self.snapshot_bytes()
            if self._media_bytes + size > quota:
                rows = db.execute("SELECT id, snapshot, clip FROM events WHERE snapshot IS NOT NULL OR clip IS NOT NULL"
                                  " ORDER BY ts").fetchall()
                for event_id, snapshot, clip in rows:
                    if self._media_bytes + size <= quota:
                        break
                    self._media_bytes -= self._remove_file(snapshot) + self._remove_file(clip)
                    with db:
                        db.execute("UPDATE events SET snapshot = NULL, clip = NULL WHERE id = ?", (event_id,))
            if self._media_bytes + size > quota:
                return False
            self._media_bytes += size
            return True

    def prune(self) -> None:
        """Drops events past the retention age with their files, files no row names (left by a crash between file
        and row; a clip is given a minute to be named), then makes the quota hold (it may have been lowered)."""
        self._last_prune = time.monotonic()
        db = self._storage()
        cutoff = time.time() - self.settings.retention_days * 86400
        with self._media_lock:
            for snapshot, clip in db.execute("SELECT snapshot, clip FROM events WHERE ts < ?", (cutoff,)).fetchall():
                self._remove_file(snapshot)
                self._remove_file(clip)
            with db:
                db.execute("DELETE FROM events WHERE ts < ?", (cutoff,))
            named = {name for row in db.execute("SELECT snapshot, clip FROM events") for name in row if name}
            for path in self.snapshots.glob("*/*"):
                if path.relative_to(self.snapshots).as_posix() not in named and \
                        time.time() - path.stat().st_mtime > ORPHAN_AFTER_S:
                    path.unlink(missing_ok=True)
            self._media_bytes = None  # counted again
        self.make_room(db, 0)

    def _remove_file(self, relative: str | None) -> int:
        if not relative:
            return 0
        path = self.snapshots / relative
        try:
            size = path.stat().st_size
            path.unlink()
            return size
        except FileNotFoundError:
            return 0

    def snapshot_bytes(self) -> int:
        """The pictures and clips on disk. The writer may remove one while they are counted (the quota, the
        retention): a file or folder gone meanwhile counts nothing (os.walk skips a folder it cannot list)."""
        total = 0
        for folder, _, names in os.walk(self.snapshots):
            for name in names:
                if name.endswith((".jpg", ".webm")):
                    with contextlib.suppress(FileNotFoundError):
                        total += os.stat(os.path.join(folder, name)).st_size
        return total


class EventLog:
    """Read side for the admin page, the CSV export and metrics (its own connection; WAL lets it read during writes)."""

    def __init__(self, db_path: Path, snapshots: Path):
        self.db_path = db_path
        self.snapshots = snapshots
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _read(self, sql: str, parameters: tuple | list = ()) -> list[tuple]:
        """Rows of one query; opens the database on first use (sqlite3.Error while it cannot be read)."""
        with self._lock:
            if self._db is None:
                self._db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10,
                                           check_same_thread=False)
            return self._db.execute(sql, parameters).fetchall()

    def query(self, since: float, state: str | None = None, limit: int = 500) -> list[Event]:
        return self.page(since, None, (state,) if state else None, None, 0, limit)[0]

    def page(self, since: float, until: float | None, states: tuple[str, ...] | None, reason: str | None,
             offset: int, limit: int, last_id: int | None = None) -> tuple[list[Event], int]:
        """The events of a time range (until None: to now), of some states and a reason, newest first: `limit` of
        them from `offset`, and how many there are in all. `last_id` leaves out the events recorded after it, so
        the pages of one review do not shift while the kiosk records."""
        where: list[str] = ["ts >= ?"]
        parameters: list[object] = [since]
        if until is not None:
            where.append("ts < ?")
            parameters.append(until)
        if last_id is not None:
            where.append("id <= ?")
            parameters.append(last_id)
        if states:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            parameters.extend(states)
        if reason:
            where.append("reason = ?")
            parameters.append(reason)
        condition = " AND ".join(where)
        total = self._read(f"SELECT COUNT(*) FROM events WHERE {condition}", parameters)[0][0]
        rows = self._read(f"SELECT {', '.join(COLUMNS)} FROM events WHERE {condition} ORDER BY ts DESC, id DESC"
                          " LIMIT ? OFFSET ?", [*parameters, limit, offset])
        return [Event.from_row(row) for row in rows], int(total)

    def last_id(self) -> int:
        """The newest event's id (0: none yet)."""
        return int(self._read("SELECT COALESCE(MAX(id), 0) FROM events")[0][0])

    def event(self, event_id: int) -> Event | None:
        rows = self._read(f"SELECT {', '.join(COLUMNS)} FROM events WHERE id = ?", (event_id,))
        return Event.from_row(rows[0]) if rows else None

    def hourly_compliance(self, since: float, until: float | None = None) -> list[tuple[str, int, int]]:
        """(hour, passes, stops) per local hour that had any."""
        rows = self._read(
            "SELECT strftime('%Y-%m-%d %H:00', ts, 'unixepoch', 'localtime') AS hour,"
            " SUM(state = 'PASS'), SUM(state = 'STOP') FROM events WHERE ts >= ? AND ts < ? GROUP BY hour"
            " ORDER BY hour", (since, until if until is not None else float("inf")))
        return [(hour, int(passes or 0), int(stops or 0)) for hour, passes, stops in rows]

    def people(self, since: float) -> dict[str, int]:
        """People passed and stopped since a time: each row's newly judged people; in rows of earlier versions
        (no new_people) the masks of each PASS and the bare faces and wrongly worn masks of each STOP."""
        row = self._read("SELECT COALESCE(SUM(CASE WHEN state = 'PASS' THEN COALESCE(new_people, masked) END), 0),"
                         " COALESCE(SUM(CASE WHEN state = 'STOP' THEN COALESCE(new_people, unmasked + incorrect)"
                         " END), 0) FROM events WHERE ts >= ?", (since,))[0]
        return {"PASS": int(row[0]), "STOP": int(row[1])}

    def verdicts(self, since: float) -> dict[str, int]:
        """The gate's changes to PASS and to STOP since a time (a row for one more person under a PASS already
        shown is none)."""
        rows = self._read("SELECT state, COUNT(*) FROM events WHERE ts >= ? AND state IN ('PASS', 'STOP')"
                          " AND (previous IS NULL OR previous != state) GROUP BY state", (since,))
        return {state: dict(rows).get(state, 0) for state in VERDICTS}

    def counts(self, since: float = 0.0) -> dict[str, int]:
        """Events by state since a time (all of them by default)."""
        return dict(self._read("SELECT state, COUNT(*) FROM events WHERE ts >= ? GROUP BY state", (since,)))
