"""Light IoU tracker: keeps a face's identity across frames; a label shows only while the last frames agree.

Guarantees: a new track starts unlabelled; a track whose frame label changes is unlabelled until
`confirm_frames` frames in a row agree on the new one, so a person who takes another's place (IoU cannot tell
them apart) is never shown, or judged, with the label of the person before.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from kiosk.types import Face, TrackedFace
from kiosk.vision.imageops import iou


@dataclass
class Track:
    track_id: int
    box: np.ndarray
    labels: deque
    label: str | None = None
    label_since: float = 0.0   # when the smoothed label last changed (capture time, s)
    missed: int = 0


@dataclass
class FaceTracker:
    confirm_frames: int = 2
    min_iou: float = 0.3
    max_missed: int = 5
    tracks: list[Track] = field(default_factory=list)
    _next_id: int = 1

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
                track = Track(self._next_id, face.box, deque(maxlen=self.confirm_frames))
                self._next_id += 1
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
            track.labels.append(face.label)
            agreed = len(track.labels) == self.confirm_frames and len(set(track.labels)) == 1
            label = face.label if agreed else None if face.label != track.label else track.label
            if label != track.label:
                track.label, track.label_since = label, timestamp
            tracked.append(TrackedFace(face, track.track_id, track.label, track.label_since))
        return tracked
