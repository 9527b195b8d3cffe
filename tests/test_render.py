"""Drawing the answers: labels that stay readable in a crowd, summaries in words."""
import numpy as np

from kiosk.live.render import annotate, describe_labels, label_places
from kiosk.types import Face


def crowd_boxes(rows: int, columns: int) -> list[tuple[int, int, int, int]]:
    """Face boxes of a tight group photo: faces 60 px apart, 50 px wide."""
    return [(20 + 60 * c, 20 + 70 * r, 70 + 60 * c, 80 + 70 * r) for r in range(rows) for c in range(columns)]


def test_labels_in_a_crowd_never_cover_each_other_or_another_face():
    boxes = crowd_boxes(3, 5)
    places = label_places(boxes, [(80, 18)] * len(boxes), (260, 360))
    placed = [(i, p) for i, p in enumerate(places) if p is not None]
    assert len(placed) >= 5  # the front row at least keeps its words
    for i, a in placed:
        assert 0 <= a[0] and a[2] <= 360 and 0 <= a[1] and a[3] <= 260
        for j, b in placed:
            assert i == j or not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
        for j, box in enumerate(boxes):
            assert i == j or not (a[0] < box[2] and box[0] < a[2] and a[1] < box[3] and box[1] < a[3]), (a, box)


def test_a_lone_face_is_labelled_above_its_box_and_the_crowd_picture_is_drawn():
    assert label_places([(100, 100, 200, 220)], [(90, 20)], (480, 640)) == [(100, 80, 190, 100)]
    faces = [Face(np.array(box, float), 0.9, np.zeros((5, 2)), "no_mask", 0.9) for box in crowd_boxes(3, 5)]
    picture = annotate(np.zeros((260, 360, 3), np.uint8), faces, [f.label for f in faces], (360, 260))
    assert picture.shape == (260, 360, 3) and picture.any()


def test_summaries_use_words():
    assert describe_labels([]) == "no face found"
    assert describe_labels(["no_mask"]) == "1 face: 1 no mask"
    assert describe_labels(["mask", "incorrect", "mask", None]) == \
        "4 faces: 2 mask, 1 mask worn wrongly, 1 not judged"
