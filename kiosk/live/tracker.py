"""Light IoU tracker: keeps a face's identity across frames; its label is the verdict of all its frames.

Guarantees: a new track starts unlabelled and gets a label once its frames' evidence decides
(kiosk.vision.verdict); a track whose frame label has disagreed with its verdict for `confirm_frames` frames
in a row starts again from nothing, so a person who takes another's place (IoU cannot tell them apart) is never
shown, or judged, with the label of the person before.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from kiosk.types import Face, TrackedFace
from kiosk.vision.imageops import iou
from kiosk.vision.verdict import TrackEvidence, VerdictRule


@dataclass
class Track:
    track_id: int
    box: np.ndarray
    evidence: TrackEvidence
    label: str | None = None
    label_since: float = 0.0   # when the verdict last changed (capture time, s)
    missed: int = 0


TRACK_IDS = itertools.count(1)  # one series for the process: a tracker started anew never reuses a person's id


@dataclass
class FaceTracker:
    confirm_frames: int = 2
    min_iou: float = 0.3
    max_missed: int = 5
    rule: VerdictRule = field(default_factory=VerdictRule)
    tracks: list[Track] = field(default_factory=list)

    def update(self, faces: list[Face], timestamp: float) -> list[TrackedFace]:
        """Match faces to tracks greedily by IoU; new faces start tracks, long-unseen tracks end."""
        unmatched = list(range(len(self.tracks)))
        matched: list[tuple[Face, Track]] = []
        for face in sorted(faces, key=lambda f: -f.score):
            best, best_iou = None, self.min_iou
            if unmatched:
                overlaps = iou(face.box, np.stack([self.tracks[i].box for i in unmatched]))
                position = int(overlaps.argmax())
                if overlaps[position] >= best_iou:
                    best = unmatched.pop(position)
            if best is None:
                track = Track(next(TRACK_IDS), face.box, TrackEvidence(self.rule, self.confirm_frames))
                self.tracks.append(track)
            else:
                track = self.tracks[best]
            matched.append((face, track))
        matched_ids = {id(track) for _, track in matched}
        for track in self.tracks:
            if id(track) not in matched_ids:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]

        tracked = []
        for face, track in matched:
            track.box, track.missed = face.box, 0
            label = track.evidence.add(face.probabilities)
            if label != track.label:
                track.label, track.label_since = label, timestamp
            tracked.append(TrackedFace(face, track.track_id, track.label, track.label_since, track.evidence.verdict))
        return tracked
