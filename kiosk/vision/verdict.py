"""A person's verdict from the whole walk-up: each track weighs the classifier's probabilities of all its frames.

Per frame, the evidence for a mask is log(p(mask) / (1 - p(mask))) + `mask_offset`, clipped to +-`frame_limit`
so that no single frame decides; a frame is on the pass side when its evidence is positive. A track's evidence
is the sum over its last `window` frames: `mask` once it reaches `pass_evidence`, the likelier of `no_mask` and
`incorrect` as soon as it falls to -`stop_evidence`, and no label (CHECKING) in between. STOP needs less
evidence than PASS: a bare face is stopped in a few frames, a mask is passed once enough frames agree.

A track has no verdict before `confirm_frames` frames, nor on a frame on the other side of the gate (pass or
stop); once its frames have been on the other side for `confirm_frames` frames in a row it starts again from
those frames: a person who takes another's place (the tracker cannot tell them apart) never carries the verdict
of the person before. The numbers come from the classifier's calibration split
(models_ir/mask_classifier/MODEL_CARD.md), with the classifier they belong to.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

CLASSES = ("mask", "no_mask", "incorrect")  # the classifier's output order
MASK, NO_MASK, INCORRECT = range(3)
EPSILON = 1e-6


@dataclass(frozen=True)
class VerdictRule:
    pass_evidence: float = 6.0   # summed mask evidence for `mask`
    stop_evidence: float = 3.0   # summed evidence against a mask for `no_mask` or `incorrect`
    frame_limit: float = 3.0     # no frame counts for more than this
    window: int = 30             # frames of evidence a track keeps
    mask_offset: float = 0.0     # added to each frame's evidence: the per-frame rule is set for single frames

    def frame_evidence(self, probabilities: np.ndarray) -> float:
        mask = float(np.clip(probabilities[MASK], EPSILON, 1 - EPSILON))
        return float(np.clip(np.log(mask / (1 - mask)) + self.mask_offset, -self.frame_limit, self.frame_limit))

    def to_json(self) -> dict:
        return {"pass_evidence": self.pass_evidence, "stop_evidence": self.stop_evidence,
                "frame_limit": self.frame_limit, "window": self.window, "mask_offset": self.mask_offset}


class TrackEvidence:
    """The evidence of one track, fed one frame at a time."""

    def __init__(self, rule: VerdictRule, confirm_frames: int):
        self.rule = rule
        self.confirm_frames = confirm_frames
        self.frames: deque[tuple[float, np.ndarray]] = deque(maxlen=rule.window)  # evidence, log p
        self.verdict: str | None = None   # what the frames decided
        self.label: str | None = None     # what is shown now

    def add(self, probabilities: np.ndarray | None) -> str | None:
        """This frame's probabilities (None: the face was not classified this frame); returns the label to show:
        the verdict, or None while there is none or this frame's gate side (pass or stop) disagrees with it."""
        if probabilities is None:
            return self.label
        logs = np.log(np.clip(probabilities, EPSILON, 1.0))
        self.frames.append((self.rule.frame_evidence(probabilities), logs))
        if self.verdict is not None and (self.frames[-1][0] > 0) != (self.verdict == "mask"):
            recent = list(self.frames)[-self.confirm_frames:]
            if len(recent) < self.confirm_frames or len({frame[0] > 0 for frame in recent}) > 1:
                self.label = None  # not shown while this frame says otherwise: it may be another person
                return None
            self.frames.clear()  # the frames have said something else for a while: start again from them
            self.frames.extend(recent)
            self.verdict = None
        if len(self.frames) >= self.confirm_frames:
            evidence = sum(frame[0] for frame in self.frames)
            if evidence >= self.rule.pass_evidence:
                self.verdict = "mask"
            elif evidence <= -self.rule.stop_evidence or self.verdict in ("no_mask", "incorrect"):
                summed = np.sum([frame[1] for frame in self.frames], axis=0)  # which STOP: the likelier over the frames
                self.verdict = "no_mask" if summed[NO_MASK] >= summed[INCORRECT] else "incorrect"
            # in between, a verdict stands (a mask seen for a while is not lost to a few weak frames)
        self.label = self.verdict
        return self.label
