"""Monitoring record: every gate-state change as a row in SQLite (WAL) with a JPEG snapshot.

Writes happen on one writer thread fed by a bounded queue, so the pipeline never
waits on the disk. A snapshot is on disk (fsynced) before its row commits; a
row committed is on disk (synchronous=FULL) before the next event is taken.
Storage faults (read-only or full disk, a broken database) never reach the kiosk:
recording is marked failed (`fault`), each event not stored is counted (`dropped`),
no partial file stays behind, and the next event tries again.
"""
from __future__ import annotations

import csv
import io
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.config.record import RecordConfig
from kiosk.durable import private_file, private_folder, write_durably
from kiosk.errors import one_line
from kiosk.types import Published, on_changes

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
    reason TEXT
)"""
EVENTS_INDEX = "CREATE INDEX IF NOT EXISTS events_ts ON events (ts)"
COLUMNS = ("id", "ts", "state", "previous", "faces", "masked", "unmasked", "incorrect", "snapshot", "reason")


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
    reason: str | None       # the label behind a PASS or STOP ("mask", "no_mask", "incorrect"); None otherwise

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


def connect(path: Path) -> sqlite3.Connection:
    """The record's database, made 0600 when new (SQLite gives its -wal and -shm files the same mode)."""
    connection = sqlite3.connect(private_file(path), timeout=10, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("BEGIN IMMEDIATE")  # one writer sets up or migrates the schema at a time
    try:
        # a record made by an earlier version: ids that may be reused, or no reason column
        old = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone()
        if old is not None and "AUTOINCREMENT" not in old[0].upper():
            kept = ", ".join(row[1] for row in connection.execute("PRAGMA table_info(events)"))
            connection.execute("ALTER TABLE events RENAME TO events_before_autoincrement")
            connection.execute(EVENTS_TABLE)
            connection.execute(f"INSERT INTO events ({kept}) SELECT {kept} FROM events_before_autoincrement")
            connection.execute("DROP TABLE events_before_autoincrement")
        elif old is not None and "reason" not in {row[1] for row in connection.execute("PRAGMA table_info(events)")}:
            connection.execute("ALTER TABLE events ADD COLUMN reason TEXT")
        connection.execute(EVENTS_TABLE)
        connection.execute(EVENTS_INDEX)
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
    scale = image.shape[1] / frame_size[0]
    for box in boxes:
        x1, y1, x2, y2 = (int(round(v * scale)) for v in box)
        x1, y1 = max(x1, 0), max(y1, 0)
        x2, y2 = min(x2, image.shape[1]), min(y2, image.shape[0])
        if x2 - x1 > 1 and y2 - y1 > 1:
            face = image[y1:y2, x1:x2]
            small = cv2.resize(face, (max(1, (x2 - x1) // 12), max(1, (y2 - y1) // 12)), interpolation=cv2.INTER_AREA)
            image[y1:y2, x1:x2] = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


class EventRecorder:
    def __init__(self, state_dir: Path, settings: RecordConfig, queue_size: int = 256):
        self.settings = settings
        self.db_path = state_dir / "events.sqlite3"
        self.snapshots = state_dir / "snapshots"
        self._db: sqlite3.Connection | None = None  # opened (and reopened after a fault) by the writer thread
        self._queue: queue.Queue[tuple[Published, str] | None] = queue.Queue(maxsize=queue_size)
        self.observe = on_changes(self._changed)  # the broadcast subscriber: only state changes are events
        self._last_prune = 0.0
        self.dropped = 0        # events not stored: writer behind, or a storage fault
        self.written = 0
        self.fault: str | None = None  # why recording does not work now; None while it does
        self.listeners: list[Callable[[], None]] = []  # told after each commit (the MQTT outbox), on this thread
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)

    def start(self) -> EventRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        if self._db is not None:
            self._db.close()

    # -- pipeline side: must not block ---------------------------------------------
    def _changed(self, item: Published, previous: str) -> None:
        try:
            self._queue.put_nowait((item, previous))
        except queue.Full:
            self.dropped += 1

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
                self.write(*change)
                if self.fault is not None:
                    log.warning("recording works again")
                    self.fault = None
                if time.monotonic() - self._last_prune > PRUNE_EVERY_S:
                    self.prune()
            except Exception as error:  # noqa: BLE001 - the writer thread must outlive any one event
                self.dropped += 1
                self._failed(error)

    def write(self, item: Published, previous: str | None) -> int:
        """Stores one event (snapshot first, then the row); returns the committed row id."""
        labels = [t.label for t in item.faces]
        wall_time = time.time() - (time.monotonic() - item.captured)
        day = time.strftime("%Y-%m-%d", time.localtime(wall_time))
        relative = f"{day}/{int(wall_time * 1000)}-{item.sequence}.jpg"
        jpeg = blur_faces(item.jpeg, [t.face.box for t in item.faces], item.frame_size) \
            if self.settings.blur_faces and item.faces else item.jpeg
        db = self._storage()
        private_folder(self.snapshots / day)
        write_durably(self.snapshots / relative, jpeg)
        try:
            with db:
                cursor = db.execute(
                    "INSERT INTO events (ts, state, previous, faces, masked, unmasked, incorrect, snapshot, reason)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (wall_time, item.state.value, previous, len(labels), labels.count("mask"),
                     labels.count("no_mask"), labels.count("incorrect"), relative, item.reason))
        except BaseException:
            (self.snapshots / relative).unlink(missing_ok=True)  # no picture without its row
            raise
        self.written += 1
        for listener in self.listeners:
            listener()
        return int(cursor.lastrowid or 0)

    def prune(self) -> None:
        """Drops events past the retention age, snapshot files no row names (left by a crash between file and
        row), then the oldest snapshots while over the disk quota."""
        self._last_prune = time.monotonic()
        db = self._storage()
        cutoff = time.time() - self.settings.retention_days * 86400
        old = db.execute("SELECT snapshot FROM events WHERE ts < ?", (cutoff,)).fetchall()
        for (snapshot,) in old:
            self._remove_snapshot(snapshot)
        with db:
            db.execute("DELETE FROM events WHERE ts < ?", (cutoff,))
        named = {row[0] for row in db.execute("SELECT snapshot FROM events WHERE snapshot IS NOT NULL")}
        for path in self.snapshots.glob("*/*"):
            if path.relative_to(self.snapshots).as_posix() not in named:
                path.unlink(missing_ok=True)
        quota = self.settings.snapshot_quota_mb * 1e6
        total = self.snapshot_bytes()
        if total <= quota:
            return
        rows = db.execute("SELECT id, snapshot FROM events WHERE snapshot IS NOT NULL ORDER BY ts").fetchall()
        for event_id, snapshot in rows:
            if total <= quota:
                break
            total -= self._remove_snapshot(snapshot)
            with db:
                db.execute("UPDATE events SET snapshot = NULL WHERE id = ?", (event_id,))

    def _remove_snapshot(self, relative: str | None) -> int:
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
        return sum(p.stat().st_size for p in self.snapshots.rglob("*.jpg"))


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
        sql = f"SELECT {', '.join(COLUMNS)} FROM events WHERE ts >= ?"
        parameters: list = [since]
        if state:
            sql += " AND state = ?"
            parameters.append(state)
        sql += " ORDER BY ts DESC LIMIT ?"
        parameters.append(limit)
        return [Event.from_row(row) for row in self._read(sql, parameters)]

    def csv(self, since: float, state: str | None = None) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["time", *COLUMNS[2:]])
        for event in reversed(self.query(since, state, limit=1_000_000)):
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.ts))
            writer.writerow([stamp, *(getattr(event, column) for column in COLUMNS[2:])])
        return out.getvalue()

    def hourly_compliance(self, since: float) -> list[tuple[str, int, int]]:
        """(hour, passes, stops) per local hour that had any."""
        rows = self._read(
            "SELECT strftime('%Y-%m-%d %H:00', ts, 'unixepoch', 'localtime') AS hour,"
            " SUM(state = 'PASS'), SUM(state = 'STOP') FROM events WHERE ts >= ? GROUP BY hour ORDER BY hour",
            (since,))
        return [(hour, int(passes or 0), int(stops or 0)) for hour, passes, stops in rows]

    def people(self, since: float) -> dict[str, int]:
        """People passed and stopped since a time, from the events' faces: the masks of each PASS, the bare faces
        and wrongly worn masks of each STOP."""
        row = self._read("SELECT COALESCE(SUM(CASE WHEN state = 'PASS' THEN masked END), 0),"
                         " COALESCE(SUM(CASE WHEN state = 'STOP' THEN unmasked + incorrect END), 0)"
                         " FROM events WHERE ts >= ?", (since,))[0]
        return {"PASS": int(row[0]), "STOP": int(row[1])}

    def counts(self, since: float = 0.0) -> dict[str, int]:
        """Events by state since a time (all of them by default)."""
        return dict(self._read("SELECT state, COUNT(*) FROM events WHERE ts >= ? GROUP BY state", (since,)))
