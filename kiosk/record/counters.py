"""Today's counts of people passed and stopped, for the kiosk screen, the admin page, /metrics and MQTT.

Counted from the gate's state changes as they happen (so a recording fault does not stop the count), started
from the record at start-up so a restart keeps the day's figures, and reset at local midnight.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass

from kiosk.record.events import EventLog
from kiosk.types import GateState, Published

log = logging.getLogger(__name__)


def local_midnight(day: datetime.date | None = None) -> float:
    """The Unix time the local day began (mktime knows the day's own UTC offset, daylight saving or not)."""
    return time.mktime((day or datetime.date.today()).timetuple())


@dataclass(frozen=True)
class TodayCounts:
    date: str                  # the local day, ISO
    passed: int
    stopped: int
    compliance: float | None   # passed / (passed + stopped); None before anyone came

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


class DailyCounts:
    def __init__(self, events: EventLog | None = None):
        self._lock = threading.Lock()
        self._day = datetime.date.today()
        self._passed = self._stopped = 0
        if events is not None and events.db_path.exists():  # a first start has no record yet: zero, said nowhere
            try:
                counts = events.counts(local_midnight(self._day))
                self._passed, self._stopped = counts.get("PASS", 0), counts.get("STOP", 0)
            except sqlite3.Error as error:  # no record yet, or unreadable: count from zero
                log.info("today's counts start from zero (%s)", error)

    def on_change(self, item: Published, previous: str) -> None:
        """A state change (via kiosk.types.on_changes, on the publishing thread)."""
        with self._lock:
            self._roll_over()
            if item.state == GateState.PASS:
                self._passed += 1
            elif item.state == GateState.STOP:
                self._stopped += 1

    def _roll_over(self) -> None:
        today = datetime.date.today()
        if today != self._day:
            self._day, self._passed, self._stopped = today, 0, 0

    def today(self) -> TodayCounts:
        with self._lock:
            self._roll_over()
            total = self._passed + self._stopped
            return TodayCounts(self._day.isoformat(), self._passed, self._stopped,
                               round(self._passed / total, 4) if total else None)
