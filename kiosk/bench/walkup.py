"""Walk-up clips: each labelled photo played as a person stepping up to the kiosk, through the real live pipeline.

A clip starts with the photo at 60 % of its final size and zooms in over WALK_S (the largest face ends at 40 % of
the frame height, at most 3x its size in the photo), with a shaky hand-held drift, sensor noise and motion blur on
some frames; a short empty scene between clips ends every track. The camera is simulated (`ClipCamera`, a
kiosk.bench.generated_camera: each frame is made when the pipeline asks for it, stamped with the time it would
have at 30 fps), and everything after it is the kiosk's own: detector, classifier, tracker and verdict.

Each annotated face at least `min_height` px tall in its photo and inside the last frame is a person. Their
outcome is the final verdict of the track that follows their face (`mask` passes; `no_mask` or `incorrect`
stops; none is still CHECKING), and their time to verdict is from the clip's first frame to the frame from which
their track holds that verdict for good. A bare face that was ever shown `mask` is named apart, whatever its
final verdict: the gate may have opened for it. The per-frame probabilities of each person's track are kept, so a
verdict rule can be replayed on them (training fits the rule that way).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.bench.generated_camera import FPS, GeneratedCamera
from kiosk.config import Config
from kiosk.types import Published
from kiosk.vision.evaluate import Annotated
from kiosk.vision.image_input import decode_checked, image_limits
from kiosk.vision.imageops import iou
from kiosk.vision.verdict import CLASSES, TrackEvidence, VerdictRule

FRAME_SIZE = (640, 480)
WALK_S = 1.5
START_SCALE = 0.6        # of the final size
END_FACE_SHARE = 0.4     # of the frame height, for the largest face
MAX_UPSCALE = 3.0
BACKGROUND = (96, 96, 96)
MATCH_IOU = 0.3
SMALLEST_DISPLAY = {"max_width": 160, "max_height": 120}  # the least the settings allow


def _noise_patterns(count: int = 8, sigma: float = 3.0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Gaussian noise for a frame, as the part that brightens and the part that darkens (saturating uint8 adds)."""
    rng = np.random.default_rng(12345)
    patterns = []
    for _ in range(count):
        noise = np.rint(rng.normal(0, sigma, (FRAME_SIZE[1], FRAME_SIZE[0], 3))).astype(np.int16)
        patterns.append((np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8)))
    return patterns


NOISE = _noise_patterns()


@dataclass(frozen=True)
class Clip:
    """One photo's walk-up: the frames (made on demand) and where each person's face is in every one of them."""
    name: str
    image: np.ndarray
    transforms: list[np.ndarray]        # per frame: the 2x3 affine from photo to frame pixels
    persons: list[tuple[str, np.ndarray]]  # truth label, face box in photo pixels

    def frame(self, index: int, rng: np.random.Generator) -> np.ndarray:
        picture = cv2.warpAffine(self.image, self.transforms[index], FRAME_SIZE, flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=BACKGROUND)
        if rng.random() < 0.25:  # motion blur: a step or a shaky hand
            length = int(rng.integers(3, 8))
            kernel = np.zeros((length, length), np.float32)
            if rng.random() < 0.5:
                kernel[length // 2, :] = 1.0
            else:
                kernel[:, length // 2] = 1.0
            picture = cv2.filter2D(picture, -1, kernel / length)
        brighter, darker = NOISE[int(rng.integers(len(NOISE)))]  # sensor noise, sigma 3 (patterns drawn once)
        return cv2.subtract(cv2.add(picture, brighter), darker)

    def box_at(self, index: int, box: np.ndarray) -> np.ndarray:
        matrix = self.transforms[index]
        corners = np.array([[box[0], box[1], 1.0], [box[2], box[3], 1.0]]) @ matrix.T
        return corners.reshape(4)


def make_clip(name: str, image: np.ndarray, persons: list[tuple[str, np.ndarray]], rng: np.random.Generator) -> Clip:
    """The walk-up of one photo toward its largest face (persons: truth and box, in photo pixels)."""
    width, height = FRAME_SIZE
    anchor = max((box for _, box in persons), key=lambda b: b[3] - b[1])
    face_h = float(anchor[3] - anchor[1])
    end_scale = min(END_FACE_SHARE * height, MAX_UPSCALE * face_h) / face_h
    centre = np.array([(anchor[0] + anchor[2]) / 2, (anchor[1] + anchor[3]) / 2])
    frames = int(round(WALK_S * FPS))
    drift = np.cumsum(rng.normal(0, 0.004, (frames, 2)), axis=0) * np.array([width, height])  # a hand-held drift
    transforms = []
    for index in range(frames):
        scale = end_scale * (START_SCALE + (1 - START_SCALE) * index / (frames - 1))
        target = np.array([width / 2, height * 0.45]) + drift[index]
        transforms.append(np.array([[scale, 0, target[0] - scale * centre[0]],
                                    [0, scale, target[1] - scale * centre[1]]]))
    clip = Clip(name, image, transforms, [])
    inside = [(label, box) for label, box in persons if _inside(clip.box_at(frames - 1, box))]
    return Clip(name, image, transforms, inside)


def _inside(box: np.ndarray) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[2] <= FRAME_SIZE[0] and box[3] <= FRAME_SIZE[1]


def clips_of(items: list[Annotated], config: Config, min_height: float, seed: int = 0) -> list[Clip]:
    """A clip per photo with at least one person (annotated face at least min_height px tall)."""
    rng = np.random.default_rng(seed)
    limits = image_limits(config)
    clips = []
    for item in items:
        persons = [(label, box.astype(float)) for box, label, hard in zip(item.boxes, item.labels, item.difficult)
                   if not hard and box[3] - box[1] >= min_height]
        if not persons:
            continue
        image = decode_checked(item.image.read_bytes(), limits)
        clip = make_clip(item.image.name, image, persons, rng)
        if clip.persons:
            clips.append(clip)
    return clips


class ClipCamera(GeneratedCamera):
    """The clips one after another, as a camera would deliver them at FPS (kiosk.bench.generated_camera), an empty
    scene of `gap` frames between them. Ends after the last clip."""

    def __init__(self, clips: list[Clip], gap: int, seed: int = 0):
        self.clips = clips
        self.gap = gap
        self.starts: list[int] = []  # each clip's first frame index
        super().__init__(self._all_frames(np.random.default_rng(seed)), "walk-up clips")

    def _all_frames(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        empty = np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), BACKGROUND, np.uint8)
        index = 0
        for clip in self.clips:
            for _ in range(self.gap):
                yield empty
                index += 1
            self.starts.append(index)
            for frame_index in range(len(clip.transforms)):
                yield clip.frame(frame_index, rng)
                index += 1
        for _ in range(self.gap):
            yield empty


@dataclass
class PersonOutcome:
    clip: str
    truth: str
    found: bool
    label: str | None = None            # the track's final verdict
    seconds: float | None = None        # from the clip's first frame to the verdict it ended with
    shown_mask: bool = False            # a frame showed `mask` on this face
    probabilities: list[np.ndarray | None] = field(default_factory=list)  # the track's frames, in order
    times: list[float] = field(default_factory=list)                      # seconds since the clip began


def _outcomes(clip: Clip, start: int, seen: dict[int, Published]) -> list[PersonOutcome]:
    frames = range(start, start + len(clip.transforms))
    outcomes = []
    for truth, box in clip.persons:
        track_id = None
        for index in reversed(frames):  # the track on the face near the end of the clip
            item = seen.get(index)
            if item is None:
                continue
            expected = clip.box_at(index - start, box)
            overlaps = [(float(iou(expected, t.face.box[None])[0]), t.track_id) for t in item.faces]
            best = max(overlaps, default=(0.0, None))
            if best[0] >= MATCH_IOU:
                track_id = best[1]
                break
        outcome = PersonOutcome(clip.name, truth, track_id is not None)
        if track_id is not None:
            verdicts = []
            for index in frames:
                item = seen.get(index)
                tracked = next((t for t in item.faces if t.track_id == track_id), None) if item else None
                if tracked is not None:
                    outcome.probabilities.append(tracked.face.probabilities)
                    outcome.times.append((index - start) / FPS)
                    verdicts.append(tracked.verdict)
                    outcome.shown_mask |= tracked.label == "mask"
            outcome.label, outcome.seconds = final_verdict(verdicts, outcome.times)
        outcomes.append(outcome)
    return outcomes


def final_verdict(labels: list[str | None], times: list[float]) -> tuple[str | None, float | None]:
    """The last verdict, and the time from which it held to the end (None for no verdict)."""
    if not labels or labels[-1] is None:
        return None, None
    first = len(labels) - 1
    while first > 0 and labels[first - 1] == labels[-1]:
        first -= 1
    return labels[-1], times[first]


@dataclass(frozen=True)
class Replayed:
    label: str | None
    seconds: float | None
    shown_mask: bool


def replay(outcome: PersonOutcome, rule: VerdictRule, confirm_frames: int) -> Replayed:
    """What a person's track would have said under another rule (the same frames, kiosk.vision.verdict)."""
    evidence = TrackEvidence(rule, confirm_frames)
    verdicts, shown_mask = [], False
    for probabilities in outcome.probabilities:
        shown_mask |= evidence.add(probabilities) == "mask"
        verdicts.append(evidence.verdict)
    return Replayed(*final_verdict(verdicts, outcome.times), shown_mask)


def play(clips: list[Clip], config: Config) -> list[PersonOutcome]:
    """Every clip through the kiosk's own pipeline (kiosk.app.build_pipeline with this camera); one outcome per
    person. The published picture is made at its smallest size: nobody watches it, and the verdict does not
    depend on it."""
    from kiosk.app import build_pipeline
    camera = ClipCamera(clips, gap=config.tracker.max_missed + 1)  # a frame more than a track may miss: it ends
    pipeline = build_pipeline(config.replaced(display=SMALLEST_DISPLAY), camera=camera)
    seen: dict[int, Published] = {}
    pipeline.broadcast.subscribe(lambda item: seen.__setitem__(item.frame_index, item))
    pipeline.start()
    try:
        while not camera.ended or pipeline.metrics.processed_frames < camera.frames_read:
            time.sleep(0.05)
            if not pipeline.health().healthy and "stopped" in pipeline.health().reason:
                raise RuntimeError(f"the pipeline failed: {pipeline.health().reason}")
    finally:
        pipeline.stop()
    return [outcome for clip, start in zip(clips, camera.starts) for outcome in _outcomes(clip, start, seen)]


@dataclass(frozen=True)
class WalkUpReport:
    persons: dict[str, int]          # by truth
    found: dict[str, int]
    masks_passed: float
    bare_stopped: float
    incorrect_stopped: float
    bare_passed: list[str]           # the clips of bare faces whose final verdict is `mask`
    bare_shown_mask: list[str]       # the clips of bare faces shown `mask` on any frame (the gate may have opened)
    seconds_p50: float
    seconds_p90: float
    undecided: int

    def to_json(self) -> dict:
        return self.__dict__.copy()


def report(outcomes: list[PersonOutcome], replayed: list[Replayed] | None = None) -> WalkUpReport:
    """Per-person figures over the persons whose face was found; `replayed` replaces their verdicts."""
    chosen = replayed or [Replayed(o.label, o.seconds, o.shown_mask) for o in outcomes]
    found = [(o, r) for o, r in zip(outcomes, chosen) if o.found]

    def share(truth: str, passing: bool) -> float:
        people = [r.label for o, r in found if o.truth == truth]
        return sum((label == "mask") == passing and label is not None for label in people) / max(len(people), 1)

    times = np.array([r.seconds for _, r in found if r.seconds is not None] or [np.nan])
    return WalkUpReport(
        persons={c: sum(o.truth == c for o in outcomes) for c in CLASSES},
        found={c: sum(o.truth == c for o, _ in found) for c in CLASSES},
        masks_passed=share("mask", True), bare_stopped=share("no_mask", False),
        incorrect_stopped=share("incorrect", False),
        bare_passed=[o.clip for o, r in found if o.truth == "no_mask" and r.label == "mask"],
        bare_shown_mask=[o.clip for o, r in found if o.truth == "no_mask" and r.shown_mask],
        seconds_p50=float(np.nanmedian(times)), seconds_p90=float(np.nanpercentile(times, 90)),
        undecided=sum(r.label is None for _, r in found))
