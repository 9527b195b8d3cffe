import cv2
import numpy as np
import pytest

from kiosk.face_detector import ssd_anchors, ANCHOR_OPTIONS
from kiosk.imageops import iou
from kiosk.samples import GRACE_HOPPER_FACE, grace_hopper


@pytest.mark.parametrize("variant, count", [("short", 896), ("full", 2304)])
def test_anchor_count_matches_model_output(detectors, variant, count):
    anchors = ssd_anchors(**ANCHOR_OPTIONS[variant])
    assert anchors.shape == (count, 2)
    assert detectors[variant].compiled.outputs[0].get_partial_shape()[1].get_length() == count
    # MediaPipe order: first anchor at the first cell centre of the finest layer
    first_stride = ANCHOR_OPTIONS[variant]["strides"][0]
    assert anchors[0] == pytest.approx([first_stride / 2 / ANCHOR_OPTIONS[variant]["input_size"]] * 2)


def single_face(detector, image):
    faces = detector.detect(image)
    assert len(faces) == 1, f"expected one face, got {len(faces)}"
    return faces[0]


def letterboxed_16_9(image):
    height, width = image.shape[:2]
    pad = (height * 16 // 9 - width) // 2
    return cv2.copyMakeBorder(image, 0, 0, pad, pad, cv2.BORDER_CONSTANT, value=(60, 60, 60)), pad


@pytest.mark.parametrize("variant", ["full", "short"])
def test_face_found_on_original(detectors, variant):
    face = single_face(detectors[variant], grace_hopper())
    assert iou(np.array(GRACE_HOPPER_FACE), face.box[None])[0] >= 0.5
    assert face.keypoints.shape == (6, 2)
    right_eye, left_eye = face.keypoints[0], face.keypoints[1]
    assert right_eye[0] < left_eye[0]  # image-left eye first
    assert GRACE_HOPPER_FACE[1] < right_eye[1] < GRACE_HOPPER_FACE[3]


@pytest.mark.parametrize("variant", ["full", "short"])
def test_face_found_on_16_9_padded(detectors, variant):
    padded, pad = letterboxed_16_9(grace_hopper())
    assert padded.shape[1] / padded.shape[0] == pytest.approx(16 / 9, abs=0.01)
    face = single_face(detectors[variant], padded)
    box = face.box - np.array([pad, 0, pad, 0])
    assert iou(np.array(GRACE_HOPPER_FACE), box[None])[0] >= 0.5


@pytest.mark.parametrize("variant", ["full", "short"])
def test_face_found_on_4x_downscaled(detectors, variant):
    image = grace_hopper()
    small = cv2.resize(image, (image.shape[1] // 4, image.shape[0] // 4), interpolation=cv2.INTER_AREA)
    face = single_face(detectors[variant], small)
    assert iou(np.array(GRACE_HOPPER_FACE), face.box[None] * 4)[0] >= 0.5


@pytest.mark.parametrize("variant", ["full", "short"])
@pytest.mark.parametrize("shape", [(480, 640, 3), (720, 1280, 3)])
def test_blank_image_has_no_face(detectors, variant, shape):
    assert detectors[variant].detect(np.zeros(shape, np.uint8)) == []
    assert detectors[variant].detect(np.full(shape, 200, np.uint8)) == []
