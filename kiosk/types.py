"""The plain data every stage passes on (numpy only): camera, tracker, decision, render, record and the web
side use these without importing OpenVINO."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import numpy as np


@dataclass
class Face:
    box: np.ndarray            # x1, y1, x2, y2 in original image pixels
    score: float
    keypoints: np.ndarray      # (K, 2) in pixels; the first three are the image-left eye, the other eye, the nose tip
    label: str | None = None
    label_score: float | None = None
    probabilities: np.ndarray | None = None  # the classifier's, per class (kiosk.vision.classifier.CLASSES)

    def to_json(self) -> dict:
        return {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "label": self.label,
            "label_score": None if self.label_score is None else round(self.label_score, 4),
        }


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    index: int            # counts every frame read since start, across reconnects
    captured: float       # time.monotonic() when read returned


@dataclass
class TrackedFace:
    face: Face
    track_id: int
    label: str | None          # what is shown: the track's verdict, or None on a frame that contradicts it
    label_since: float
    verdict: str | None = None  # what the track's frames have decided (kiosk.vision.verdict)


class GateState(str, Enum):
    NO_FACE = "NO_FACE"
    CHECKING = "CHECKING"
    PASS = "PASS"
    STOP = "STOP"


class CameraState(str, Enum):
    """What the kiosk shows in place of a gate state: its camera delivers no frames, or its start-up self-test
    failed (kiosk.live.selftest) and it judges nobody."""
    DISCONNECTED = "DISCONNECTED"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"


ShownState = GateState | CameraState  # what the screen, /healthz, /metrics and MQTT say the gate is doing


class Text(str):
    """A fixed sentence part inside another message's values: the admin page translates it with the message
    (kiosk.web.i18n); names and figures are plain str."""


class Health(NamedTuple):
    healthy: bool
    reason: str     # "ok", or what is wrong (camera lost, pipeline stalled, a thread stopped, self-test failed)
    hold: bool = False  # the door stays held whatever gate.fail_state says: the models themselves are in doubt


@dataclass(frozen=True)
class Published:
    sequence: int
    frame_index: int
    captured: float
    published: float
    faces: list[TrackedFace]
    state: GateState
    jpeg: bytes
    frames_behind: int      # newer frames the camera had captured when this one was published
    frame_size: tuple[int, int]  # width, height of the camera frame the face boxes refer to
    people: tuple[int, ...] = ()  # track ids of the faces the verdict is about (in the zone)
    reason: str | None = None     # the label behind a PASS or STOP: "mask", "no_mask" or "incorrect"
    shown: tuple[str | None, ...] = ()  # per face: the label it shows beside the state (kiosk.live.decision)
    in_zone: tuple[bool, ...] = ()      # per face: whether it takes part in the decision
    detected: bool = True               # the detector saw this frame (not while nobody is there: kiosk.live.presence)
    hint: str | None = None             # what the person can do to be judged (kiosk.live.guidance.HINTS)


def on_changes(callback: Callable[[Published, str], None],
               start: GateState = GateState.NO_FACE) -> Callable[[Published], None]:
    """A broadcast subscriber that calls callback(item, previous_state) only when the gate state changes; the
    first change is from `start` (NO_FACE, the decision's own start, or the state when subscribing). Runs on the
    publishing thread, as callback must."""
    last = [start.value]

    def observe(item: Published) -> None:
        if item.state.value != last[0]:
            previous, last[0] = last[0], item.state.value
            callback(item, previous)
    return observe
