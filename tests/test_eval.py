"""`mask-kiosk eval` on a VOC folder the test writes: known boxes give known recall and AP."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.bench.samples import GRACE_HOPPER_FACE, grace_hopper
from kiosk.vision.evaluate import average_precision, match, size_bands


def run_eval(*arguments):
    return subprocess.run([sys.executable, "-m", "kiosk", "eval", *map(str, arguments)],
                          capture_output=True, text=True, timeout=300)


def voc_object(label: str, box) -> str:
    x1, y1, x2, y2 = box
    return (f"<object><name>{label}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
            f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>")


def write_photo(folder: Path, name: str, image: np.ndarray, objects: list[tuple[str, tuple]]) -> None:
    cv2.imwrite(str(folder / "JPEGImages" / f"{name}.jpg"), image)
    body = "".join(voc_object(label, box) for label, box in objects)
    (folder / "Annotations" / f"{name}.xml").write_text(
        f"<annotation><filename>{name}.jpg</filename><size><width>{image.shape[1]}</width>"
        f"<height>{image.shape[0]}</height><depth>3</depth></size>{body}</annotation>")


def small_portrait(height: int = 60) -> tuple[np.ndarray, tuple]:
    """A grey 640x480 scene with the portrait 60 px tall: its face is about 19 px."""
    scene = np.full((480, 640, 3), 96, np.uint8)
    scale = height / 600
    portrait = cv2.resize(grace_hopper(), (round(512 * scale), height), interpolation=cv2.INTER_AREA)
    scene[100:100 + height, 300:300 + portrait.shape[1]] = portrait
    x1, y1, x2, y2 = GRACE_HOPPER_FACE
    return scene, (300 + x1 * scale, 100 + y1 * scale, 300 + x2 * scale, 100 + y2 * scale)


@pytest.fixture(scope="module")
def voc_folder(tmp_path_factory, masked_portrait):
    folder = tmp_path_factory.mktemp("voc")
    (folder / "JPEGImages").mkdir()
    (folder / "Annotations").mkdir()
    write_photo(folder, "bare", grace_hopper(), [("without_mask", GRACE_HOPPER_FACE)])
    write_photo(folder, "masked", masked_portrait, [("with_mask", GRACE_HOPPER_FACE)])
    # a face annotated where there is none: a miss
    write_photo(folder, "ghost", np.full((480, 640, 3), 96, np.uint8), [("with_incorrect_mask", (100, 100, 200, 220))])
    # a small bare face labelled with_mask: below 32 px it is neither a miss nor (as no_mask) a false positive
    scene, box = small_portrait()
    write_photo(folder, "small", scene, [("with_mask", box)])
    write_photo(folder, "small-unannotated", scene, [])
    return folder


def test_known_boxes_give_known_recall_and_ap(voc_folder):
    result = run_eval(voc_folder, "--min-size", "32", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["images"] == 5
    assert {cls: (row["found"], row["faces"]) for cls, row in report["recall"].items()} == {
        "mask": (1, 1), "no_mask": (1, 1), "incorrect": (0, 1)}
    assert report["recall"]["mask"]["bands"][">=80"] == {"faces": 1, "recall": 1.0}
    assert report["recall"]["incorrect"]["bands"]["48-80"] == {"faces": 0, "recall": None}
    assert report["ap"] == {"mask": 1.0, "no_mask": 1.0, "incorrect": 0.0}
    assert report["map"] == pytest.approx(2 / 3)
    assert report["ignored_faces"] == 1 and report["unmatched_detections"] == 0
    assert report["confusion"]["counts"] == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    assert report["images_per_second"] > 0


def test_small_faces_count_when_min_size_allows(voc_folder):
    report = json.loads(run_eval(voc_folder, "--min-size", "0", "--json").stdout)
    # the small bare face labelled with_mask is now found (recall) but shown no_mask: half the mask AP
    assert (report["recall"]["mask"]["found"], report["recall"]["mask"]["faces"]) == (2, 2)
    assert report["ap"]["mask"] == pytest.approx(0.5)
    assert report["unmatched_detections"] == 1  # the unannotated small face
    assert list(report["recall"]["mask"]["bands"]) == ["0-32", "32-48", "48-80", ">=80"]


def test_text_report_names_classes_and_speed(voc_folder):
    result = run_eval(voc_folder)
    assert result.returncode == 0
    assert "RetinaFace" in result.stdout and "images/s" in result.stdout
    for cls in ("mask", "no_mask", "incorrect", "mAP"):
        assert cls in result.stdout


@pytest.mark.parametrize("make, message", [
    (lambda folder: None, "not a PASCAL-VOC folder"),
    (lambda folder: (folder / "a.xml").write_text("<annotation><object>"), "a.xml: not valid XML"),
    (lambda folder: (folder / "a.xml").write_text("<svg/>"), "not a PASCAL-VOC annotation"),
    (lambda folder: (folder / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename></annotation>"), "its image a.jpg is not in"),
])
def test_bad_folder_is_one_line_and_exit_2(tmp_path, make, message):
    (tmp_path / "photo.jpg").write_bytes(cv2.imencode(".jpg", grace_hopper())[1].tobytes())
    make(tmp_path)
    result = run_eval(tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_unknown_label_is_named(voc_folder, tmp_path):
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "JPEGImages").mkdir()
    write_photo(tmp_path, "cat", grace_hopper(), [("cat", (1, 1, 50, 50))])
    result = run_eval(tmp_path)
    assert result.returncode == 2 and "label 'cat' is not one of with_mask" in result.stderr


def test_average_precision_and_matching():
    # ranked hits T F T with 3 faces: precision 1 up to recall 1/3, then 2/3 up to recall 2/3
    assert average_precision([0.9, 0.8, 0.7], [True, False, True], 3) == pytest.approx(1 / 3 + 2 / 3 * 1 / 3)
    assert average_precision([], [], 2) == 0.0
    assert average_precision([0.5], [False], 0) is None
    truth = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], np.float32)
    detections = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10]], np.float32)
    # the better-scored duplicate takes the face; the other finds it taken
    assert match(detections, np.array([0.5, 0.9, 0.7]), truth, 0.5).tolist() == [-1, 0, 1]
    assert size_bands(32) == [(32, 48), (48, 80), (80, float("inf"))]
    assert size_bands(60) == [(60, 80), (80, float("inf"))]


def test_walk_up_plays_each_photo_through_the_live_pipeline_and_judges_each_person(tmp_path, masked_portrait):
    for folder in ("JPEGImages", "Annotations"):
        (tmp_path / folder).mkdir()
    write_photo(tmp_path, "bare", grace_hopper(), [("without_mask", GRACE_HOPPER_FACE)])
    write_photo(tmp_path, "masked", masked_portrait, [("with_mask", GRACE_HOPPER_FACE)])
    result = run_eval(tmp_path, "--walk-up", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["persons"] == {"mask": 1, "no_mask": 1, "incorrect": 0}
    assert figures["found"] == figures["persons"]
    assert figures["masks_passed"] == 1.0 and figures["bare_stopped"] == 1.0 and not figures["bare_shown_mask"]
    assert 0 < figures["seconds_p50"] <= 0.7
    listing = tmp_path / "only.txt"
    listing.write_text("bare.jpg\n")
    text = run_eval(tmp_path, "--walk-up", "--only", listing)
    assert text.returncode == 0 and "1 walk-up clips" in text.stdout and "bare faces stopped 1.0000" in text.stdout
