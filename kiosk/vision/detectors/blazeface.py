"""MediaPipe BlazeFace (short or full range): SSD decode with MediaPipe's weighted NMS.

A selfie detector trained on bare faces: fast, but it misses many masked faces (see models_ir/DETECTORS.md).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import openvino as ov

from kiosk.vision.detectors.base import FaceDetector, ModelContractError
from kiosk.vision.imageops import iou

# From MediaPipe's face_detection_{short,full}_range_common.pbtxt (SsdAnchorsCalculator options).
ANCHOR_OPTIONS: dict[str, dict[str, Any]] = {
    "short": {"input_size": 128, "strides": (8, 16, 16, 16), "anchors_per_cell": 2},
    "full": {"input_size": 192, "strides": (4,), "anchors_per_cell": 1},
}
NUM_KEYPOINTS = 6  # eyes, nose tip, mouth, ear tragions
# MediaPipe clips raw scores to +-100; 80 keeps the sigmoid inside float32.
RAW_SCORE_LIMIT = 80.0


def ssd_anchors(input_size: int, strides: tuple[int, ...], anchors_per_cell: int) -> np.ndarray:
    """Anchor centres (N, 2), normalised, in the model's output order.

    Consecutive layers with the same stride share one feature map, each adding
    `anchors_per_cell` anchors per cell (MediaPipe's SsdAnchorsCalculator with
    fixed_anchor_size; aspect ratio 1.0, plus the interpolated scale when set).
    """
    anchors = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same = 0
        while layer + same < len(strides) and strides[layer + same] == stride:
            same += 1
        cells = input_size // stride
        centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        grid_x, grid_y = np.meshgrid(centres, centres)
        per_cell = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)
        anchors.append(np.repeat(per_cell, same * anchors_per_cell, axis=0))
        layer += same
    return np.concatenate(anchors)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's weighted NMS: overlapping candidates are averaged by score; the best score is kept."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    kept_boxes, kept_points, kept_scores = [], [], []
    remaining = np.arange(len(scores))
    while remaining.size:
        top = remaining[0]
        overlaps = iou(boxes[top], boxes[remaining]) > iou_threshold
        overlaps[0] = True
        members = remaining[overlaps]
        weights = scores[members][:, None]
        kept_boxes.append((boxes[members] * weights).sum(0) / weights.sum())
        kept_points.append((keypoints[members] * weights[:, :, None]).sum(0) / weights.sum())
        kept_scores.append(scores[top])
        remaining = remaining[~overlaps]
    return (np.array(kept_boxes).reshape(-1, 4), np.array(kept_points).reshape(-1, NUM_KEYPOINTS, 2),
            np.array(kept_scores))


class BlazeFace(FaceDetector):
    def __init__(self, compiled: ov.CompiledModel, variant: str, min_score: float = 0.5, nms_iou: float = 0.3):
        self.variant = variant
        self.name = f"BlazeFace {variant} range"
        self.anchors = ssd_anchors(**ANCHOR_OPTIONS[variant])
        super().__init__(compiled, min_score, nms_iou)

    def check_outputs(self, compiled: ov.CompiledModel) -> list[ov.Output]:
        size = ANCHOR_OPTIONS[self.variant]["input_size"]
        if (self.input_width, self.input_height) != (size, size):
            raise ModelContractError(f"{self.name}: expected a {size}x{size} input, "
                                     f"found {self.input_width}x{self.input_height}")
        count = len(self.anchors)
        return self.expect_outputs(compiled, {"boxes": [1, count, 4 + 2 * NUM_KEYPOINTS], "scores": [1, count, 1]})

    def decode(self, outputs: tuple[np.ndarray, ...], min_score: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raw_boxes, raw_scores = outputs
        raw_scores = np.clip(raw_scores.reshape(-1), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
        scores = 1.0 / (1.0 + np.exp(-raw_scores))
        keep = scores > min_score
        size = self.input_width
        raw = raw_boxes.reshape(-1, 2 + NUM_KEYPOINTS, 2)[keep]
        anchors = self.anchors[keep] * size
        centres = raw[:, 0] + anchors
        half = raw[:, 1] / 2
        boxes = np.concatenate([centres - half, centres + half], axis=1)
        points = raw[:, 2:] + anchors[:, None, :]
        return weighted_nms(boxes, points, scores[keep], self.nms_iou)
