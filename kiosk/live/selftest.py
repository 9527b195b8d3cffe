"""Start-up self-test: before the kiosk says READY, a golden set of faces goes through its own detector,
classifier, tracker and gate decision, and each must come out as expected; otherwise the kiosk is out of service.

It catches what a healthy camera and healthy threads cannot show: a wrong or damaged IR, a colour-order slip after
an upgrade, a verdict rule that no longer fits its model. The golden set is small and fixed here: the portrait
matplotlib ships (Grace Hopper, a U.S. Navy photograph in the public domain) bare, with a surgical mask drawn over
nose and mouth at the detector's own keypoints, and with that mask pulled below the nose, each in a camera-sized
frame. Each face is detected and classified once; the tracker and decision then see it for as many frames as a
PASS needs, on the site's own decision settings but with the whole picture as the zone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kiosk.bench.samples import draw_mask, frame_with_face, grace_hopper
from kiosk.config.decision import DecisionConfig
from kiosk.config.tracker import TrackerConfig
from kiosk.live.decision import GateDecision
from kiosk.live.tracker import FaceTracker
from kiosk.types import GateState
from kiosk.vision.classifier import MaskClassifier
from kiosk.vision.detectors.base import FaceDetector

FRAME_SIZE = (640, 480)
FPS = 30.0
# photo, the label the classifier must give, the gate state the decision must reach
GOLDEN = (("bare portrait", "no_mask", GateState.STOP),
          ("masked portrait", "mask", GateState.PASS),
          ("mask below the nose", "incorrect", GateState.STOP))


@dataclass(frozen=True)
class SelfTest:
    ok: bool
    detail: str   # "ok", or "failed: <photo>: expected <label and state>, got <what came>"


def golden_frames(detector: FaceDetector) -> list[np.ndarray] | None:
    """The three golden frames, in GOLDEN's order; None when the detector finds no face in the portrait."""
    portrait = grace_hopper()
    faces = detector.detect(portrait)
    if not faces:
        return None
    face = max(faces, key=lambda f: f.score)
    variants = (portrait, draw_mask(portrait, face.box, face.keypoints),
                draw_mask(portrait, face.box, face.keypoints, below_nose=True))
    return [frame_with_face(*FRAME_SIZE, variant) for variant in variants]


def run_self_test(detector: FaceDetector, classifier: MaskClassifier, decision: DecisionConfig,
                  tracker: TrackerConfig) -> SelfTest:
    """The golden set through these models and settings (about 0.1 s)."""
    frames = golden_frames(detector)
    if frames is None:
        return SelfTest(False, "failed: bare portrait: expected one face, got none")
    settings = decision.model_copy(update={"zone": [0.0, 0.0, 1.0, 1.0]})
    seconds = (settings.hold_ms + 2 * settings.switch_ms) / 1000 + 1.0
    for (name, label, state), frame in zip(GOLDEN, frames, strict=True):
        faces = detector.detect(frame)
        if len(faces) != 1:
            return SelfTest(False, f"failed: {name}: expected one face, got {len(faces)}")
        classifier.classify(frame, faces)
        gate, track = GateDecision(settings), FaceTracker(**tracker.model_dump(), rule=classifier.verdict)
        reached = None
        for index in range(math.ceil(seconds * FPS)):
            reached = gate.update(track.update(faces, index / FPS), *FRAME_SIZE, index / FPS)
        got = f"{faces[0].label} ({faces[0].label_score:.2f}) and {reached.value if reached else 'nothing'}"
        if faces[0].label != label or reached != state:
            return SelfTest(False, f"failed: {name}: expected {label} and {state.value}, got {got}")
    return SelfTest(True, "ok")
