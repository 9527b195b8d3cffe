import dataclasses
import datetime
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from event_items import JPEG, frame, published, verdict
from mounts import fill, tmpfs
from waiting import wait_until

from kiosk.bench.samples import GRACE_HOPPER_FACE
from kiosk.config.record import RecordConfig
from kiosk.record.events import EventLog, EventRecorder
from kiosk.types import GateState

HERE = Path(__file__).parent


def test_sigkill_while_writing_leaves_a_clean_db_with_every_committed_event(tmp_path):
    child = subprocess.Popen([sys.executable, str(HERE / "event_writer_child.py"), str(tmp_path)],
                             stdout=subprocess.PIPE, text=True, cwd=HERE)
    committed = []
    for line in child.stdout:
        committed.append(int(line))
        if len(committed) >= 40:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    committed += [int(line) for line in child.stdout.read().split()]  # printed before the kill landed
    database = sqlite3.connect(tmp_path / "events.sqlite3")
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = {row[0] for row in database.execute("SELECT id FROM events")}
    assert set(committed) <= stored
    marks = ",".join("?" * len(committed))
    snapshots = {row[0] for row in database.execute(f"SELECT snapshot FROM events WHERE id IN ({marks})", committed)}
    assert all((tmp_path / "snapshots" / name).stat().st_size > 0 for name in snapshots)


def test_snapshot_quota_prunes_oldest_and_recording_goes_on(tmp_path):
    quota_mb = len(JPEG) * 5 / 1e6  # room for five snapshots
    recorder = EventRecorder(tmp_path, RecordConfig(snapshot_quota_mb=quota_mb)).start()
    states = [GateState.STOP, GateState.PASS]
    for sequence in range(20):
        recorder.observe(published(sequence, states[sequence % 2]))
        wait_until(lambda written=sequence + 1: recorder.written == written)
    recorder.prune()
    assert recorder.snapshot_bytes() <= quota_mb * 1e6
    log = EventLog(recorder.db_path, recorder.snapshots)
    rows = log.query(0)
    assert len(rows) == 20  # events stay; only old pictures go
    kept = [row.id for row in rows if row.snapshot]
    assert kept and min(kept) > max(row.id for row in rows if not row.snapshot)
    recorder.observe(published(20, GateState.STOP))
    wait_until(lambda: recorder.written == 21)
    recorder.stop()


def test_retention_drops_old_events(tmp_path):
    recorder = EventRecorder(tmp_path, RecordConfig(retention_days=1))
    recorder.write(verdict(0, GateState.STOP, age_s=3 * 86400))
    recorder.write(verdict(1, GateState.PASS))
    recorder.prune()
    rows = EventLog(recorder.db_path, recorder.snapshots).query(0)
    assert [row.state for row in rows] == ["PASS"]
    assert len(list(recorder.snapshots.rglob("*.jpg"))) == 1


def test_the_record_keeps_a_row_per_person_and_verdict_and_none_for_checking_or_no_face(tmp_path):
    recorder = EventRecorder(tmp_path, RecordConfig(blur_faces=True)).start()
    t0 = time.monotonic() - 10
    sequence = [
        (GateState.CHECKING, [(1, None)], 0.0),                # person 1 steps up
        (GateState.STOP, [(1, "no_mask")], 0.4),               # and is stopped: a row
        (GateState.STOP, [(1, "no_mask")], 0.5),               # the same verdict again: none
        (GateState.CHECKING, [(1, None)], 0.6),
        (GateState.PASS, [(1, "mask")], 1.5),                  # puts the mask on: a row
        (GateState.CHECKING, [(1, "mask"), (2, None)], 1.8),   # person 2 comes beside them
        (GateState.PASS, [(1, "mask"), (2, "mask")], 2.0),     # both pass: a row for person 2
        (GateState.PASS, [(1, "mask"), (2, "mask")], 2.1),
        (GateState.NO_FACE, [], 3.0),                          # they have gone: none
    ]
    for index, (state, faces, at) in enumerate(sequence):
        recorder.observe(frame(state, faces, index, t0 + at))
    recorder.camera_changed(False, "no frame (unplugged, ended or failed)")
    recorder.camera_changed(True, "")
    wait_until(lambda: recorder.written == 5)
    recorder.stop()
    log = EventLog(recorder.db_path, recorder.snapshots)
    rows = list(reversed(log.query(0)))
    assert [(r.state, r.reason, r.previous, r.people, r.new_people) for r in rows] == [
        ("STOP", "no_mask", "CHECKING", 1, 1), ("PASS", "mask", "CHECKING", 1, 1), ("PASS", "mask", "CHECKING", 2, 1),
        ("CAMERA_LOST", "no frame (unplugged, ended or failed)", None, None, None),
        ("CAMERA_RESTORED", None, None, None, None)]
    assert [r.seconds for r in rows[:3]] == [0.4, 1.5, 0.2]  # from each new person's first frame
    assert all(r.snapshot for r in rows[:3]) and not any(r.snapshot for r in rows[3:])
    from kiosk.web.review import ReviewFilter, events_csv
    csv_text = events_csv(log, ReviewFilter(0, time.time() + 1), "http://127.0.0.1:8080").splitlines()
    assert csv_text[0].startswith("time,outcome,reason,people,seconds to verdict")
    assert [line.split(",")[1] for line in csv_text[1:]] == ["STOP", "PASS", "PASS", "CAMERA_LOST", "CAMERA_RESTORED"]
    (hour, passes, stops), = log.hourly_compliance(0)
    assert (passes, stops) == (2, 1)
    assert log.people(0) == {"PASS": 2, "STOP": 1}  # person 1 counts under both: stopped, then passed
    assert log.verdicts(0) == {"PASS": 2, "STOP": 1}


def test_blurred_snapshots_pixelate_the_faces_and_nothing_else(tmp_path):
    recorder = EventRecorder(tmp_path, RecordConfig(blur_faces=True)).start()
    recorder.observe(published(0, GateState.STOP))
    wait_until(lambda: recorder.written == 1)
    recorder.stop()
    row, = EventLog(recorder.db_path, recorder.snapshots).query(0)
    original = cv2.imdecode(np.frombuffer(JPEG, np.uint8), cv2.IMREAD_COLOR).astype(int)
    snapshot = cv2.imread(str(recorder.snapshots / row.snapshot)).astype(int)
    x1, y1, x2, y2 = (int(v) for v in GRACE_HOPPER_FACE)  # the box the event names, in frame pixels
    face_before, face_after = original[y1 + 4:y2 - 4, x1 + 4:x2 - 4], snapshot[y1 + 4:y2 - 4, x1 + 4:x2 - 4]
    detail = lambda image: np.abs(np.diff(image, axis=1)).mean()  # noqa: E731 - neighbour differences
    assert detail(face_after) < 0.5 * detail(face_before)
    outside = (slice(0, 480), slice(x2 + 20, 640))
    assert np.abs(original[outside] - snapshot[outside]).mean() < 3  # only re-encoding noise


def test_read_only_state_folder_is_a_reported_fault_not_a_crash(tmp_path):
    with tmpfs(tmp_path / "state", "size=1m,ro") as state:
        recorder = EventRecorder(state, RecordConfig()).start()
        wait_until(lambda: recorder.fault is not None)
        assert "Read-only" in recorder.fault or "readonly" in recorder.fault
        for sequence in range(3):
            recorder.observe(published(sequence, [GateState.STOP, GateState.PASS][sequence % 2]))
        wait_until(lambda: recorder.dropped == 3)
        assert recorder.written == 0 and recorder._thread.is_alive()
        recorder.stop()


def test_full_disk_loses_counted_events_leaves_no_partial_files_and_recovers(tmp_path):
    with tmpfs(tmp_path / "state", "size=256k") as state:
        recorder = EventRecorder(state, RecordConfig()).start()
        recorder.observe(published(0, GateState.STOP))
        wait_until(lambda: recorder.written == 1)
        filler = fill(state)
        for sequence in range(1, 4):
            recorder.observe(published(sequence, [GateState.STOP, GateState.PASS][sequence % 2]))
        wait_until(lambda: recorder.dropped == 3)
        assert recorder.fault is not None and ("No space" in recorder.fault or "full" in recorder.fault)
        assert not list(state.rglob("*.tmp")), "partial files left behind"
        assert len(list(state.rglob("*.jpg"))) == 1  # no picture without its row
        filler.unlink()
        recorder.observe(published(4, GateState.STOP))
        wait_until(lambda: recorder.written == 2)
        assert recorder.fault is None
        recorder.stop()
        rows = EventLog(recorder.db_path, recorder.snapshots).query(0)
        assert [row.state for row in rows] == ["STOP", "STOP"]


def test_prune_removes_snapshots_without_a_row(tmp_path):
    recorder = EventRecorder(tmp_path, RecordConfig()).start()
    recorder.observe(published(0, GateState.STOP))
    wait_until(lambda: recorder.written == 1)
    orphan = tmp_path / "snapshots" / "2026-01-01" / "123-9.jpg"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(JPEG)
    os.utime(orphan, (time.time() - 120, time.time() - 120))  # left by a crash two minutes ago
    fresh = orphan.with_name("456-9.webm")  # a clip whose row is being updated right now
    fresh.write_bytes(b"webm")
    recorder.prune()
    assert not orphan.exists() and fresh.exists()
    assert len(list((tmp_path / "snapshots").rglob("*.jpg"))) == 1
    recorder.stop()


def test_todays_counts_survive_a_restart_from_the_record_and_count_new_changes(tmp_path):
    from kiosk.record.counters import DailyCounts, local_midnight
    recorder = EventRecorder(tmp_path, RecordConfig())
    since_midnight = time.time() - local_midnight()
    recorder.write(verdict(0, GateState.STOP, age_s=since_midnight + 3600))  # yesterday: not today's
    for sequence, state in enumerate([GateState.PASS, GateState.STOP, GateState.PASS], 1):
        label = "mask" if state == GateState.PASS else "no_mask"
        recorder.write(verdict(sequence, state, age_s=min(60.0, since_midnight / 2), label=label))
    counts = DailyCounts(EventLog(recorder.db_path, recorder.snapshots))  # as after a restart
    assert counts.today().to_json() == {"date": datetime.date.today().isoformat(), "passed": 2, "stopped": 1,
                                        "compliance": round(2 / 3, 4), "pass_verdicts": 2, "stop_verdicts": 1}
    counts.on_change(published(9, GateState.STOP), "CHECKING")
    counts.observe(published(9, GateState.STOP))
    assert (counts.today().stopped, counts.today().stop_verdicts) == (2, 2)
    assert DailyCounts(EventLog(tmp_path / "absent.sqlite3", tmp_path)).today().passed == 0


def test_todays_counts_count_people_not_verdicts():
    """Three masked people passing together are three; a bare face and then a wrongly masked one, each its own
    track, are two stopped under one STOP; a stopped person who then passes moves from stopped to passed; under
    STOP a masked person in the zone counts for neither."""
    from kiosk.record.counters import DailyCounts

    counts = DailyCounts()
    group = frame(GateState.PASS, [(1, "mask"), (2, "mask"), (3, "mask")])
    counts.on_change(group, "CHECKING")
    for _ in range(30):  # every frame of the PASS: each person once
        counts.observe(group)
    counts.on_change(frame(GateState.STOP, [(4, "no_mask")]), "PASS")
    for people in ([(4, "no_mask")], [(4, "no_mask"), (5, "incorrect")], [(5, "incorrect"), (6, "mask")]):
        counts.observe(frame(GateState.STOP, people))
    today = counts.today()
    assert (today.passed, today.stopped, today.pass_verdicts, today.stop_verdicts) == (3, 2, 1, 1)
    counts.observe(frame(GateState.PASS, [(5, "mask"), (6, "mask")]))  # 5 fixed the mask; 6 passes
    today = counts.today()
    assert (today.passed, today.stopped) == (5, 1)


def test_event_ids_only_grow_even_in_a_record_made_before_autoincrement(tmp_path):
    from kiosk.record.events import connect
    path = tmp_path / "events.sqlite3"
    with sqlite3.connect(path) as old:  # the table as earlier versions made it
        old.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ts REAL NOT NULL, state TEXT NOT NULL, previous "
                    "TEXT, faces INTEGER NOT NULL, masked INTEGER NOT NULL, unmasked INTEGER NOT NULL, incorrect "
                    "INTEGER NOT NULL, snapshot TEXT)")
        old.executemany("INSERT INTO events VALUES (?, 1.0, 'STOP', NULL, 1, 0, 1, 0, NULL)", [(5,), (9,)])
    db = connect(path)
    assert [row[0] for row in db.execute("SELECT id FROM events")] == [5, 9]
    with db:
        db.execute("DELETE FROM events")  # retention pruned everything
        db.execute("INSERT INTO events (ts, state, faces, masked, unmasked, incorrect)"
                   " VALUES (2.0, 'PASS', 1, 1, 0, 0)")
    assert db.execute("SELECT id FROM events").fetchone()[0] == 10
    db.close()


def test_a_record_from_before_the_reason_column_keeps_its_rows_and_gains_the_columns(tmp_path):
    """Both earlier schemas: ids that could be reused (no AUTOINCREMENT), and AUTOINCREMENT without `reason` (nor the
    people columns)."""
    for autoincrement in ("", " AUTOINCREMENT"):
        folder = tmp_path / (autoincrement.strip() or "plain")
        folder.mkdir()
        with sqlite3.connect(folder / "events.sqlite3") as db:
            db.execute(f"CREATE TABLE events (id INTEGER PRIMARY KEY{autoincrement}, ts REAL NOT NULL, state TEXT "
                       "NOT NULL, previous TEXT, faces INTEGER NOT NULL, masked INTEGER NOT NULL, unmasked INTEGER "
                       "NOT NULL, incorrect INTEGER NOT NULL, snapshot TEXT)")
            db.execute("INSERT INTO events VALUES (7, ?, 'STOP', 'NO_FACE', 1, 0, 1, 0, NULL)", (time.time(),))
        recorder = EventRecorder(folder, RecordConfig())
        recorder.write(verdict(1, GateState.PASS, label="mask"))
        rows = list(reversed(EventLog(recorder.db_path, recorder.snapshots).query(0)))
        assert [(row.id, row.state, row.reason, row.people) for row in rows] == [(7, "STOP", None, None),
                                                                              (8, "PASS", "mask", 1)]


def test_the_review_pages_a_record_by_range_outcome_and_reason_through_its_indexes(tmp_path):
    from kiosk.bench.review import fill_record
    from kiosk.web.review import ReviewFilter, events_csv, review_page
    fill_record(tmp_path / "events.sqlite3", 3000)
    log = EventLog(tmp_path / "events.sqlite3", tmp_path / "snapshots")
    now = time.time()
    with sqlite3.connect(tmp_path / "events.sqlite3") as db:
        stops = db.execute("SELECT COUNT(*) FROM events WHERE state = 'STOP' AND reason = 'incorrect'").fetchone()[0]
        plan = " ".join(row[-1] for row in db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM events WHERE ts >= 0 AND ts < 1 AND state IN ('STOP')"))
    assert "events_state_ts" in plan or "events_ts" in plan, plan
    chosen = ReviewFilter(now - 400 * 86400, now, "STOP", "incorrect", 0, 25)
    seen = []
    for number in range(-(-stops // 25)):
        page = review_page(log, dataclasses.replace(chosen, page=number))
        assert page.total == stops and all(e.state == "STOP" and e.reason == "incorrect" for e in page.events)
        seen += [e.id for e in page.events]
    assert len(seen) == len(set(seen)) == stops  # every event once, on one page
    assert seen == sorted(seen, reverse=True)     # newest first (ids grow with time here)
    past_the_end = review_page(log, dataclasses.replace(chosen, page=10_000))
    assert past_the_end.page == past_the_end.pages - 1 and past_the_end.events
    # events recorded while someone pages do not shift the pages: the review keeps the newest event it began at
    begun = ReviewFilter(now - 400 * 86400, now + 60, "all", "any", 0, 10, log.last_id())
    first = review_page(log, begun)
    with sqlite3.connect(tmp_path / "events.sqlite3") as db:
        db.executemany("INSERT INTO events (ts, state, previous, faces, masked, unmasked, incorrect, reason)"
                       " VALUES (?, 'STOP', 'CHECKING', 1, 0, 1, 0, 'no_mask')", [(now + 1,), (now + 2,)])
    second = review_page(log, dataclasses.replace(begun, page=1))
    assert first.total == second.total and max(e.id for e in second.events) < min(e.id for e in first.events)
    assert review_page(log, dataclasses.replace(begun, last_id=log.last_id())).total == first.total + 2
    day = review_page(log, ReviewFilter(now - 86400, now, "all", "any", 0, 100))
    assert all(e.ts >= now - 86400 for e in day.events)
    lines = events_csv(log, chosen, "https://kiosk.local:8443/").splitlines()
    assert len(lines) == stops + 1 and lines[1].split(",")[-2].startswith("https://kiosk.local:8443/admin/events/")
    with pytest.raises(ValueError, match="to: must be after from"):
        ReviewFilter(now, now - 1)
    with pytest.raises(ValueError, match="outcome"):
        ReviewFilter(0, now, "CHECKING")


def test_clips_and_snapshots_never_exceed_the_quota_and_the_newest_survive(tmp_path):
    """A person stopped, then another, ... each with a clip (half a second before and after, 10 fps): with room for
    about three events' files, every write first makes room, oldest first."""
    per_event = len(JPEG) + 60_000  # a snapshot and a clip of about six frames, roughly
    quota_mb = 3 * per_event / 1e6
    recorder = EventRecorder(tmp_path, RecordConfig(snapshot_quota_mb=quota_mb, clips="all", clip_before_s=0.5,
                                                    clip_after_s=0.5, clip_fps=10)).start()
    t0 = time.monotonic() - 100
    track, sequence, highest = 1, 0, 0
    for _person in range(8):
        for index in range(30):  # one second at 30 fps: the verdict on the tenth frame
            state, label = (GateState.CHECKING, None) if index < 10 else (GateState.STOP, "no_mask")
            recorder.observe(frame(state, [(track, label)], sequence, t0 + sequence / 30))
            sequence += 1
            highest = max(highest, recorder.snapshot_bytes())
        recorder.observe(frame(GateState.NO_FACE, [], sequence, t0 + sequence / 30))
        sequence, track = sequence + 1, track + 1
    wait_until(lambda: recorder.written == 8 and recorder.clips.written + recorder.clips.failed == 8, 60,
               "eight events and their clips")
    recorder.stop()
    assert highest <= quota_mb * 1e6 and recorder.snapshot_bytes() <= quota_mb * 1e6
    rows = EventLog(recorder.db_path, recorder.snapshots).query(0)  # newest first
    assert rows[0].snapshot and rows[0].clip, rows[0]  # the newest event keeps its picture and its clip
    assert not rows[-1].snapshot and not rows[-1].clip  # the oldest gave theirs up
    kept = [row.id for row in rows if row.snapshot or row.clip]
    assert kept == sorted(kept, reverse=True)[:len(kept)] and min(kept) > max(r.id for r in rows if r.id not in kept)
    clip = recorder.snapshots / rows[0].clip
    assert clip.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # a WebM (Matroska EBML) file
    capture = cv2.VideoCapture(str(clip))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert 8 <= frames <= 12, frames  # 0.5 s before and 0.5 s after at 10 fps


def test_a_clip_plays_at_the_pace_it_happened_however_few_frames_were_published():
    from kiosk.record.clips import paced
    assert paced([0.0, 0.1, 0.2], 10) == [0, 1, 2]
    assert paced([0.0, 0.35, 0.5], 10) == [0, 0, 0, 0, 1, 2]  # a busy box's 3 frames still fill half a second
    assert paced([5.0], 10) == [0]
