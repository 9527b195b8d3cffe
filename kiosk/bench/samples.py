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


def frame_with_face(width: int, height: int, face: np.ndarray | None = None, x_fraction: float = 0.5,
                    height_share: float = 0.8) -> np.ndarray:
    """A grey camera-sized frame with the portrait scaled to `height_share` of its height, centred at x_fraction
    (the face itself is about 36 % of the portrait's height)."""
    face = grace_hopper() if face is None else face
    frame = np.full((height, width, 3), 96, np.uint8)
    target_h = int(height * height_share)
    target_w = int(face.shape[1] * target_h / face.shape[0])
    scaled = cv2.resize(face, (target_w, target_h), interpolation=cv2.INTER_AREA)
    x0 = int(np.clip(x_fraction * width - target_w / 2, 0, width - target_w))
    y0 = (height - target_h) // 2
    frame[y0:y0 + target_h, x0:x0 + target_w] = scaled
    return frame


def draw_mask(image: np.ndarray, box: np.ndarray, keypoints: np.ndarray,
              colour: tuple[int, int, int] = (225, 190, 140), below_nose: bool = False) -> np.ndarray:
    """A copy of image with a filled surgical-mask shape over nose and mouth of the detected face, as worn
    properly, or pulled down under the nose (`below_nose`: worn wrongly, the nose shows)."""
    masked = image.copy()
    x1, y1, x2, y2 = box
    eyes_y = (keypoints[0, 1] + keypoints[1, 1]) / 2
    nose_y, mouth_y = keypoints[2, 1], keypoints[3, 1]
    if below_nose:
        top = nose_y + 0.4 * (mouth_y - nose_y)  # the nostrils stay uncovered
    else:
        top = eyes_y + 0.3 * (nose_y - eyes_y)   # up to the nose bridge, as worn properly
    bottom = y2 + 0.06 * (y2 - y1)               # a mask wraps the chin
    inset = 0.06 * (x2 - x1)
    outline = np.array([[x1 + inset, top], [x2 - inset, top], [x2 - inset, bottom - 0.15 * (bottom - top)],
                        [(x1 + x2) / 2, bottom], [x1 + inset, bottom - 0.15 * (bottom - top)]], np.int32)
    cv2.fillPoly(masked, [outline], colour, lineType=cv2.LINE_AA)
    pleat = np.array([-12, -10, -12], np.int32)  # slightly darker folds
    for fraction in (0.3, 0.5, 0.7):
        y = int(top + fraction * (bottom - top) * 0.85)
        cv2.line(masked, (int(x1 + inset), y), (int(x2 - inset), y),
                 tuple(int(c) for c in np.clip(np.array(colour) + pleat, 0, 255)), 2, cv2.LINE_AA)
    return masked
