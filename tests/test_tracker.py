"""The IoU tracker: identity across frames, confirmed labels, tracks that end."""
import numpy as np

from kiosk.live.tracker import FaceTracker
from kiosk.types import Face


def face(x, label, y=100, size=100, score=0.99):
    return Face(np.array([x, y, x + size, y + size], float), score, np.zeros((5, 2)), label)


def test_a_moving_face_keeps_its_identity_and_a_new_one_gets_its_own():
    tracker = FaceTracker(confirm_frames=2, min_iou=0.3, max_missed=2)
    first = tracker.update([face(100, "mask")], 0.0)
    moved = tracker.update([face(110, "mask"), face(400, "no_mask")], 0.1)
    assert first[0].track_id == moved[0].track_id
    assert moved[1].track_id != moved[0].track_id


def test_a_label_shows_once_confirmed_and_a_change_is_unlabelled_until_confirmed():
    tracker = FaceTracker(confirm_frames=2, min_iou=0.3, max_missed=2)
    labels = ["mask", "mask", "no_mask", "mask", "mask", "no_mask", "no_mask", "no_mask"]
    shown = [tracker.update([face(100, label)], float(i))[0] for i, label in enumerate(labels)]
    assert [t.label for t in shown] == [None, "mask", None, None, "mask", None, "no_mask", "no_mask"]
    assert shown[6].label_since == shown[7].label_since == 6  # when the new label was confirmed


def test_a_person_taking_anothers_place_never_carries_the_old_label():
    tracker = FaceTracker(confirm_frames=3, min_iou=0.3, max_missed=2)
    for i in range(5):
        tracker.update([face(100, "no_mask")], i * 0.1)
    after_cut = [tracker.update([face(102, "mask")], 0.5 + i * 0.1)[0] for i in range(4)]
    assert [t.label for t in after_cut] == [None, None, "mask", "mask"]
    assert len({t.track_id for t in after_cut}) == 1  # the same place: IoU keeps one track


def test_a_track_ends_after_max_missed_frames():
    tracker = FaceTracker(confirm_frames=2, min_iou=0.3, max_missed=2)
    track_id = tracker.update([face(100, "mask")], 0.0)[0].track_id
    tracker.update([], 0.1)
    tracker.update([], 0.2)
    assert tracker.update([face(100, "mask")], 0.3)[0].track_id == track_id  # missed 2: still the same
    for t in (0.4, 0.5, 0.6):
        tracker.update([], t)
    assert tracker.update([face(100, "mask")], 0.7)[0].track_id != track_id  # missed 3: a new track
