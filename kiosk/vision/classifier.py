"""The project's own mask classifier on OpenVINO: one batched call for all faces of a frame."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import openvino as ov

from kiosk.types import Face
from kiosk.vision.verdict import CLASSES, VerdictRule  # noqa: F401 - CLASSES: the order of the outputs, here too

METADATA_NAME = "mask_classifier.json"


def crop_face(image: np.ndarray, box: np.ndarray, margin: float, size: int) -> np.ndarray:
    """Square crop around the box widened by `margin` per side, resized to size x size in one warp.

    Parts outside the image come out black, as in the detector's letterbox.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    scale = size / side
    centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
    matrix = np.array([[scale, 0, size / 2 - centre_x * scale], [0, scale, size / 2 - centre_y * scale]])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_CONSTANT)


def load_metadata(model_dir: Path) -> dict:
    return json.loads((model_dir / METADATA_NAME).read_text())


class MaskClassifier:
    """Labels faces `mask`, `no_mask` or `incorrect`; input is uint8 BGR NHWC with a dynamic batch."""

    def __init__(self, compiled: ov.CompiledModel, metadata: dict, max_batch: int = 8):
        self.compiled = compiled
        self.classes = tuple(metadata["classes"])
        self.input_size = int(metadata["input_size"])
        self.margin = float(metadata["margin"])
        self.max_batch = max_batch
        # how a track's frames become a verdict: calibrated with this model (older models: the defaults)
        self.verdict = VerdictRule(**metadata.get("verdict", {}))
        self._request = compiled.create_infer_request()

    def preprocess(self, image: np.ndarray, boxes: list[np.ndarray]) -> np.ndarray:
        return np.stack([crop_face(image, box, self.margin, self.input_size) for box in boxes])

    def label(self, faces: list[Face], probabilities: np.ndarray) -> None:
        """Sets label and label_score on faces from their rows of class probabilities (extra faces keep None)."""
        for face, row in zip(faces, probabilities):
            best = int(row.argmax())
            face.label, face.label_score, face.probabilities = self.classes[best], float(row[best]), row

    def probabilities(self, crops: np.ndarray, request: ov.InferRequest | None = None) -> np.ndarray:
        """Class probabilities (N, 3) for prepared crops, max_batch at a time; on `request` when given (a thread
        of its own, such as the live pipeline's publisher), else on this classifier's request."""
        request = request or self._request
        parts = []
        for start in range(0, len(crops), self.max_batch):
            request.infer({0: crops[start:start + self.max_batch]})
            parts.append(request.get_output_tensor(0).data.copy())
        return np.concatenate(parts) if parts else np.zeros((0, len(self.classes)), np.float32)

    def classify(self, image: np.ndarray, faces: list[Face]) -> list[Face]:
        """Sets label and label_score on each face, all of them in one call (up to max_batch)."""
        if not faces:
            return faces
        self.label(faces, self.probabilities(self.preprocess(image, [f.box for f in faces])))
        return faces
