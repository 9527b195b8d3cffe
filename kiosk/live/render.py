"""Draws boxes (and, for the admin's photo check, labels) on a display-sized copy of the frame; encodes JPEG once.

The live picture carries boxes only: its labels are drawn by the screen itself (kiosk/web/live.js), in the
screen's language and script, without confidence figures on the public screen (face_labels gives them)."""
from __future__ import annotations

import cv2
import numpy as np

from kiosk.types import Face, TrackedFace

# BGR: green mask, red no mask, amber worn wrongly, grey not yet classified
LABEL_COLOURS = {"mask": (60, 180, 40), "no_mask": (40, 40, 220), "incorrect": (0, 170, 255), None: (160, 160, 160)}
LABEL_TEXT = {"mask": "mask", "no_mask": "no mask", "incorrect": "worn wrongly", None: "face"}


def display_scale(width: int, height: int, max_width: int, max_height: int) -> float:
    """Scale that fits the frame inside the display size, never enlarging."""
    return min(1.0, max_width / width, max_height / height)


def annotate(image: np.ndarray, faces: list[Face], labels: list[str | None], max_size: tuple[int, int],
             texts: bool = True) -> np.ndarray:
    """A display-sized copy of image with each face boxed in its label's colour, and its label written when
    `texts`."""
    scale = display_scale(image.shape[1], image.shape[0], *max_size)
    if scale < 1.0:
        canvas = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                            interpolation=cv2.INTER_AREA)
    else:
        canvas = image.copy()
    thickness = max(2, round(canvas.shape[0] / 240))
    font_scale = max(0.5, canvas.shape[0] / 720)
    for face, label in zip(faces, labels):
        colour = LABEL_COLOURS.get(label, LABEL_COLOURS[None])
        x1, y1, x2, y2 = (int(round(v * scale)) for v in face.box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
        if not texts:
            continue
        text = LABEL_TEXT.get(label, str(label))
        if face.label_score is not None:
            text += f" {face.label_score:.0%}"
        (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        top = max(0, y1 - text_h - baseline - 4)
        cv2.rectangle(canvas, (x1, top), (x1 + text_w + 6, top + text_h + baseline + 4), colour, cv2.FILLED)
        cv2.putText(canvas, text, (x1 + 3, top + text_h + 2), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    (255, 255, 255), thickness, cv2.LINE_AA)
    return canvas


def annotate_tracked(image: np.ndarray, tracked: list[TrackedFace], max_size: tuple[int, int]) -> np.ndarray:
    """The live picture: boxes only."""
    return annotate(image, [t.face for t in tracked], [t.label for t in tracked], max_size, texts=False)


def face_labels(tracked: list[TrackedFace], frame_size: tuple[int, int]) -> list[dict]:
    """What the screen writes over the live picture: each face's box as fractions of the frame, its label (None
    while unconfirmed) and the classifier's confidence (shown on the admin page only)."""
    width, height = frame_size
    return [{"box": [round(float(v), 4) for v in (t.face.box / (width, height, width, height))], "label": t.label,
             "score": None if t.face.label_score is None else round(t.face.label_score, 3)} for t in tracked]


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()
