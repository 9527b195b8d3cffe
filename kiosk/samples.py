"""Real test and benchmark imagery that ships with a package (never committed here)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# Measured once by eye on a 50 px grid over the photo: brows to chin, cheek to cheek.
GRACE_HOPPER_FACE = (168.0, 150.0, 352.0, 335.0)


def grace_hopper_path() -> Path:
    """The portrait matplotlib ships in its sample data (600x512)."""
    import matplotlib
    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def grace_hopper() -> np.ndarray:
    image = cv2.imread(str(grace_hopper_path()))
    if image is None:
        raise FileNotFoundError(grace_hopper_path())
    return image


def frame_with_face(width: int, height: int, face: np.ndarray | None = None, x_fraction: float = 0.5) -> np.ndarray:
    """A grey camera-sized frame with the portrait scaled to 80 % of its height, centred at x_fraction."""
    face = grace_hopper() if face is None else face
    frame = np.full((height, width, 3), 96, np.uint8)
    target_h = int(height * 0.8)
    target_w = int(face.shape[1] * target_h / face.shape[0])
    scaled = cv2.resize(face, (target_w, target_h), interpolation=cv2.INTER_AREA)
    x0 = int(np.clip(x_fraction * width - target_w / 2, 0, width - target_w))
    y0 = (height - target_h) // 2
    frame[y0:y0 + target_h, x0:x0 + target_w] = scaled
    return frame
