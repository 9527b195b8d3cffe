"""Draws boxes (and, for the admin's photo check, labels) on a display-sized copy of the frame; encodes JPEG once.

The live picture carries boxes only: its labels are drawn by the screen itself (kiosk/web/live.js), in the
screen's language and script, without confidence figures on the public screen (face_labels gives them)."""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from kiosk.types import Face, Published, TrackedFace

# BGR: green mask, red no mask, amber worn wrongly, grey not yet classified, dark grey outside the entry zone
OUTSIDE = "outside"
LABEL_COLOURS = {"mask": (60, 180, 40), "no_mask": (40, 40, 220), "incorrect": (0, 170, 255), None: (160, 160, 160),
                 OUTSIDE: (90, 90, 90)}
ZONE_COLOUR = (200, 200, 200)
LABEL_TEXT = {"mask": "mask", "no_mask": "no mask", "incorrect": "mask worn wrongly", None: "not judged"}


def display_scale(width: int, height: int, max_width: int, max_height: int) -> float:
    """Scale that fits the frame inside the display size, never enlarging."""
    return min(1.0, max_width / width, max_height / height)


def annotate(image: np.ndarray, faces: list[Face], labels: list[str | None], max_size: tuple[int, int],
             texts: bool = True) -> np.ndarray:
    """A display-sized copy of image with each face boxed in its label's colour, and, when `texts`, its label
    written where it overlaps no other label or face (above the box, else below, else inside its top); where there
    is no such room the box's colour alone says it (a crowd stays readable)."""
    scale = display_scale(image.shape[1], image.shape[0], *max_size)
    if scale < 1.0:
        canvas = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                            interpolation=cv2.INTER_AREA)
    else:
        canvas = image.copy()
    thickness = max(2, round(canvas.shape[0] / 240))
    boxes = [tuple(int(round(v * scale)) for v in face.box) for face in faces]
    for (x1, y1, x2, y2), label in zip(boxes, labels):
        cv2.rectangle(canvas, (x1, y1), (x2, y2), LABEL_COLOURS.get(label, LABEL_COLOURS[None]), thickness,
                      cv2.LINE_AA)
    if texts:
        _write_labels(canvas, boxes, faces, labels)
    return canvas


def _write_labels(canvas: np.ndarray, boxes: list[tuple[int, ...]], faces: list[Face],
                  labels: list[str | None]) -> None:
    texts = [LABEL_TEXT.get(label, str(label)) + ("" if face.label_score is None else f" {face.label_score:.0%}")
             for face, label in zip(faces, labels)]
    # about the face's width, no larger than the picture's own scale allows, no smaller than readable
    scales = [float(np.clip((box[2] - box[0]) / 200, 0.4, max(0.5, canvas.shape[0] / 720))) for box in boxes]
    weights = [max(1, round(scale * 2)) for scale in scales]
    sizes = [cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, weight)
             for text, scale, weight in zip(texts, scales, weights)]
    places = label_places(boxes, [(w + 6, h + baseline + 4) for (w, h), baseline in sizes], canvas.shape[:2])
    for place, text, scale, weight, ((_, text_h), _), label in zip(places, texts, scales, weights, sizes, labels):
        if place is None:
            continue
        left, top, right, bottom = place
        cv2.rectangle(canvas, (left, top), (right - 1, bottom - 1), LABEL_COLOURS.get(label, LABEL_COLOURS[None]),
                      cv2.FILLED)
        cv2.putText(canvas, text, (left + 3, top + text_h + 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (17, 17, 17) if label == "incorrect" else (255, 255, 255), weight, cv2.LINE_AA)


def label_places(boxes: list[tuple[int, ...]], sizes: list[tuple[int, int]],
                 shape: tuple[int, int]) -> list[tuple[int, int, int, int] | None]:
    """Where each box's label goes (left, top, right, bottom), largest faces first: above the box, else below it,
    else inside its top, wherever it covers no other face and no label placed before; None where there is no room
    (the box's colour alone then says it)."""
    height, width = shape
    taken: list[tuple[int, ...]] = list(boxes)
    places: list[tuple[int, int, int, int] | None] = [None] * len(boxes)
    for index in sorted(range(len(boxes)), key=lambda i: -(boxes[i][2] - boxes[i][0])):
        x1, y1, x2, y2 = boxes[index]
        label_w, label_h = sizes[index]
        left = int(np.clip(x1, 0, max(0, width - label_w)))
        for top in (y1 - label_h, y2, y1):
            place = (left, top, left + label_w, top + label_h)
            if top >= 0 and place[3] <= height and not any(
                    _overlap(place, other) for n, other in enumerate(taken) if n != index):
                places[index] = place
                taken.append(place)
                break
    return places


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def plain(text: str, **values: object) -> str:
    return text.format(**values)


def describe_labels(labels: list[str | None], say: Callable[..., str] = plain) -> str:
    """'3 faces: 2 mask, 1 no mask' in words a person reads (no raw label tokens); `say` puts each fixed text in
    the reader's language (kiosk.web.i18n.Texts) and fills in its values."""
    if not labels:
        return say("no face found")
    counts = [say("{count} {label}", count=labels.count(label), label=say(LABEL_TEXT[label]))
              for label in ("mask", "no_mask", "incorrect", None) if labels.count(label)]
    faces = say("{count} faces" if len(labels) > 1 else "{count} face", count=len(labels))
    return say("{faces}: {counts}", faces=faces, counts=say(", ").join(counts))


def annotate_tracked(image: np.ndarray, tracked: list[TrackedFace], shown: tuple[str | None, ...],
                     in_zone: tuple[bool, ...], zone: list[float], max_size: tuple[int, int]) -> np.ndarray:
    """The live picture: boxes only, in the colour of the label each face shows (kiosk.live.decision); a face
    outside the entry zone gets a dark grey box, and a zone smaller than the picture is outlined."""
    colours = [label if inside else OUTSIDE for label, inside in zip(shown, in_zone, strict=True)]
    canvas = annotate(image, [t.face for t in tracked], colours, max_size, texts=False)
    if list(zone) != [0.0, 0.0, 1.0, 1.0]:
        height, width = canvas.shape[:2]
        corners = [int(round(v)) for v in (zone[0] * width, zone[1] * height, zone[2] * width, zone[3] * height)]
        cv2.rectangle(canvas, (corners[0], corners[1]), (min(corners[2], width - 1), min(corners[3], height - 1)),
                      ZONE_COLOUR, max(1, round(canvas.shape[0] / 360)), cv2.LINE_AA)
    return canvas


def face_labels(item: Published) -> list[dict]:
    """What the screen writes over the live picture: each face's box as fractions of the frame, the label it shows
    (None while unconfirmed, outside the zone or ahead of the state), whether it is in the zone, and the
    classifier's confidence (shown on the admin page only)."""
    width, height = item.frame_size
    return [{"box": [round(float(v), 4) for v in (t.face.box / (width, height, width, height))], "label": label,
             "zone": inside, "score": None if t.face.label_score is None else round(t.face.label_score, 3)}
            for t, label, inside in zip(item.faces, item.shown, item.in_zone, strict=True)]


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()
