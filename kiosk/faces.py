"""The plain face record every stage passes on; numpy only, so tracker, render and record need no OpenVINO."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Face:
    box: np.ndarray            # x1, y1, x2, y2 in original image pixels
    score: float
    keypoints: np.ndarray      # (K, 2) in pixels; the first three are the image-left eye, the other eye, the nose tip
    label: str | None = None
    label_score: float | None = None

    def to_json(self) -> dict:
        return {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "label": self.label,
            "label_score": None if self.label_score is None else round(self.label_score, 4),
        }
