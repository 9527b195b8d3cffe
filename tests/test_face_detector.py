import cv2
import numpy as np
import pytest
from conftest import DETECTORS

from kiosk.bench.samples import GRACE_HOPPER_FACE, grace_hopper
from kiosk.vision.analyzer import load_analyzer
from kiosk.vision.detectors.base import ModelContractError
from kiosk.vision.detectors.blazeface import ANCHOR_OPTIONS, BlazeFace, ssd_anchors
from kiosk.vision.detectors.retinaface import RetinaFace, retinaface_anchors
from kiosk.vision.imageops import iou
from kiosk.vision.model_build import detector_xml
from kiosk.vision.runtime import compile_model


@pytest.mark.parametrize("variant, count", [("short", 896), ("full", 2304)])
def test_blazeface_anchors_in_mediapipe_order(variant, count):
    anchors = ssd_anchors(**ANCHOR_OPTIONS[variant])
    assert anchors.shape == (count, 2)
    first_stride = ANCHOR_OPTIONS[variant]["strides"][0]
    assert anchors[0] == pytest.approx([first_stride / 2 / ANCHOR_OPTIONS[variant]["input_size"]] * 2)


@pytest.mark.parametrize("width, height", [(640, 480), (320, 240), (960, 960)])
def test_retinaface_anchors_match_the_reshaped_model(config, width, height):
    detector = RetinaFace(compile_model(detector_xml(config.models_dir(), "retinaface"), config,
                                        [1, height, width, 3]), 0.5, 0.3)
    anchors = retinaface_anchors(width, height)
    assert len(anchors) == detector.compiled.outputs[0].get_partial_shape()[1].get_length()
    assert anchors[0].tolist() == [4, 4, 16, 16] and anchors[1].tolist() == [4, 4, 32, 32]
    assert (detector.input_width, detector.input_height) == (width, height)


def test_wrong_ir_is_refused_with_what_is_off(config):
    blazeface_ir = compile_model(detector_xml(config.models_dir(), "blazeface_short"), config)
    with pytest.raises(ModelContractError, match=r"RetinaFace.*expected outputs loc .*the IR has"):
        RetinaFace(blazeface_ir, 0.5, 0.3)
    with pytest.raises(ModelContractError, match=r"BlazeFace full range: expected a 192x192 input"):
        BlazeFace(blazeface_ir, "full")
    float_input = compile_model(config.models_dir() / "mask_classifier" / "mask_classifier.xml", config)
    with pytest.raises(ModelContractError, match=r"expected a uint8 input \[1, height, width, 3\]"):
        RetinaFace(float_input, 0.5, 0.3)


def single_face(detector, image):
    faces = detector.detect(image)
    assert len(faces) == 1, f"expected one face, got {len(faces)}"
    return faces[0]


def letterboxed_16_9(image):
    height, width = image.shape[:2]
    pad = (height * 16 // 9 - width) // 2
    return cv2.copyMakeBorder(image, 0, 0, pad, pad, cv2.BORDER_CONSTANT, value=(60, 60, 60)), pad


@pytest.mark.parametrize("key", DETECTORS)
def test_face_found_on_original(detectors, key):
    face = single_face(detectors[key], grace_hopper())
    assert iou(np.array(GRACE_HOPPER_FACE), face.box[None])[0] >= 0.5
    right_eye, left_eye, nose = face.keypoints[:3]
    assert right_eye[0] < nose[0] < left_eye[0]  # image-left eye first
    assert GRACE_HOPPER_FACE[1] < right_eye[1] < nose[1] < GRACE_HOPPER_FACE[3]


@pytest.mark.parametrize("key", DETECTORS)
def test_face_found_on_16_9_padded(detectors, key):
    padded, pad = letterboxed_16_9(grace_hopper())
    assert padded.shape[1] / padded.shape[0] == pytest.approx(16 / 9, abs=0.01)
    face = single_face(detectors[key], padded)
    box = face.box - np.array([pad, 0, pad, 0])
    assert iou(np.array(GRACE_HOPPER_FACE), box[None])[0] >= 0.5


@pytest.mark.parametrize("camera, fitted", [((640, 480), (640, 480)), ((1280, 720), (640, 384)),
                                            ((1920, 1080), (640, 384)), ((480, 640), (384, 480))])
def test_the_live_input_follows_the_camera_and_finds_the_same_face(config, camera, fitted):
    """A 16:9 camera gets a 640x384 input, not 640x480 with a quarter of it padding; at the same scale the face is
    found as through the full input (its box moves by a few pixels: the padding shifts it on the anchor grid)."""
    from kiosk.vision.models import live_input_size, load_detector
    sized = config.replaced(camera={"width": camera[0], "height": camera[1]})
    assert live_input_size(sized) == fitted
    if camera != (1280, 720):
        return  # one real comparison is enough: the others differ only in their numbers
    frame, pad = letterboxed_16_9(grace_hopper())
    frame = cv2.resize(frame, camera, interpolation=cv2.INTER_AREA)
    detector = load_detector(sized)
    assert (detector.input_width, detector.input_height) == fitted
    full = single_face(load_detector(config), frame)
    fitted_face = single_face(detector, frame)
    assert iou(full.box, fitted_face.box[None])[0] >= 0.95
    assert abs(full.score - fitted_face.score) < 0.01


@pytest.mark.parametrize("key", DETECTORS)
def test_face_found_on_4x_downscaled(detectors, key):
    image = grace_hopper()
    small = cv2.resize(image, (image.shape[1] // 4, image.shape[0] // 4), interpolation=cv2.INTER_AREA)
    face = single_face(detectors[key], small)
    assert iou(np.array(GRACE_HOPPER_FACE), face.box[None] * 4)[0] >= 0.5


@pytest.mark.parametrize("key", DETECTORS)
@pytest.mark.parametrize("shape", [(480, 640, 3), (720, 1280, 3)])
def test_blank_image_has_no_face(detectors, key, shape):
    assert detectors[key].detect(np.zeros(shape, np.uint8)) == []
    assert detectors[key].detect(np.full(shape, 200, np.uint8)) == []


@pytest.mark.parametrize("margin", [(0, 0, 0, 0), (40, 20, 10, 10), (20, 20, 0, 0)])
def test_photo_close_up_is_one_face(config, margin):
    """A close-up that the face fills or runs off: upscaled in the first pass it breaks into face parts; those are
    left to the bordered context pass, which finds the one face."""
    top, bottom, left, right = margin
    x1, y1, x2, y2 = map(int, GRACE_HOPPER_FACE)
    close_up = grace_hopper()[y1 + top:y2 - bottom, x1 + left:x2 - right]
    analyzer = load_analyzer(config, with_classifier=False)
    assert len(analyzer.detector.detect(close_up, 0.0, analyzer.min_score)) > 1  # the fragments
    faces = analyzer.find_faces(close_up)
    assert len(faces) == 1
    assert faces[0].box[2] - faces[0].box[0] > 0.8 * close_up.shape[1]
    assert len(analyzer.find_faces(grace_hopper())) == 1


def test_a_face_part_inside_a_better_face_is_dropped():
    from kiosk.vision.imageops import nested
    boxes = np.array([[0, 0, 100, 100], [10, 10, 40, 40], [90, 90, 130, 130], [200, 0, 260, 60],
                      [205, 5, 230, 30]], np.float32)
    scores = np.array([0.99, 0.9, 0.8, 0.6, 0.95])
    # the eye-sized box inside the first face goes; a neighbour overlapping a corner stays; a part scored
    # higher than its holder stays (the holder is the doubtful one)
    assert nested(boxes, scores, 0.5).tolist() == [0, 2, 3, 4]
