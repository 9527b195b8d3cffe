"""The face detector contract: a uint8 BGR frame in, faces in that frame's pixels out.

The live pipeline, still photos, `eval` and training all use a detector the same way:
- `preprocess(frame, padding)` -> (tensor, transform): one letterbox resize into the model's input;
  colour order, mean, scale and layout are inside the IR (OpenVINO PrePostProcessor);
- the caller runs the request (`detect` synchronously, the pipeline through its AsyncInferQueue);
- `postprocess(outputs_of(request), transform)` -> faces with box, score and keypoints in frame pixels.
The model's inputs and outputs are checked when it loads: a wrong IR is a ModelContractError saying what is off.
"""
from __future__ import annotations

import numpy as np
import openvino as ov

from kiosk.types import Face
from kiosk.vision.imageops import Letterbox, letterbox, nested

# A box half inside a larger, better-scored face is a part of it (eye, mouth): close faces break up that way.
NESTED_INSIDE = 0.5


class ModelContractError(RuntimeError):
    """The IR does not have the inputs or outputs its detector expects."""


def _shape(port: ov.Output) -> list[int] | None:
    shape = port.get_partial_shape()
    return [dim.get_length() for dim in shape] if shape.is_static else None


class FaceDetector:
    """Base of every detector model; subclasses check their outputs and decode them."""

    name = "face detector"

    def __init__(self, compiled: ov.CompiledModel, min_score: float, nms_iou: float):
        self.compiled = compiled
        self.min_score = min_score
        self.nms_iou = nms_iou
        if len(compiled.inputs) != 1:
            raise ModelContractError(f"{self.name}: expected one input, found {len(compiled.inputs)}")
        port = compiled.inputs[0]
        shape = _shape(port)
        if shape is None or len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or port.get_element_type() != ov.Type.u8:
            raise ModelContractError(f"{self.name}: expected a uint8 input [1, height, width, 3] (BGR NHWC), "
                                     f"found {port.get_element_type()} {port.get_partial_shape()}")
        self.input_height, self.input_width = shape[1], shape[2]
        self._outputs = self.check_outputs(compiled)
        self._request = compiled.create_infer_request()

    def check_outputs(self, compiled: ov.CompiledModel) -> list[ov.Output]:
        """The model's outputs in the order `decode` takes them (ModelContractError when they do not fit);
        also sets up what decoding needs for this input size (anchors)."""
        raise NotImplementedError

    def decode(self, outputs: tuple[np.ndarray, ...], min_score: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Faces above min_score after NMS: boxes (N, 4), keypoints (N, K, 2), scores (N,), in input pixels."""
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name}, input {self.input_width}x{self.input_height}"

    def expect_outputs(self, compiled: ov.CompiledModel, expected: dict[str, list[int]]) -> list[ov.Output]:
        """Outputs by name with the given static shapes; one error listing what the IR has instead."""
        by_name = {name: port for port in compiled.outputs for name in port.get_names()}
        found = ", ".join(f"{'/'.join(sorted(p.get_names()))} {p.get_partial_shape()}" for p in compiled.outputs)
        ports = []
        for name, shape in expected.items():
            if name not in by_name or _shape(by_name[name]) != shape:
                wanted = ", ".join(f"{n} {s}" for n, s in expected.items())
                raise ModelContractError(f"{self.name}: expected outputs {wanted}; the IR has {found}")
            ports.append(by_name[name])
        return ports

    def preprocess(self, frame: np.ndarray, padding: float = 0.0) -> tuple[np.ndarray, Letterbox]:
        tensor, transform = letterbox(frame, self.input_width, self.input_height, padding)
        return tensor[np.newaxis], transform

    def outputs_of(self, request: ov.InferRequest) -> tuple[np.ndarray, ...]:
        return tuple(request.get_tensor(port).data for port in self._outputs)

    def postprocess(self, outputs: tuple[np.ndarray, ...], transform: Letterbox,
                    min_score: float | None = None, max_height: float = 1.0) -> list[Face]:
        """Faces in frame pixels; those taller than `max_height` of the input are left out."""
        boxes, keypoints, scores = self.decode(outputs, self.min_score if min_score is None else min_score)
        kept = nested(boxes, scores, NESTED_INSIDE)
        boxes, keypoints, scores = boxes[kept], keypoints[kept], scores[kept]
        faces = []
        for box, points, score in zip(boxes, keypoints, scores):
            if box[3] - box[1] > max_height * self.input_height:
                continue
            corners = transform.to_original(box.reshape(2, 2)).reshape(4)
            if corners[2] > corners[0] and corners[3] > corners[1]:
                faces.append(Face(corners, float(score), transform.to_original(points)))
        return faces

    def detect(self, frame: np.ndarray, padding: float = 0.0, min_score: float | None = None,
               max_height: float = 1.0) -> list[Face]:
        """Synchronous detection of one image (photos, CLI, training; the live pipeline runs async)."""
        tensor, transform = self.preprocess(frame, padding)
        self._request.infer({0: tensor})
        return self.postprocess(self.outputs_of(self._request), transform, min_score, max_height)
