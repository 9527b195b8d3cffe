"""Pixel helpers shared by the models and the renderer."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Letterbox:
    """Maps points between the original image and a square letterboxed model input."""
    scale: float
    pad_x: int
    pad_y: int
    size: int

    def to_original(self, points_norm: np.ndarray) -> np.ndarray:
        """Points normalised to the model input (..., 2) -> original image pixels."""
        pixels = points_norm * self.size
        pixels[..., 0] -= self.pad_x
        pixels[..., 1] -= self.pad_y
        return pixels / self.scale


def letterbox(image: np.ndarray, size: int, padding: float = 0.0) -> tuple[np.ndarray, Letterbox]:
    """One resize of the whole image into a black square canvas of side `size`, aspect kept.

    `padding` adds a black border of that fraction of the long side on every side,
    so a face that fills a close-up photo looks as it would in a camera frame.
    """
    height, width = image.shape[:2]
    scale = size / (max(height, width) * (1 + 2 * padding))
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    canvas = np.zeros((size, size, 3), np.uint8)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    return canvas, Letterbox(scale, pad_x, pad_y, size)


def iou(box_a: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) box against (N, 4) boxes, all as x1, y1, x2, y2."""
    x1 = np.maximum(box_a[0], boxes[:, 0])
    y1 = np.maximum(box_a[1], boxes[:, 1])
    x2 = np.minimum(box_a[2], boxes[:, 2])
    y2 = np.minimum(box_a[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area_a + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def decode_image(data: bytes) -> np.ndarray | None:
    """Encoded image bytes -> BGR array, or None when they are not a readable image."""
    array = np.frombuffer(data, np.uint8)
    return cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
