"""The gate decision: states, hold before PASS, hysteresis, entry zone, minimum size, unlabelled faces."""
import numpy as np
import pytest

from kiosk.config.decision import DecisionConfig
from kiosk.live.decision import GateDecision
from kiosk.types import Face, GateState, TrackedFace

WIDTH, HEIGHT = 640, 480
SETTINGS = DecisionConfig(hold_ms=800, switch_ms=250, zone=[0.0, 0.0, 1.0, 1.0], min_face_fraction=0.08)


def tracked(label, since=0.0, box=(270, 140, 370, 260), track_id=1):
    return TrackedFace(Face(np.array(box, float), 0.99, np.zeros((5, 2))), track_id, label, since)


def run(decision, frames):
    """frames: (time, faces) pairs; returns the state after each."""
    return [decision.update(faces, WIDTH, HEIGHT, t).value for t, faces in frames]


def test_no_face_then_stop_after_switch_time():
    decision = GateDecision(SETTINGS)
    states = run(decision, [(0.0, []), (0.1, [tracked("no_mask", 0.1)]), (0.3, [tracked("no_mask", 0.1)]),
                            (0.36, [tracked("no_mask", 0.1)])])
    assert states == ["NO_FACE", "NO_FACE", "NO_FACE", "STOP"]


@pytest.mark.parametrize("label", ["no_mask", "incorrect"])
def test_any_violation_in_the_zone_stops(label):
    decision = GateDecision(SETTINGS)
    faces = [tracked("mask", 0.0), tracked(label, 0.0, box=(10, 10, 110, 130), track_id=2)]
    assert run(decision, [(0.0, faces), (0.3, faces)])[-1] == "STOP"


def test_pass_only_after_the_mask_is_held():
    decision = GateDecision(SETTINGS)
    frames = [(t, [tracked("mask", 0.0)]) for t in (0.0, 0.3, 0.6, 0.79, 0.81, 1.0, 1.07)]
    states = run(decision, frames)
    # CHECKING shows after 250 ms; the mask must be seen 800 ms, then PASS must itself hold 250 ms
    assert states == ["NO_FACE", "CHECKING", "CHECKING", "CHECKING", "CHECKING", "CHECKING", "PASS"]


def test_a_short_flicker_does_not_change_the_state():
    decision = GateDecision(SETTINGS)
    stop = [tracked("no_mask", 0.0)]
    run(decision, [(0.0, stop), (0.3, stop)])
    assert decision.state is GateState.STOP
    states = run(decision, [(0.4, []), (0.5, []), (0.6, stop), (0.9, stop)])  # 200 ms without a face
    assert states == ["STOP"] * 4


def test_faces_outside_the_zone_or_too_small_are_ignored():
    decision = GateDecision(DecisionConfig(zone=[0.5, 0.0, 1.0, 1.0], min_face_fraction=0.08))
    left = tracked("no_mask", 0.0, box=(10, 140, 110, 260))        # centre x 0.09: outside the zone
    small = tracked("no_mask", 0.0, box=(400, 200, 430, 230))      # 30 px = 6 % of the height
    assert run(decision, [(0.0, [left, small]), (0.3, [left, small])]) == ["NO_FACE", "NO_FACE"]
    inside = tracked("no_mask", 0.0, box=(400, 140, 500, 260))
    assert run(decision, [(0.4, [left, inside]), (0.7, [left, inside])])[-1] == "STOP"


def test_unlabelled_face_is_checking_never_pass():
    decision = GateDecision(SETTINGS)
    frames = [(t, [tracked(None, 0.0)]) for t in (0.0, 0.3, 1.0, 2.0)]
    assert run(decision, frames) == ["NO_FACE", "CHECKING", "CHECKING", "CHECKING"]
    masked_and_unknown = [tracked("mask", 0.0), tracked(None, 0.0, box=(10, 10, 110, 130), track_id=2)]
    assert run(decision, [(3.0, masked_and_unknown), (3.5, masked_and_unknown)])[-1] == "CHECKING"
