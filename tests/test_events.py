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
from event_items import JPEG, published
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
    recorder.write(published(0, GateState.STOP, age_s=3 * 86400), None)
    recorder.write(published(1, GateState.PASS), "STOP")
    recorder.prune()
    rows = EventLog(recorder.db_path, recorder.snapshots).query(0)
    assert [row.state for row in rows] == ["PASS"]
    assert len(list(recorder.snapshots.rglob("*.jpg"))) == 1


def test_only_state_changes_are_recorded_and_exported(tmp_path):
    recorder = EventRecorder(tmp_path, RecordConfig(blur_faces=True)).start()
    # the first NO_FACE is the kiosk's own starting state, not a change
    sequence = [GateState.NO_FACE, GateState.STOP, GateState.STOP, GateState.STOP, GateState.PASS, GateState.PASS,
                GateState.NO_FACE]
    for index, state in enumerate(sequence):
        recorder.observe(published(index, state, label="no_mask" if state == GateState.STOP else "mask"))
    wait_until(lambda: recorder.written == 3)
    recorder.stop()
    log = EventLog(recorder.db_path, recorder.snapshots)
    rows = list(reversed(log.query(0)))
    assert [(row.state, row.previous) for row in rows] == [("STOP", "NO_FACE"), ("PASS", "STOP"),
                                                                ("NO_FACE", "PASS")]
    csv_text = log.csv(0).splitlines()
    assert csv_text[0] == "time,state,previous,faces,masked,unmasked,incorrect,snapshot,reason"
    assert [line.split(",")[1] for line in csv_text[1:]] == ["STOP", "PASS", "NO_FACE"]
    assert [line.split(",")[-1] for line in csv_text[1:]] == ["no_mask", "mask", ""]  # what STOP and PASS were for
    assert [row.reason for row in rows] == ["no_mask", "mask", None]
    (hour, passes, stops), = log.hourly_compliance(0)
    assert (passes, stops) == (1, 1)
    assert log.counts() == {"NO_FACE": 1, "STOP": 1, "PASS": 1}


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
    recorder.prune()
    assert not orphan.exists()
    assert len(list((tmp_path / "snapshots").rglob("*.jpg"))) == 1
    recorder.stop()


def test_todays_counts_survive_a_restart_from_the_record_and_count_new_changes(tmp_path):
    from kiosk.record.counters import DailyCounts, local_midnight
    recorder = EventRecorder(tmp_path, RecordConfig())
    since_midnight = time.time() - local_midnight()
    recorder.write(published(0, GateState.STOP, age_s=since_midnight + 3600), None)  # yesterday: not today's
    for sequence, state in enumerate([GateState.PASS, GateState.STOP, GateState.PASS, GateState.NO_FACE], 1):
        label = "mask" if state == GateState.PASS else "no_mask"
        recorder.write(published(sequence, state, age_s=min(60.0, since_midnight / 2), label=label), None)
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
    from kiosk.types import Face, Published, TrackedFace

    def frame(state: GateState, faces: list[tuple[int, str]], sequence: int = 0) -> Published:
        tracked = [TrackedFace(Face(np.array(GRACE_HOPPER_FACE), 0.9, np.zeros((5, 2)), label, 0.9), track, label, 0.0)
                   for track, label in faces]
        return Published(sequence, sequence, 0.0, 0.0, tracked, state, JPEG, 0, (640, 480),
                         people=tuple(track for track, _ in faces), in_zone=(True,) * len(faces))

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


def test_a_record_from_before_the_reason_column_keeps_its_rows_and_gains_the_column(tmp_path):
    """Both earlier schemas: ids that could be reused (no AUTOINCREMENT), and AUTOINCREMENT without `reason`."""
    for autoincrement in ("", " AUTOINCREMENT"):
        folder = tmp_path / (autoincrement.strip() or "plain")
        folder.mkdir()
        with sqlite3.connect(folder / "events.sqlite3") as db:
            db.execute(f"CREATE TABLE events (id INTEGER PRIMARY KEY{autoincrement}, ts REAL NOT NULL, state TEXT "
                       "NOT NULL, previous TEXT, faces INTEGER NOT NULL, masked INTEGER NOT NULL, unmasked INTEGER "
                       "NOT NULL, incorrect INTEGER NOT NULL, snapshot TEXT)")
            db.execute("INSERT INTO events VALUES (7, ?, 'STOP', 'NO_FACE', 1, 0, 1, 0, NULL)", (time.time(),))
        recorder = EventRecorder(folder, RecordConfig())
        recorder.write(published(1, GateState.PASS, label="mask"), "STOP")
        rows = list(reversed(EventLog(recorder.db_path, recorder.snapshots).query(0)))
        assert [(row.id, row.state, row.reason) for row in rows] == [(7, "STOP", None), (8, "PASS", "mask")]
