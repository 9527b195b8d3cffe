"""The IoU tracker: identity across frames, verdicts from all of a track's frames, tracks that end."""
import numpy as np

from kiosk.live.tracker import FaceTracker
from kiosk.types import Face
from kiosk.vision.verdict import CLASSES, TrackEvidence, VerdictRule

CONFIDENT = {"mask": [0.95, 0.03, 0.02], "no_mask": [0.03, 0.95, 0.02], "incorrect": [0.03, 0.02, 0.95]}


def face(x, label, y=100, size=100, score=0.99, probabilities=None):
    row = np.array(probabilities if probabilities is not None else CONFIDENT[label])
    return Face(np.array([x, y, x + size, y + size], float), score, np.zeros((5, 2)), label, float(row.max()), row)


def test_a_moving_face_keeps_its_identity_and_a_new_one_gets_its_own():
    tracker = FaceTracker(confirm_frames=2, min_iou=0.3, max_missed=2)
    first = tracker.update([face(100, "mask")], 0.0)
    moved = tracker.update([face(110, "mask"), face(400, "no_mask")], 0.1)
    assert first[0].track_id == moved[0].track_id
    assert moved[1].track_id != moved[0].track_id


def test_a_verdict_needs_evidence_and_a_frame_that_disagrees_shows_none():
    tracker = FaceTracker(confirm_frames=2, min_iou=0.3, max_missed=2, rule=VerdictRule(pass_evidence=6.0))
    labels = ["mask", "mask", "mask", "no_mask", "mask", "mask", "no_mask", "no_mask", "no_mask"]
    shown = [tracker.update([face(100, label)], float(i))[0] for i, label in enumerate(labels)]
    # 2.9 per confident frame: the third mask frame passes; the doubtful frame has no verdict and does not undo the
    # evidence; two bare frames in a row start afresh and stop at once
    assert [t.label for t in shown] == [None, None, "mask", None, "mask", "mask", None, "no_mask", "no_mask"]
    assert shown[7].label_since == shown[8].label_since == 7  # when the new verdict came


def test_stop_comes_sooner_than_pass_and_names_the_likelier_reason():
    rule = VerdictRule(pass_evidence=8.0, stop_evidence=2.0, frame_limit=3.0)
    doubtful_mask = [0.7, 0.2, 0.1]  # 0.85 of evidence a frame
    evidence = TrackEvidence(rule, confirm_frames=2)
    assert [evidence.add(np.array(doubtful_mask)) for _ in range(10)][-1] == "mask"  # the tenth frame: 8.5
    below_nose = TrackEvidence(rule, confirm_frames=2)
    assert [below_nose.add(np.array(CONFIDENT["incorrect"])) for _ in range(2)] == [None, "incorrect"]
    assert below_nose.add(None) == "incorrect"  # a frame the face was not classified changes nothing
    assert len(CLASSES) == 3


def test_a_bare_face_flickering_between_the_two_stop_reasons_stays_stopped():
    # no_mask and incorrect are the same side of the gate: no frame of a bare face goes back to CHECKING, and the
    # reason is the likelier one over the frames
    evidence = TrackEvidence(VerdictRule(stop_evidence=2.0), confirm_frames=2)
    frames = ["no_mask", "incorrect", "no_mask", "no_mask", "incorrect", "no_mask"]
    shown = [evidence.add(np.array(CONFIDENT[label])) for label in frames]
    assert shown == [None, "no_mask", "no_mask", "no_mask", "no_mask", "no_mask"]
    assert evidence.verdict == "no_mask"


def test_an_offset_lets_doubtful_masks_pass_and_a_bare_face_still_stops():
    doubtful_mask = np.array([0.45, 0.35, 0.2])  # -0.2 of evidence without the offset: never passes
    plain, offset = VerdictRule(pass_evidence=4.0), VerdictRule(pass_evidence=4.0, mask_offset=1.0)
    assert [TrackEvidence(plain, 2).add(doubtful_mask) for _ in range(30)][-1] is None
    passing = TrackEvidence(offset, 2)
    assert [passing.add(doubtful_mask) for _ in range(6)][-1] == "mask"
    bare = TrackEvidence(offset, 2)
    assert [bare.add(np.array(CONFIDENT["no_mask"])) for _ in range(2)] == [None, "no_mask"]


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
