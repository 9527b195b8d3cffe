"""Training and validation samples from ../shared/datasets, cropped the way the kiosk crops faces.

No torch here: the evaluation test uses the same split and crops.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.analyzer import PhotoAnalyzer, load_analyzer
from kiosk.config import load_config
from kiosk.imageops import decode_image, iou
from kiosk.mask_classifier import crop_face

FOLDER_LABELS = {"with_mask": "mask", "without_mask": "no_mask", "incorrect_mask": "incorrect"}
INPUT_SIZE = 64
MARGIN = 0.25          # run-time crop: detector box widened by 25 % per side
CONTEXT_MARGIN = 0.5   # training crops keep more context, for scale and shift jitter
CONTEXT_SIZE = round(INPUT_SIZE * (1 + 2 * CONTEXT_MARGIN) / (1 + 2 * MARGIN))
CROP_RULES = 2  # part of the crop cache key: bump when face_box's choice of face changes
VALIDATION_BUCKETS = 5  # one group in five goes to validation
CALIBRATION_BUCKETS = 8  # one training group in eight is kept out to fit the decision rule


@dataclass(frozen=True)
class Sample:
    path: Path
    label: str
    group: str               # same group -> same side of the split (source photo, person)
    dataset: str
    tight_box: tuple[float, float, float, float] | None = None  # annotated face, where known


def _bucket(key: str, buckets: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % buckets


def is_validation(group: str) -> bool:
    return _bucket(group, VALIDATION_BUCKETS) == 0


def is_calibration(group: str) -> bool:
    """Among training groups; an independent hash so validation membership does not bias it."""
    return not is_validation(group) and _bucket(f"calibration/{group}", CALIBRATION_BUCKETS) == 0


def ilc2021_samples(root: Path) -> list[Sample]:
    samples = []
    with (root / "crops.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            box = tuple(float(row[f"box_in_crop_{k}"]) for k in ("xmin", "ymin", "xmax", "ymax"))
            samples.append(Sample(root / row["crop"], FOLDER_LABELS[row["label"]],
                                  f"ilc2021/{row['source_image']}", "ilc2021", box))
    return samples


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


def chandrikadeb7_samples(root: Path) -> list[Sample]:
    samples = []
    for folder in ("with_mask", "without_mask"):
        for path in sorted((root / folder).iterdir()):
            samples.append(Sample(path, FOLDER_LABELS[folder], chandrikadeb7_group(folder, path.name), "chandrikadeb7"))
    return samples


def all_samples(datasets: Path) -> list[Sample]:
    return ilc2021_samples(datasets / "ilc2021-facecrops") + chandrikadeb7_samples(datasets / "chandrikadeb7")


def split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    train = [s for s in samples if not is_validation(s.group)]
    validation = [s for s in samples if is_validation(s.group)]
    return train, validation


def face_box(analyzer: PhotoAnalyzer, image: np.ndarray, sample: Sample) -> tuple[np.ndarray | None, str]:
    """The detector's box for the sample's face, as the kiosk would crop it.

    With an annotated box, the detection overlapping it best (IoU >= 0.3) is
    taken; where the detector misses, the annotated box is used instead, so
    hard faces are not silently dropped. Without one, the only face: a photo
    label does not say which of several faces it is about (web scenes with
    bystanders), so those are left out.
    """
    faces = analyzer.analyse(image)
    if sample.tight_box is not None:
        tight = np.array(sample.tight_box)
        if faces:
            overlaps = iou(tight, np.stack([f.box for f in faces]))
            if overlaps.max() >= 0.3:
                return faces[int(overlaps.argmax())].box, "detector"
        return tight, "annotation"
    if len(faces) > 1:
        return None, "several faces"
    if faces:
        return faces[0].box, "detector"
    return None, "no face"


def load_image(sample: Sample) -> np.ndarray:
    image = decode_image(sample.path.read_bytes())
    if image is None:
        raise ValueError(f"{sample.path}: not a readable image")
    return image


def prepare_crops(samples: list[Sample], cache: Path) -> dict[str, np.ndarray]:
    """Detector-box crops of every sample (cached): context crops for training, run-time crops for the others."""
    config = load_config()
    analyzer = load_analyzer(config, with_classifier=False)
    settings = [CROP_RULES, INPUT_SIZE, MARGIN, CONTEXT_SIZE, config["detector"], config["photo"]]
    key = hashlib.sha256(json.dumps([str(s.path) for s in samples] + settings).encode()).hexdigest()[:16]
    path = cache / f"crops-{key}.npz"
    if path.exists():
        return dict(np.load(path))
    started = time.time()
    context, exact, keep, sources = [], [], [], []
    for index, sample in enumerate(samples):
        image = load_image(sample)
        box, source = face_box(analyzer, image, sample)
        sources.append(source)
        if box is None:
            continue
        keep.append(index)
        context.append(crop_face(image, box, CONTEXT_MARGIN, CONTEXT_SIZE))
        exact.append(crop_face(image, box, MARGIN, INPUT_SIZE))
    crops = {"context": np.stack(context), "exact": np.stack(exact), "index": np.array(keep),
             "source": np.array(sources)}
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **crops)
    print(f"prepared {len(keep)}/{len(samples)} crops in {time.time() - started:.0f} s -> {path}")
    return crops
