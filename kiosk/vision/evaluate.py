"""`mask-kiosk eval`: the detector and classifier measured on labelled photos (PASCAL-VOC).

A site's own check: face recall per class and face size (a face counts as found when a detection
overlaps it at IoU >= 0.4, whatever its label), AP@0.5 per class of detector and classifier together
(a face's label is the one the kiosk shows, its score detection score x label score), and speed.
Faces smaller than `min_size` (box height) and `difficult` ones count neither as misses nor, when
detected, as false positives; unmatched detections smaller than `min_size` are not counted either.
"""
from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.types import Face
from kiosk.vision.analyzer import PhotoAnalyzer
from kiosk.vision.classifier import CLASSES
from kiosk.vision.image_input import ImageLimits, UnreadableImage, decode_checked
from kiosk.vision.imageops import iou

VOC_LABELS = {"with_mask": "mask", "without_mask": "no_mask",
              "mask_weared_incorrect": "incorrect", "with_incorrect_mask": "incorrect"}
RECALL_IOU = 0.4   # hand-drawn boxes vary in tightness
AP_IOU = 0.5       # the PASCAL-VOC rule
BAND_EDGES = (32, 48, 80)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class VocError(ValueError):
    """The folder or one of its files is not PASCAL-VOC as expected; one line naming it."""


@dataclass(frozen=True)
class Annotated:
    image: Path
    boxes: np.ndarray        # (N, 4) x1, y1, x2, y2
    labels: tuple[str, ...]
    difficult: np.ndarray    # (N,) bool


def _first_dir(folder: Path, names: Iterable[str]) -> Path | None:
    return next((folder / name for name in names if (folder / name).is_dir()), None)


def _number(element: ET.Element, tag: str, xml: Path) -> float:
    text = element.findtext(tag)
    try:
        return float(text or "")
    except ValueError:
        raise VocError(f"{xml}: bndbox {tag} is {text!r}, not a number") from None


def _read_annotation(xml: Path, images: Path) -> Annotated:
    try:
        root = ET.parse(xml).getroot()
    except ET.ParseError as exc:
        raise VocError(f"{xml}: not valid XML ({exc})") from None
    if root.tag != "annotation":
        raise VocError(f"{xml}: not a PASCAL-VOC annotation (root element <{root.tag}>)")
    name = root.findtext("filename") or xml.stem
    candidates = [images / name] + [images / f"{xml.stem}{suffix}" for suffix in IMAGE_SUFFIXES]
    image = next((path for path in candidates if path.is_file()), None)
    if image is None:
        raise VocError(f"{xml}: its image {name} is not in {images}")
    boxes, labels, difficult = [], [], []
    for obj in root.iter("object"):
        label = (obj.findtext("name") or "").strip()
        if label not in VOC_LABELS:
            raise VocError(f"{xml}: label {label!r} is not one of {', '.join(VOC_LABELS)}")
        box = obj.find("bndbox")
        if box is None:
            raise VocError(f"{xml}: an object without bndbox")
        boxes.append([_number(box, tag, xml) for tag in ("xmin", "ymin", "xmax", "ymax")])
        labels.append(VOC_LABELS[label])
        difficult.append((obj.findtext("difficult") or "0").strip() == "1")
    return Annotated(image, np.array(boxes, np.float32).reshape(-1, 4), tuple(labels), np.array(difficult, bool))


def read_voc(folder: Path) -> list[Annotated]:
    """Annotations from Annotations/ (or annotations/, or the folder itself), images from JPEGImages/
    (or images/, or beside the XML files)."""
    if not folder.is_dir():
        raise VocError(f"{folder}: not a folder")
    annotations = _first_dir(folder, ("Annotations", "annotations")) or folder
    files = sorted(annotations.glob("*.xml"))
    if not files:
        raise VocError(f"{folder}: not a PASCAL-VOC folder (no .xml annotations in Annotations/, annotations/ "
                       "or the folder itself)")
    images = _first_dir(folder, ("JPEGImages", "images")) or annotations
    return [_read_annotation(xml, images) for xml in files]


def size_bands(min_size: float) -> list[tuple[float, float]]:
    edges = sorted({float(min_size), *(e for e in BAND_EDGES if e > min_size)}) + [math.inf]
    return list(zip(edges[:-1], edges[1:]))


def band_name(band: tuple[float, float]) -> str:
    low, high = band
    return f">={low:g}" if high == math.inf else f"{low:g}-{high:g}"


def match(det_boxes: np.ndarray, det_scores: np.ndarray, truth: np.ndarray, threshold: float) -> np.ndarray:
    """PASCAL-VOC greedy matching: detections by falling score each take the best-overlapping free truth box.
    Returns, per detection, the index of its truth box or -1."""
    taken = np.zeros(len(truth), bool)
    matched = np.full(len(det_boxes), -1)
    for index in np.argsort(-det_scores, kind="stable"):
        if not len(truth):
            break
        overlaps = np.where(taken, -1.0, iou(det_boxes[index], truth))
        best = int(overlaps.argmax())
        if overlaps[best] >= threshold:
            taken[best] = True
            matched[index] = best
    return matched


def average_precision(scores: list[float], hits: list[bool], positives: int) -> float | None:
    """Area under the interpolated precision-recall curve (PASCAL-VOC 2010 and later)."""
    if positives == 0:
        return None
    order = np.argsort(-np.array(scores), kind="stable")
    true_positive = np.array(hits, float)[order] if hits else np.zeros(0)
    found = np.cumsum(true_positive)
    recall = np.concatenate([[0.0], found / positives, [1.0]])
    precision = np.concatenate([[0.0], found / np.arange(1, len(found) + 1), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


class Tally:
    """Counts over all photos of one evaluation."""

    def __init__(self, min_size: float):
        self.min_size = min_size
        self.bands = size_bands(min_size)
        self.faces = {c: np.zeros(len(self.bands), int) for c in CLASSES}
        self.found = {c: np.zeros(len(self.bands), int) for c in CLASSES}
        self.confusion = np.zeros((len(CLASSES), len(CLASSES) + 1), int)  # last column: no label
        self.detections: dict[str, list[tuple[float, bool]]] = {c: [] for c in CLASSES}
        self.ignored_faces = 0
        self.unmatched = 0

    def _band(self, height: float) -> int:
        return next(i for i, (low, high) in enumerate(self.bands) if low <= height < high)

    def add(self, item: Annotated, faces: list[Face]) -> None:
        heights = item.boxes[:, 3] - item.boxes[:, 1]
        counted = (heights >= self.min_size) & ~item.difficult
        self.ignored_faces += int((~counted).sum())
        boxes = np.stack([f.box for f in faces]) if faces else np.zeros((0, 4), np.float32)
        scores = np.array([f.score for f in faces])
        small = (boxes[:, 3] - boxes[:, 1]) < self.min_size
        matched = match(boxes, scores, item.boxes, RECALL_IOU)
        found_truth = set(matched[matched >= 0].tolist())
        self.unmatched += int(((matched < 0) & ~small).sum())
        for index, label in enumerate(item.labels):
            if not counted[index]:
                continue
            band = self._band(heights[index])
            self.faces[label][band] += 1
            if index in found_truth:
                self.found[label][band] += 1
                face = faces[int(np.flatnonzero(matched == index)[0])]
                column = CLASSES.index(face.label) if face.label in CLASSES else len(CLASSES)
                self.confusion[CLASSES.index(label), column] += 1
        for cls in CLASSES:
            self._add_class(cls, item, counted, faces, boxes, small)

    def _add_class(self, cls: str, item: Annotated, counted: np.ndarray, faces: list[Face], boxes: np.ndarray,
                   small: np.ndarray) -> None:
        mine = [i for i, f in enumerate(faces) if f.label == cls]
        truth_index = [i for i, label in enumerate(item.labels) if label == cls]
        scores = np.array([faces[i].score * (faces[i].label_score or 0.0) for i in mine])
        matched = match(boxes[mine], scores, item.boxes[truth_index], AP_IOU)
        for position, face_index in enumerate(mine):
            if matched[position] >= 0:
                if counted[truth_index[matched[position]]]:
                    self.detections[cls].append((float(scores[position]), True))
            elif not small[face_index]:
                self.detections[cls].append((float(scores[position]), False))

    def report(self) -> dict:
        recall: dict[str, dict[str, Any]] = {}
        for cls in CLASSES:
            faces, found = self.faces[cls], self.found[cls]
            recall[cls] = {"faces": int(faces.sum()), "found": int(found.sum()),
                           "recall": float(found.sum() / faces.sum()) if faces.sum() else None,
                           "bands": {band_name(b): {"faces": int(n), "recall": float(k / n) if n else None}
                                     for b, n, k in zip(self.bands, faces, found)}}
        ap = {cls: average_precision([s for s, _ in self.detections[cls]], [h for _, h in self.detections[cls]],
                                     recall[cls]["faces"]) for cls in CLASSES}
        present = [v for v in ap.values() if v is not None]
        return {"min_size": self.min_size, "recall_iou": RECALL_IOU, "ap_iou": AP_IOU, "recall": recall,
                "ap": ap, "map": float(np.mean(present)) if present else None,
                "confusion": {"rows": list(CLASSES), "columns": [*CLASSES, "none"],
                              "counts": self.confusion.tolist()},
                "ignored_faces": self.ignored_faces, "unmatched_detections": self.unmatched}


def evaluate(analyzer: PhotoAnalyzer, items: list[Annotated], min_size: float, limits: ImageLimits) -> dict:
    tally = Tally(min_size)
    started = time.perf_counter()
    for item in items:
        try:
            image = decode_checked(item.image.read_bytes(), limits)
        except UnreadableImage as exc:
            raise VocError(f"{item.image}: {exc}") from None
        tally.add(item, analyzer.analyse(image))
    seconds = time.perf_counter() - started
    return {**tally.report(), "images": len(items), "seconds": round(seconds, 2),
            "images_per_second": round(len(items) / seconds, 2) if seconds else None}


def format_report(report: dict, title: str) -> str:
    def figure(value: float | None) -> str:
        return "  -  " if value is None else f"{value:.3f}"

    bands = list(next(iter(report["recall"].values()))["bands"])
    lines = [title,
             f"{'face recall (IoU ' + str(report['recall_iou']) + ')':<24} {'all':>7} "
             + " ".join(f"{b:>7}" for b in bands)]
    for cls, row in report["recall"].items():
        lines.append(f"  {cls:<22} {figure(row['recall']):>7} "
                     + " ".join(f"{figure(v['recall']):>7}" for v in row["bands"].values())
                     + f"   ({row['found']}/{row['faces']})")
    lines.append(f"AP@{report['ap_iou']} (detector + classifier): "
                 + "  ".join(f"{cls} {figure(v)}" for cls, v in report["ap"].items())
                 + f"  mAP {figure(report['map'])}")
    confusion = report["confusion"]
    lines.append("labels of found faces (rows: truth, columns: shown): " + " ".join(confusion["columns"]))
    for name, counts in zip(confusion["rows"], confusion["counts"]):
        lines.append(f"  {name:<10} " + " ".join(f"{c:>6}" for c in counts))
    lines.append(f"{report['images']} images in {report['seconds']} s: {report['images_per_second']} images/s; "
                 f"{report['ignored_faces']} faces below {report['min_size']:g} px or difficult not counted; "
                 f"{report['unmatched_detections']} detections match no counted face")
    return "\n".join(lines)
