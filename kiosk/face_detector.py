"""MediaPipe BlazeFace (short or full range) on OpenVINO: letterbox, SSD decode, weighted NMS."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import openvino as ov

from kiosk.imageops import Letterbox, iou, letterbox

# From MediaPipe's face_detection_{short,full}_range_common.pbtxt (SsdAnchorsCalculator options).
ANCHOR_OPTIONS = {
    "short": {"input_size": 128, "strides": (8, 16, 16, 16), "anchors_per_cell": 2},
    "full": {"input_size": 192, "strides": (4,), "anchors_per_cell": 1},
}
NUM_KEYPOINTS = 6
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


@dataclass
class Face:
    box: np.ndarray            # x1, y1, x2, y2 in original image pixels
    score: float
    keypoints: np.ndarray      # (6, 2) eyes, nose tip, mouth, ear tragions, in pixels
    label: str | None = None
    label_score: float | None = None

    def to_json(self) -> dict:
        return {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "label": self.label,
            "label_score": None if self.label_score is None else round(self.label_score, 4),
        }


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float
                 ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's weighted NMS: overlapping candidates are averaged by score; the best score is kept."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    results = []
    remaining = np.arange(len(scores))
    while remaining.size:
        top = remaining[0]
        overlaps = iou(boxes[top], boxes[remaining]) > iou_threshold
        overlaps[0] = True
        members = remaining[overlaps]
        weights = scores[members][:, None]
        box = (boxes[members] * weights).sum(0) / weights.sum()
        points = (keypoints[members] * weights[:, :, None]).sum(0) / weights.sum()
        results.append((box, points, float(scores[top])))
        remaining = remaining[~overlaps]
    return results


class FaceDetector:
    """Detects faces in BGR frames. Pre- and post-processing are public so the pipeline can run inference async."""

    def __init__(self, compiled: ov.CompiledModel, variant: str, min_score: float = 0.5, nms_iou: float = 0.3):
        options = ANCHOR_OPTIONS[variant]
        self.compiled = compiled
        self.variant = variant
        self.input_size = options["input_size"]
        self.anchors = ssd_anchors(**options)
        self.min_score = min_score
        self.nms_iou = nms_iou
        self._boxes_output, self._scores_output = sorted(
            compiled.outputs, key=lambda o: o.get_partial_shape()[2].get_length(), reverse=True)
        self._request = compiled.create_infer_request()

    def preprocess(self, frame: np.ndarray, padding: float = 0.0) -> tuple[np.ndarray, Letterbox]:
        tensor, transform = letterbox(frame, self.input_size, padding)
        return tensor[np.newaxis], transform

    def postprocess(self, raw_boxes: np.ndarray, raw_scores: np.ndarray, transform: Letterbox,
                    min_score: float | None = None) -> list[Face]:
        raw_scores = np.clip(raw_scores.reshape(-1), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
        scores = 1.0 / (1.0 + np.exp(-raw_scores))
        keep = scores > (self.min_score if min_score is None else min_score)
        if not keep.any():
            return []
        raw = raw_boxes.reshape(-1, 2 + NUM_KEYPOINTS, 2)[keep] / self.input_size
        anchors = self.anchors[keep]
        centres = raw[:, 0] + anchors
        half = raw[:, 1] / 2
        boxes = np.concatenate([centres - half, centres + half], axis=1)
        points = raw[:, 2:] + anchors[:, None, :]
        faces = []
        for box, pts, score in weighted_nms(boxes, points, scores[keep], self.nms_iou):
            corners = transform.to_original(box.reshape(2, 2)).reshape(4)
            if corners[2] > corners[0] and corners[3] > corners[1]:
                faces.append(Face(corners, score, transform.to_original(pts)))
        return faces

    def outputs_of(self, request: ov.InferRequest) -> tuple[np.ndarray, np.ndarray]:
        return (request.get_tensor(self._boxes_output).data, request.get_tensor(self._scores_output).data)

    def detect(self, frame: np.ndarray, padding: float = 0.0, min_score: float | None = None) -> list[Face]:
        """Synchronous detection of one image (photos, CLI, tests; the live pipeline runs async)."""
        tensor, transform = self.preprocess(frame, padding)
        self._request.infer({0: tensor})
        return self.postprocess(*self.outputs_of(self._request), transform, min_score)
