"""Contact sheets of the classifier's errors on a split, to look at every one: python -m training.errors [--split
validation|calibration] [--models DIR] [--out FOLDER].

One sheet per kind of error (truth -> label), each crop as the kiosk cuts it, captioned with its number, the
probabilities and the photo. The numbers index errors.csv beside the sheets, where the kinds found by looking are
written down (training/error_kinds.csv keeps them for the model card).
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from kiosk.config import PROJECT_ROOT, load_config
from kiosk.vision.classifier import CLASSES
from kiosk.vision.models import load_classifier, load_metadata
from training.dataset import all_samples, gate_faces, is_calibration, is_validation, prepare_crops

TILE = 128
COLUMNS = 10


def sheet(crops: list[np.ndarray], captions: list[str]) -> np.ndarray:
    rows = (len(crops) + COLUMNS - 1) // COLUMNS
    canvas = np.full((rows * (TILE + 28), COLUMNS * TILE, 3), 255, np.uint8)
    for index, (crop, caption) in enumerate(zip(crops, captions)):
        row, column = divmod(index, COLUMNS)
        y, x = row * (TILE + 28), column * TILE
        canvas[y:y + TILE, x:x + TILE] = cv2.resize(crop, (TILE, TILE), interpolation=cv2.INTER_LINEAR)
        for line, text in enumerate(caption.split("\n")[:2]):
            cv2.putText(canvas, text, (x + 2, y + TILE + 11 + 12 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.32, (0, 0, 0), 1)
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--split", choices=["validation", "calibration"], default="validation")
    parser.add_argument("--models", type=Path, help="models folder (default: the installed one)")
    parser.add_argument("--cache", type=Path, default=PROJECT_ROOT / ".cache" / "mask-train")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / ".cache" / "errors")
    args = parser.parse_args()
    config = load_config()
    if args.models:
        config = config.replaced(runtime={"models_dir": str(args.models)})
    size = int(load_metadata(config.models_dir() / "mask_classifier")["input_size"])
    samples = all_samples(args.datasets)
    crops = prepare_crops(samples, config, args.cache, size)
    kept = [samples[i] for i in crops["index"]]
    chosen = np.array([(is_validation if args.split == "validation" else is_calibration)(s.group) for s in kept])
    chosen &= gate_faces(crops)
    truth = np.array([CLASSES.index(s.label) for s in kept])[chosen]
    faces = crops["exact"][chosen]
    probabilities = load_classifier(config).probabilities(faces)
    predicted = probabilities.argmax(1)
    who = [s for s, c in zip(kept, chosen) if c]
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "errors.csv").open("w", newline="") as listing:
        writer = csv.writer(listing)
        writer.writerow(["number", "truth", "predicted", "p_mask", "p_no_mask", "p_incorrect", "dataset", "photo",
                         "box"])
        number = 0
        for t in range(len(CLASSES)):
            for p in range(len(CLASSES)):
                wrong = np.flatnonzero((truth == t) & (predicted == p)) if t != p else []
                if not len(wrong):
                    continue
                captions = []
                for index in wrong:
                    number += 1
                    s = who[index]
                    writer.writerow([number, CLASSES[t], CLASSES[p], *np.round(probabilities[index], 3), s.dataset,
                                     s.path.name, s.box])
                    captions.append(f"{number} {probabilities[index][p]:.2f}\n{s.path.stem[:14]}")
                cv2.imwrite(str(args.out / f"{CLASSES[t]}-as-{CLASSES[p]}.png"),
                            sheet([faces[i] for i in wrong], captions))
                print(f"{CLASSES[t]} as {CLASSES[p]}: {len(wrong)}")


if __name__ == "__main__":
    main()
