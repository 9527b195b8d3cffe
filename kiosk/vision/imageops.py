"""Pixel helpers shared by the models and the renderer."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Letterbox:
    """Maps points from a letterboxed model input back to the original image."""
    scale: float
    pad_x: int
    pad_y: int

    def to_original(self, points: np.ndarray) -> np.ndarray:
        """Points in model-input pixels (..., 2) -> original image pixels."""
        pixels = np.array(points, dtype=np.float32)
        pixels[..., 0] -= self.pad_x
        pixels[..., 1] -= self.pad_y
        return pixels / self.scale


def letterbox(image: np.ndarray, width: int, height: int, padding: float = 0.0) -> tuple[np.ndarray, Letterbox]:
    """One resize of the whole image into a black canvas of width x height, aspect kept, centred.

    `padding` adds a black border of that fraction of the long side on every side,
    so a face that fills a close-up photo looks as it would in a camera frame.
    """
    image_h, image_w = image.shape[:2]
    border = 2 * padding * max(image_h, image_w)
    scale = min(width / (image_w + border), height / (image_h + border))
    new_w, new_h = max(1, round(image_w * scale)), max(1, round(image_h * scale))
    pad_x, pad_y = (width - new_w) // 2, (height - new_h) // 2
    canvas = np.zeros((height, width, 3), np.uint8)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    return canvas, Letterbox(scale, pad_x, pad_y)


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


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, order = order[0], order[1:]
        keep.append(best)
        order = order[iou(boxes[best], boxes[order]) <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def nested(boxes: np.ndarray, scores: np.ndarray, inside: float) -> np.ndarray:
    """Indices of boxes kept after dropping each one that lies `inside` (share of its area) or more within a
    larger box scored at least as high: a face holds no other face, so such a box is a part (eye, mouth)."""
    x1 = np.maximum(boxes[:, None, 0], boxes[None, :, 0])
    y1 = np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    x2 = np.minimum(boxes[:, None, 2], boxes[None, :, 2])
    y2 = np.minimum(boxes[:, None, 3], boxes[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    holder = ((inter >= inside * areas[:, None]) & (areas[None, :] > areas[:, None])
              & (scores[None, :] >= scores[:, None]))
    return np.flatnonzero(~holder.any(axis=1))


def decode_image(data: bytes) -> np.ndarray | None:
    """Encoded image bytes -> BGR array, or None when they are not a readable image."""
    array = np.frombuffer(data, np.uint8)
    return cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
