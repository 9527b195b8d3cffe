"""The record as a send queue: recorded events not yet delivered to a consumer (MQTT), in order, none twice.

A cursor per consumer (the id of the last event delivered) lives in the same SQLite file, so what was not sent
survives a broker outage and a restart. A new cursor starts at the newest event: history is not replayed. The
queue is bounded: beyond `max_pending` unsent events the oldest are skipped and counted.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from kiosk.record.events import COLUMNS, Event, connect

CURSORS = "CREATE TABLE IF NOT EXISTS outbox (consumer TEXT PRIMARY KEY, last_id INTEGER NOT NULL)"


class EventOutbox:
    def __init__(self, db_path: Path, consumer: str, max_pending: int):
        self.db_path = db_path
        self.consumer = consumer
        self.max_pending = max_pending
        self.skipped = 0   # events dropped unsent because more than max_pending waited
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = connect(self.db_path)
            db.execute(CURSORS)
            with db:
                db.execute("INSERT OR IGNORE INTO outbox VALUES (?, (SELECT COALESCE(MAX(id), 0) FROM events))",
                           (self.consumer,))
            self._db = db
        return self._db

    def _cursor(self, db: sqlite3.Connection) -> int:
        return db.execute("SELECT last_id FROM outbox WHERE consumer = ?", (self.consumer,)).fetchone()[0]

    def pending(self, limit: int = 100) -> list[Event]:
        """The oldest unsent events (raises sqlite3.Error while the record cannot be read)."""
        with self._lock:
            db = self._connection()
            last = self._cursor(db)
            waiting = self._count(db, last)
            if waiting > self.max_pending:
                skip_to = db.execute("SELECT id FROM events WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?",
                                     (last, waiting - self.max_pending - 1)).fetchone()[0]
                self._advance(db, skip_to)
                self.skipped += waiting - self.max_pending
                last = skip_to
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM events WHERE id > ? ORDER BY id LIMIT ?",
                              (last, limit)).fetchall()
            return [Event.from_row(row) for row in rows]

    def sent(self, event_id: int) -> None:
        """The event was delivered: the cursor moves past it."""
        with self._lock:
            self._advance(self._connection(), event_id)

    def unsent(self) -> int:
        with self._lock:
            db = self._connection()
            return self._count(db, self._cursor(db))

    @staticmethod
    def _count(db: sqlite3.Connection, after: int) -> int:
        return db.execute("SELECT COUNT(*) FROM events WHERE id > ?", (after,)).fetchone()[0]

    def _advance(self, db: sqlite3.Connection, event_id: int) -> None:
        with db:
            db.execute("UPDATE outbox SET last_id = ? WHERE consumer = ? AND last_id < ?",
                       (event_id, self.consumer, event_id))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
