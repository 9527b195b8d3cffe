"""The IoU tracker: identity across frames, majority label, tracks that end."""
import numpy as np

from kiosk.types import Face
from kiosk.live.tracker import FaceTracker


def face(x, label, y=100, size=100, score=0.99):
    return Face(np.array([x, y, x + size, y + size], float), score, np.zeros((5, 2)), label)


def test_a_moving_face_keeps_its_identity_and_a_new_one_gets_its_own():
    tracker = FaceTracker(history=5, min_iou=0.3, max_missed=2)
    first = tracker.update([face(100, "mask")], 0.0)
    moved = tracker.update([face(110, "mask"), face(400, "no_mask")], 0.1)
    assert first[0].track_id == moved[0].track_id
    assert moved[1].track_id != moved[0].track_id


def test_label_is_the_majority_of_the_history():
    tracker = FaceTracker(history=5, min_iou=0.3, max_missed=2)
    labels = ["mask", "mask", "no_mask", "mask", "no_mask", "no_mask", "no_mask"]
    shown = [tracker.update([face(100, label)], i * 0.1)[0] for i, label in enumerate(labels)]
    assert [t.label for t in shown] == ["mask", "mask", "mask", "mask", "mask", "no_mask", "no_mask"]
    assert shown[5].label_since == 0.5 and shown[6].label_since == 0.5  # when the majority changed


def test_a_track_ends_after_max_missed_frames():
    tracker = FaceTracker(history=5, min_iou=0.3, max_missed=2)
    track_id = tracker.update([face(100, "mask")], 0.0)[0].track_id
    tracker.update([], 0.1)
    tracker.update([], 0.2)
    assert tracker.update([face(100, "mask")], 0.3)[0].track_id == track_id  # missed 2: still the same
    for t in (0.4, 0.5, 0.6):
        tracker.update([], t)
    assert tracker.update([face(100, "mask")], 0.7)[0].track_id != track_id  # missed 3: a new track
