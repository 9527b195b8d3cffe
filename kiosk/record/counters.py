"""Today's counts of people passed and stopped, for the kiosk screen, the admin page, /metrics and MQTT.

People are tracks: each person in the zone counts once, by their latest verdict (three people passing together
are three; one stopped who then puts the mask on moves from stopped to passed; under STOP only the faces it is
about count). The gate's verdicts (state changes to PASS or STOP) are counted apart. Both are counted as they
happen (a recording fault does not stop them), reset at local midnight, and started from the record at start-up
so that a restart keeps the day's figures: verdicts exactly, people from the faces of each PASS and STOP event
(a person stopped and then passed in the record counts twice there).
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from kiosk.live.decision import people_judged
from kiosk.record.events import EventLog
from kiosk.types import Published

log = logging.getLogger(__name__)


def local_midnight(day: datetime.date | None = None) -> float:
    """The Unix time the local day began (mktime knows the day's own UTC offset, daylight saving or not)."""
    return time.mktime((day or datetime.date.today()).timetuple())


REMEMBERED = 1000  # people whose verdict is kept (a track's later verdict replaces its earlier one)


@dataclass(frozen=True)
class TodayCounts:
    date: str                  # the local day, ISO
    passed: int                # people
    stopped: int               # people
    compliance: float | None   # passed / (passed + stopped); None before anyone came
    pass_verdicts: int         # the gate's changes to PASS
    stop_verdicts: int         # the gate's changes to STOP

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


class DailyCounts:
    def __init__(self, events: EventLog | None = None):
        self._lock = threading.Lock()
        self._day = datetime.date.today()
        self._people = {"PASS": 0, "STOP": 0}
        self._verdicts = {"PASS": 0, "STOP": 0}
        self._latest: OrderedDict[int, str] = OrderedDict()  # track id -> its latest verdict
        if events is not None and events.db_path.exists():  # a first start has no record yet: zero, said nowhere
            try:
                since = local_midnight(self._day)
                self._verdicts = events.verdicts(since)
                self._people = events.people(since)
            except sqlite3.Error as error:  # no record yet, or unreadable: count from zero
                log.info("today's counts start from zero (%s)", error)

    def observe(self, item: Published) -> None:
        """Every published frame (on the publishing thread): the people a PASS or STOP is about."""
        about = people_judged(item)
        if not about:
            return
        with self._lock:
            self._roll_over()
            for track_id in about:
                before = self._latest.get(track_id)
                if before == item.state.value:
                    continue
                if before is not None:
                    self._people[before] -= 1
                self._people[item.state.value] += 1
                self._latest[track_id] = item.state.value
                self._latest.move_to_end(track_id)
                while len(self._latest) > REMEMBERED:
                    self._latest.popitem(last=False)

    def on_change(self, item: Published, previous: str) -> None:
        """A state change (via kiosk.types.on_changes, on the publishing thread)."""
        with self._lock:
            self._roll_over()
            if item.state.value in self._verdicts:
                self._verdicts[item.state.value] += 1

    def _roll_over(self) -> None:
        today = datetime.date.today()
        if today != self._day:
            self._day, self._people, self._verdicts = today, {"PASS": 0, "STOP": 0}, {"PASS": 0, "STOP": 0}
            self._latest.clear()

    def today(self) -> TodayCounts:
        with self._lock:
            self._roll_over()
            passed, stopped = self._people["PASS"], self._people["STOP"]
            total = passed + stopped
            return TodayCounts(self._day.isoformat(), passed, stopped, round(passed / total, 4) if total else None,
                               self._verdicts["PASS"], self._verdicts["STOP"])
