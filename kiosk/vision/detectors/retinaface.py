"""RetinaFace with a MobileNet-0.25 backbone (biubug6/Pytorch_Retinaface): anchors, box decode, NMS.

Trained on WIDER FACE, where many faces are partly hidden, it finds masked faces that BlazeFace misses.
Any input size works (the IR is reshaped at load); the anchors follow the input size.
"""
from __future__ import annotations

import math

import numpy as np
import openvino as ov

from kiosk.vision.detectors.base import FaceDetector
from kiosk.vision.imageops import nms

# From the biubug6 'mobile0.25' config: anchor sizes per feature-map stride, and the box-coding variances.
ANCHOR_SIZES = {8: (16, 32), 16: (64, 128), 32: (256, 512)}
CENTRE_VARIANCE, SIZE_VARIANCE = 0.1, 0.2
NUM_KEYPOINTS = 5  # eyes, nose tip, mouth corners


def retinaface_anchors(width: int, height: int) -> np.ndarray:
    """Anchors (N, 4) as centre x, centre y, width, height in input pixels, in the model's output order."""
    anchors = []
    for stride, sizes in ANCHOR_SIZES.items():
        columns, rows = math.ceil(width / stride), math.ceil(height / stride)
        grid_y, grid_x = np.meshgrid(np.arange(rows), np.arange(columns), indexing="ij")
        centres = (np.stack([grid_x.ravel(), grid_y.ravel()], axis=1) + 0.5) * stride
        per_size = [np.concatenate([centres, np.full((len(centres), 2), size)], axis=1) for size in sizes]
        anchors.append(np.stack(per_size, axis=1).reshape(-1, 4))
    return np.concatenate(anchors).astype(np.float32)


class RetinaFace(FaceDetector):
    name = "RetinaFace MobileNet-0.25"

    def check_outputs(self, compiled: ov.CompiledModel) -> list[ov.Output]:
        self.anchors = retinaface_anchors(self.input_width, self.input_height)
        count = len(self.anchors)
        return self.expect_outputs(compiled, {"loc": [1, count, 4], "conf": [1, count, 2],
                                              "landmarks": [1, count, 2 * NUM_KEYPOINTS]})

    def decode(self, outputs: tuple[np.ndarray, ...], min_score: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        loc, conf, landmarks = (output[0] for output in outputs)
        scores = conf[:, 1]
        keep = np.flatnonzero(scores > min_score)
        anchors, loc = self.anchors[keep], loc[keep]
        centres = anchors[:, :2] + loc[:, :2] * CENTRE_VARIANCE * anchors[:, 2:]
        sizes = anchors[:, 2:] * np.exp(loc[:, 2:] * SIZE_VARIANCE)
        boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
        points = (anchors[:, None, :2]
                  + landmarks[keep].reshape(-1, NUM_KEYPOINTS, 2) * CENTRE_VARIANCE * anchors[:, None, 2:])
        kept = nms(boxes, scores[keep], self.nms_iou)
        return boxes[kept].reshape(-1, 4), points[kept].reshape(-1, NUM_KEYPOINTS, 2), scores[keep][kept]
