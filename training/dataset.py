"""Training, calibration and validation faces from ../shared/datasets, cropped the way the kiosk crops them.

Whole photos go through the shipped detector with the photo settings and every face is cut from the
detector's box with the run-time crop. No torch here: the held-out test uses the same split and crops.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.config import Config
from kiosk.vision.analyzer import PhotoAnalyzer, load_analyzer
from kiosk.vision.classifier import crop_face
from kiosk.vision.evaluate import RECALL_IOU, Annotated, match, read_voc
from kiosk.vision.imageops import decode_image

FOLDER_LABELS = {"with_mask": "mask", "without_mask": "no_mask", "incorrect_mask": "incorrect"}
INPUT_SIZE = 64        # the default; the shipped model's own is in its metadata
MARGIN = 0.25          # run-time crop: detector box widened by 25 % per side
CONTEXT_MARGIN = 0.5   # training crops keep more context, for scale and shift jitter
CROP_RULES = 3  # part of the crop cache key: bump when the choice of faces or boxes changes
VALIDATION_BUCKETS = 5  # one group in five goes to validation
CALIBRATION_BUCKETS = 8  # one training group in eight is kept out to fit the decision rule
MIN_TRAIN_HEIGHT = 16    # smaller annotated faces carry no mask detail at all; left out of every split
GATE_MIN_HEIGHT = 32     # the gate's figures count faces from this height (as `mask-kiosk eval --min-size 32`)


@dataclass(frozen=True)
class Sample:
    """One face: a whole photo with the face's annotated box, or a one-face image (box None)."""
    path: Path
    label: str
    group: str               # same group -> same side of the split (source photo, person)
    dataset: str
    box: tuple[float, float, float, float] | None = None


def _bucket(key: str, buckets: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % buckets


def is_validation(group: str) -> bool:
    return _bucket(group, VALIDATION_BUCKETS) == 0


def is_calibration(group: str) -> bool:
    """Among training groups; an independent hash so validation membership does not bias it."""
    return not is_validation(group) and _bucket(f"calibration/{group}", CALIBRATION_BUCKETS) == 0


SCENE_SETS = ("ilc2021-scenes", "ilc2021-scenes-extra")  # one class project's whole photos, split together
SERIES_BITS = 10  # photos this close (64-bit dHash) are one series: the same person and background, several states


def dhash(image: np.ndarray) -> int:
    """64-bit difference hash: the grey image at 9x8, each pixel against its right neighbour."""
    small = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (9, 8), interpolation=cv2.INTER_AREA).astype(int)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(sum(1 << index for index, bit in enumerate(bits) if bit))


def photo_groups(paths: list[Path]) -> dict[Path, str]:
    """Each photo's split group, `ilc2021/<file name>`: its own name, or for a series of near-identical photos (one
    person against one background, with and without a mask) the first name of the series, so a series stays on
    one side of every split (the sets' MANIFEST: such series are 7-9 bits apart)."""
    hashes = np.array([dhash(load_image(path)) for path in paths], np.uint64)
    parent = list(range(len(paths)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for index in range(len(paths)):
        close = np.flatnonzero(np.bitwise_count(hashes[index + 1:] ^ hashes[index]) <= SERIES_BITS) + index + 1
        for other in close:
            parent[root(int(other))] = root(index)
    members: dict[int, list[Path]] = defaultdict(list)
    for index, path in enumerate(paths):
        members[root(index)].append(path)
    return {path: f"ilc2021/{min(series, key=lambda p: p.name).name}" for series in members.values() for path in series}


LABEL_CORRECTIONS = Path(__file__).parent / "label_corrections.csv"


def label_corrections() -> dict[tuple[str, str, tuple[float, ...]], tuple[str, str]]:
    """Annotations found wrong by looking at the photos (training/label_corrections.csv): (dataset, photo, box
    rounded to 0.1 px) -> (annotated, corrected). Each was seen among a model's errors; none was changed for
    being hard."""
    with LABEL_CORRECTIONS.open(newline="") as listing:
        return {(row["dataset"], row["photo"], tuple(round(float(row[k]), 1) for k in ("x1", "y1", "x2", "y2"))):
                (row["annotated"], row["corrected"]) for row in csv.DictReader(listing)}


@dataclass(frozen=True)
class ScenePhoto:
    folder: str          # the data set
    item: Annotated      # its faces, with the label corrections applied
    group: str           # its split group (photo_groups)


def scene_photos(datasets: Path) -> list[ScenePhoto]:
    """Every annotated photo of the scene sets, its labels corrected, with its split group."""
    items = [(folder, item) for folder in SCENE_SETS for item in read_voc(datasets / folder)]
    groups = photo_groups([item.image for _, item in items])
    corrections = label_corrections()
    photos = []
    for folder, item in items:
        labels = []
        for box, label in zip(item.boxes, item.labels):
            key = (folder, item.image.name, tuple(round(float(v), 1) for v in box))
            annotated, corrected = corrections.pop(key, (label, label))
            if annotated != label:
                raise ValueError(f"{key}: the correction is for a face annotated {annotated}, not {label}")
            labels.append(corrected)
        photos.append(ScenePhoto(folder, dataclasses.replace(item, labels=tuple(labels)), groups[item.image]))
    if corrections:
        raise ValueError(f"label corrections that match no annotated face: {sorted(corrections)}")
    return photos


def scene_samples(datasets: Path) -> list[Sample]:
    """Every annotated face of the scene sets at least MIN_TRAIN_HEIGHT tall."""
    return [Sample(photo.item.image, label, photo.group, photo.folder, tuple(float(v) for v in box))
            for photo in scene_photos(datasets) for box, label in zip(photo.item.boxes, photo.item.labels)
            if box[3] - box[1] >= MIN_TRAIN_HEIGHT]


def chandrikadeb7_group(folder: str, name: str) -> str:
    """Photos of one person or copies of one photo share a group (see the set's MANIFEST)."""
    stem = Path(name).stem
    if folder == "without_mask" and (stem.startswith("augmented_image") or stem.isdigit()):
        return "chandrikadeb7/prajnasb"  # the augmented copies are of these originals
    person = re.match(r"^\d+_\d+_([a-z]+)", stem)
    if person:
        return f"chandrikadeb7/person/{person.group(1)}"
    original = re.sub(r"[ _-]*copy[ _-]*\d*$", "", stem)
    return f"chandrikadeb7/{folder}/{original}"


def folder_samples(root: Path, dataset: str, folders: dict[str, str]) -> list[Sample]:
    """One-face images in label folders; chandrikadeb7 grouped by person or photo, others by file."""
    samples = []
    for folder, label in folders.items():
        for path in sorted((root / folder).iterdir()):
            group = chandrikadeb7_group(folder, path.name) if dataset == "chandrikadeb7" else f"{dataset}/{path.stem}"
            samples.append(Sample(path, label, group, dataset))
    return samples


def all_samples(datasets: Path) -> list[Sample]:
    """The real data: every split of it."""
    return (scene_samples(datasets)
            + folder_samples(datasets / "chandrikadeb7", "chandrikadeb7",
                             {"with_mask": "mask", "without_mask": "no_mask"}))


def synthetic_incorrect_samples(datasets: Path) -> list[Sample]:
    """maskedfacenet-synth, `incorrect` only (synthetic, CC BY-NC-SA 4.0): for training, never for validation."""
    return folder_samples(datasets / "maskedfacenet-synth", "maskedfacenet-synth", {"incorrect_mask": "incorrect"})


def validation_photos(samples: list[Sample]) -> list[Path]:
    """The scene photos of the validation split, in name order (listed beside the model for `mask-kiosk eval
    --only`)."""
    return sorted({s.path for s in samples if s.dataset in SCENE_SETS and is_validation(s.group)},
                  key=lambda path: path.name)


def gate_faces(crops: dict[str, np.ndarray]) -> np.ndarray:
    """Which kept crops count for the gate's figures: found by the detector and at least GATE_MIN_HEIGHT tall."""
    return (crops["source"][crops["index"]] == "detector") & (crops["height"] >= GATE_MIN_HEIGHT)


def face_boxes(analyzer: PhotoAnalyzer, image: np.ndarray, samples: list[Sample]
               ) -> list[tuple[np.ndarray | None, str]]:
    """The box each sample of one image is cut from, and where it came from, as the kiosk would crop it.

    Annotated faces take the detection matched to them (PASCAL-VOC greedy matching at IoU >= 0.4, as `eval`);
    faces the detector misses take their annotated box ("annotation"), so hard faces are not silently dropped.
    A one-face image takes its only detection: a photo label does not say which of several faces it is about
    (web scenes with bystanders), so those are left out ("several faces").
    """
    faces = analyzer.find_faces(image)
    if samples[0].box is None:
        if len(faces) == 1:
            return [(faces[0].box, "detector")] * len(samples)
        return [(None, "several faces" if faces else "no face")] * len(samples)
    truth = np.array([s.box for s in samples], np.float32)
    boxes = np.stack([f.box for f in faces]) if faces else np.zeros((0, 4), np.float32)
    matched = match(boxes, np.array([f.score for f in faces]), truth, RECALL_IOU)
    by_truth = {int(t): boxes[d] for d, t in enumerate(matched) if t >= 0}
    return [(by_truth[i], "detector") if i in by_truth else (truth[i], "annotation") for i in range(len(samples))]


def load_image(path: Path) -> np.ndarray:
    image = decode_image(path.read_bytes())
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    return image


def context_size(input_size: int) -> int:
    """Side of a training crop with CONTEXT_MARGIN, at the scale of an input_size crop with MARGIN."""
    return round(input_size * (1 + 2 * CONTEXT_MARGIN) / (1 + 2 * MARGIN))


def prepare_crops(samples: list[Sample], config: Config, cache: Path | None,
                  input_size: int = INPUT_SIZE) -> dict[str, np.ndarray]:
    """Crops of every sample (cached by samples and settings): `context` for training with jitter, `exact` as
    the kiosk cuts them; `index` of the samples kept, their box `source` and the face `height` in pixels."""
    settings = [CROP_RULES, input_size, MARGIN, CONTEXT_MARGIN, config.detector.model_dump(), config.photo.model_dump()]
    key = hashlib.sha256(json.dumps([f"{s.path}{s.box}" for s in samples] + settings).encode()).hexdigest()[:16]
    path = cache / f"crops-{key}.npz" if cache is not None else None
    if path is not None and path.exists():
        return dict(np.load(path))
    analyzer = load_analyzer(config, with_classifier=False)
    started = time.time()
    by_image: dict[Path, list[int]] = defaultdict(list)
    for index, sample in enumerate(samples):
        by_image[sample.path].append(index)
    context, exact, keep, sources, heights = [], [], [], [""] * len(samples), []
    for image_path, indices in by_image.items():
        image = load_image(image_path)
        for index, (box, source) in zip(indices, face_boxes(analyzer, image, [samples[i] for i in indices])):
            sources[index] = source
            if box is None:
                continue
            keep.append(index)
            face = samples[index].box or box  # the annotated height where there is one, as `eval` counts
            heights.append(float(face[3] - face[1]))
            context.append(crop_face(image, box, CONTEXT_MARGIN, context_size(input_size)))
            exact.append(crop_face(image, box, MARGIN, input_size))
    order = np.argsort(keep)  # sample order, whatever the image order
    crops = {"context": np.stack(context)[order], "exact": np.stack(exact)[order], "index": np.array(keep)[order],
             "height": np.array(heights)[order], "source": np.array(sources)}
    if path is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, **crops)
    print(f"prepared {len(keep)}/{len(samples)} crops from {len(by_image)} images in {time.time() - started:.0f} s")
    return crops
