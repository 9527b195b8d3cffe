"""`mask-kiosk bench review`: the Events tab's page on a year's record.

A record of `events` rows over the last 365 days is made in a temporary folder with the kiosk's own schema and
indexes (kiosk.record.events.connect): verdicts as a gate sees them (more PASS than STOP, a few camera losses),
spread over opening hours. Then the tab's own query and rendering (kiosk.web.review.review_page, which the Events
tab calls) are timed for the filters an admin uses: the newest page, a deep page, STOP only, a reason, one day,
and the hourly chart of a week.
"""
from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kiosk.record.events import CAMERA_LOST, CAMERA_RESTORED, EventLog, connect
from kiosk.web.review import ReviewFilter, review_page

YEAR_S = 365 * 86400
REPEATS = 15


def fill_record(path: Path, events: int, seed: int = 3) -> None:
    """`events` rows over the last year, as the recorder writes them (snapshot names included)."""
    rng = np.random.default_rng(seed)
    now = time.time()
    days = rng.uniform(0, 365, events).astype(int)
    hours = rng.normal(13, 3, events).clip(6, 21)  # opening hours, busiest at midday
    stamps = np.sort(now - YEAR_S + days * 86400 + hours * 3600)
    kinds = rng.choice(["PASS", "STOP", "CAMERA"], events, p=[0.7, 0.29, 0.01])
    reasons = rng.choice(["no_mask", "incorrect"], events, p=[0.7, 0.3])
    rows: list[tuple] = []
    for index, (stamp, kind, reason) in enumerate(zip(stamps, kinds, reasons)):
        day = time.strftime("%Y-%m-%d", time.localtime(stamp))
        snapshot = f"{day}/{int(stamp * 1000)}-{index}.jpg"
        people = int(rng.integers(1, 3))
        if kind == "CAMERA":
            rows.append((stamp, CAMERA_LOST if index % 2 else CAMERA_RESTORED, None, 0, 0, 0, 0, None,
                         "no frame (unplugged, ended or failed)", None, None, None))
        elif kind == "PASS":
            rows.append((stamp, "PASS", "CHECKING", people, people, 0, 0, snapshot, "mask", people, 1,
                         float(rng.uniform(0.2, 2.0))))
        else:
            rows.append((stamp, "STOP", "CHECKING", people, 0, people if reason == "no_mask" else 0,
                         people if reason == "incorrect" else 0, snapshot, reason, people, 1,
                         float(rng.uniform(0.1, 1.0))))
    db = connect(path)
    with db:
        db.executemany("INSERT INTO events (ts, state, previous, faces, masked, unmasked, incorrect, snapshot, reason,"
                       " people, new_people, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


def _timed(action: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_review(events: int = 100_000) -> None:
    with tempfile.TemporaryDirectory(prefix="mask-kiosk-review-") as folder:
        path = Path(folder) / "events.sqlite3"
        started = time.perf_counter()
        fill_record(path, events)
        print(f"review: a record of {events} events over a year made in {time.perf_counter() - started:.1f} s "
              f"({path.stat().st_size / 1e6:.1f} MB)")
        log = EventLog(path, Path(folder) / "snapshots")
        now = time.time()
        year, day = now - YEAR_S - 86400, now - 86400
        cases = {
            "newest page (a year, all, 25 rows)": ReviewFilter(year, now, "all", "any", 0, 25),
            "page 2000 of the year (all, 25 rows)": ReviewFilter(year, now, "all", "any", 2000, 25),
            "STOP only (a year, 100 rows)": ReviewFilter(year, now, "STOP", "any", 0, 100),
            "worn wrongly, page 100 (a year)": ReviewFilter(year, now, "STOP", "incorrect", 100, 25),
            "camera events (a year)": ReviewFilter(year, now, "camera", "any", 0, 25),
            "the last day (all, 25 rows)": ReviewFilter(day, now, "all", "any", 0, 25),
        }
        print(f"  the Events tab's query and rendering (kiosk.web.review.review_page), {REPEATS} runs each:")
        for name, chosen in cases.items():
            shown = review_page(log, chosen)
            times = _timed(functools.partial(review_page, log, chosen))
            print(f"  {name:<40} median {np.median(times):6.1f} ms, max {max(times):6.1f} ms "
                  f"({shown.total} events, {len(shown.events)} shown)")
        week = now - 7 * 86400
        times = _timed(lambda: log.hourly_compliance(week, now))
        print(f"  {'hourly chart of a week':<40} median {np.median(times):6.1f} ms, max {max(times):6.1f} ms")
        times = _timed(lambda: log.hourly_compliance(year, now))
        print(f"  {'hourly chart of a year':<40} median {np.median(times):6.1f} ms, max {max(times):6.1f} ms")
