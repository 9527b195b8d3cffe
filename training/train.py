"""Train the mask classifier from scratch: python -m training [--epochs N].

Needs the `train` extra (torch, onnx, nncf); writes ONNX, then OpenVINO IR (FP16) and its
INT8 variant, metadata and MODEL_CARD.md into models_ir/mask_classifier/.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import openvino as ov
import torch
import torch.nn.functional as F

from kiosk.config import PROJECT_ROOT, Config, load_config
from kiosk.vision.analyzer import load_analyzer
from kiosk.vision.classifier import CLASSES, METADATA_NAME, MaskClassifier
from kiosk.vision.evaluate import evaluate, read_voc
from kiosk.vision.image_input import image_limits
from kiosk.vision.runtime import core
from training.card import model_card
from training.dataset import (
    GATE_MIN_HEIGHT,
    INPUT_SIZE,
    MARGIN,
    all_samples,
    gate_faces,
    is_calibration,
    is_validation,
    prepare_crops,
    synthetic_incorrect_samples,
    validation_photos,
)
from training.decision_rule import fit_gate_offsets
from training.metrics import classification_report, gate_outcomes
from training.model import MaskEnsemble, MaskNet, augment, export, mean_probabilities, to_tensor
from training.quantize import quantize

OUT_DIR = PROJECT_ROOT / "models_ir" / "mask_classifier"
VALIDATION_PHOTOS = "validation_photos.txt"  # the held-out ilc2021-scenes photos, for `mask-kiosk eval --only`
# Calibration split only: the network's output before export, each with the decision rule fitted at the default
# targets. `python -m training [--no-synthetic-incorrect] [--input-size 96] [--members 1] --out DIR` repeats them.
RECIPE_CHOICES = [
    {"recipe": "64 px, real data only, one network (`--no-synthetic-incorrect --members 1`)", "bare_stopped": 0.9903,
     "incorrect_stopped": 0.9362, "masks_passed": 0.9622, "balanced_accuracy": 0.8894},
    {"recipe": "64 px, real data + maskedfacenet-synth incorrect, one network (`--members 1`)", "bare_stopped": 0.9903,
     "incorrect_stopped": 0.9149, "masks_passed": 0.9680, "balanced_accuracy": 0.8822},
    {"recipe": "the same, two networks averaged (seeds 7 and 8; shipped)", "bare_stopped": 0.9951,
     "incorrect_stopped": 0.9149, "masks_passed": 0.9709, "balanced_accuracy": 0.8967},
    {"recipe": "96 px, real + synthetic incorrect, one network (`--input-size 96 --members 1`; 27 min of training)",
     "bare_stopped": 0.9903,
     "incorrect_stopped": 0.9574, "masks_passed": 0.9535, "balanced_accuracy": 0.8826},
]

def train_member(name: str, train_x: torch.Tensor, train_y: torch.Tensor, class_weights: torch.Tensor,
                 calibration: tuple[np.ndarray, np.ndarray], args: argparse.Namespace, generator: torch.Generator,
                 started: float) -> MaskNet:
    """One member from scratch; prints its loss and calibration figures per epoch (validation is not looked at)."""
    model = MaskNet()
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=5e-4)
    steps = args.epochs * ((len(train_y) + args.batch - 1) // args.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    cal_crops, cal_y = calibration
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(train_y), generator=generator)
        total = 0.0
        for start in range(0, len(order), args.batch):
            chosen = order[start:start + args.batch]
            logits = model.logits(augment(train_x[chosen], generator, args.input_size))
            loss = F.cross_entropy(logits, train_y[chosen], weight=class_weights, label_smoothing=0.05)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(chosen)
        model.eval()
        with torch.no_grad():
            predicted = mean_probabilities([model], torch.from_numpy(cal_crops).float()).argmax(1).numpy()
        report = classification_report(cal_y, predicted, CLASSES)
        recalls = " ".join(f"{c} {report['recall'][c]:.3f}" for c in CLASSES)
        print(f"{name} epoch {epoch:2d}  loss {total / len(order):.4f}  calibration acc {report['accuracy']:.4f}  "
              f"balanced {report['balanced_accuracy']:.4f}  recall: {recalls}  [{time.time() - started:.0f} s]",
              flush=True)
    return model


def ir_report(classifier: MaskClassifier, crops: np.ndarray, truth: np.ndarray) -> dict:
    report = classification_report(truth, classifier.probabilities(crops).argmax(1), CLASSES)
    return {"report": report, "gate": gate_outcomes(report, CLASSES)}


def eval_validation_photos(config: Config, datasets: Path, precision: str) -> dict:
    """`mask-kiosk eval ... --min-size 32 --only validation_photos.txt` with the classifier just written."""
    items = validation_photos(read_voc(datasets / "ilc2021-scenes"))
    analyzer = load_analyzer(config.replaced(classifier={"precision": precision}))
    return evaluate(analyzer, items, GATE_MIN_HEIGHT, image_limits(config))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--epochs", type=int, default=40, help="per network")
    parser.add_argument("--members", type=int, default=2, help="networks averaged in the shipped IR (seeds seed, "
                                                               "seed + 1, ...)")
    parser.add_argument("--input-size", type=int, default=INPUT_SIZE, help="crop side in pixels")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weight-power", type=float, default=0.75,
                        help="class weight = (1 / frequency) ** power; 1 over-predicts the rare class")
    parser.add_argument("--bare-stopped", type=float, default=0.99,
                        help="the decision rule raises no_mask until this share of calibration bare faces is stopped")
    parser.add_argument("--incorrect-stopped", type=float, default=0.85,
                        help="then incorrect, until this share of calibration wrongly worn masks is stopped")
    parser.add_argument("--synthetic-incorrect", action=argparse.BooleanOptionalAction, default=True,
                        help="add maskedfacenet-synth's incorrect faces to training (CC BY-NC-SA: non-commercial)")
    parser.add_argument("--cache", type=Path, default=PROJECT_ROOT / ".cache" / "mask-train")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--card-only", action="store_true", help="rewrite MODEL_CARD.md from metrics.json, no training")
    args = parser.parse_args()
    if args.card_only:
        summary = json.loads((args.out / "metrics.json").read_text())
        (args.out / "MODEL_CARD.md").write_text(model_card(summary))
        return

    started = time.time()
    torch.use_deterministic_algorithms(True, warn_only=True)
    config = load_config()

    samples = all_samples(args.datasets)
    crops = prepare_crops(samples, config, args.cache, args.input_size)
    kept = [samples[i] for i in crops["index"]]
    is_val = np.array([is_validation(s.group) for s in kept])
    is_cal = np.array([is_calibration(s.group) for s in kept])
    is_train = ~is_val & ~is_cal
    gate = gate_faces(crops)
    labels = np.array([CLASSES.index(s.label) for s in kept])

    train_crops, train_labels = crops["context"][is_train], labels[is_train]
    synthetic = 0
    if args.synthetic_incorrect:
        extra = prepare_crops(synthetic_incorrect_samples(args.datasets), config, args.cache, args.input_size)
        synthetic = len(extra["index"])
        train_crops = np.concatenate([train_crops, extra["context"]])
        train_labels = np.concatenate([train_labels, np.full(synthetic, CLASSES.index("incorrect"))])
    train_x, train_y = to_tensor(train_crops), torch.from_numpy(train_labels)
    cal_crops, cal_y = crops["exact"][is_cal & gate], labels[is_cal & gate]
    val_crops, val_y = crops["exact"][is_val & gate], labels[is_val & gate]
    counts = np.bincount(train_labels, minlength=len(CLASSES))
    print(f"train {dict(zip(CLASSES, counts.tolist()))}; calibration {len(cal_y)}; validation {len(val_y)} gate faces")

    class_weights = torch.tensor((counts.sum() / (len(CLASSES) * counts)) ** args.weight_power, dtype=torch.float32)
    members = []
    for index in range(args.members):
        torch.manual_seed(args.seed + index)
        generator = torch.Generator().manual_seed(args.seed + index)
        members.append(train_member(f"network {index + 1}/{args.members}", train_x, train_y, class_weights,
                                    (cal_crops, cal_y), args, generator, started))
    with torch.no_grad():
        cal_probabilities = mean_probabilities(members, torch.from_numpy(cal_crops).float()).numpy()
    mask, no_mask, incorrect = (CLASSES.index(c) for c in ("mask", "no_mask", "incorrect"))
    targets = {"bare_stopped": args.bare_stopped, "incorrect_stopped": args.incorrect_stopped}
    offsets = fit_gate_offsets(cal_probabilities, cal_y, mask, {no_mask: args.bare_stopped,
                                                                 incorrect: args.incorrect_stopped})
    model = MaskEnsemble(members, offsets)
    print("decision offsets " + " ".join(f"{c} {o:+.3f}" for c, o in zip(CLASSES, offsets)))
    xml = export(model, args.out, args.cache, args.input_size)
    metadata = {"classes": list(CLASSES), "input_size": args.input_size, "margin": MARGIN,
                "input": "uint8 BGR NHWC crops (crop_face), dynamic batch", "output": "class probabilities"}
    (args.out / METADATA_NAME).write_text(json.dumps(metadata, indent=2) + "\n")

    # the card reports the shipped IRs, run by OpenVINO
    def ir_classifier(path: Path) -> MaskClassifier:
        return MaskClassifier(core().compile_model(path, "CPU"), metadata)

    int8_xml = quantize(xml, cal_crops)
    all_sizes = is_val & (crops["source"][crops["index"]] == "detector")
    validation, per_dataset = {}, {}
    for name, path in (("fp16", xml), ("int8", int8_xml)):
        classifier = ir_classifier(path)
        validation[name] = ir_report(classifier, val_crops, val_y)
        everything = ir_report(classifier, crops["exact"][all_sizes], labels[all_sizes])
        validation[name]["all_sizes_report"] = everything["report"]
        validation[name]["all_sizes_gate"] = everything["gate"]
        print(f"{name} on validation gate faces: {validation[name]['gate']}")
    fp16 = ir_classifier(xml)
    val_kept = [s for s, chosen in zip(kept, is_val & gate) if chosen]
    for dataset in sorted({s.dataset for s in val_kept}):
        chosen = np.array([s.dataset == dataset for s in val_kept])
        per_dataset[dataset] = ir_report(fp16, val_crops[chosen], val_y[chosen])
    eval_photos = {name: eval_validation_photos(config.replaced(runtime={"models_dir": str(args.out.parent)}),
                                                args.datasets, name) for name in ("fp16", "int8")}
    summary = {
        "validation": validation,
        "calibration": ir_report(fp16, cal_crops, cal_y),
        "calibration_targets": targets,
        "eval_validation_photos": eval_photos,
        "per_dataset": per_dataset,
        "choices": RECIPE_CHOICES,
        "int8_size_bytes": int8_xml.stat().st_size + int8_xml.with_suffix(".bin").stat().st_size,
        "offsets": dict(zip(CLASSES, offsets.round(4).tolist())),
        "synthetic_incorrect": synthetic,
        "train_counts": dict(zip(CLASSES, counts.tolist())),
        "validation_counts": dict(zip(CLASSES, np.bincount(val_y, minlength=3).tolist())),
        "calibration_counts": dict(zip(CLASSES, np.bincount(cal_y, minlength=3).tolist())),
        "crop_sources": {k: int((crops["source"] == k).sum()) for k in ("detector", "annotation", "no face",
                                                                          "several faces")},
        "epochs": args.epochs, "members": args.members, "input_size": args.input_size, "batch": args.batch,
        "seed": args.seed, "weight_power": args.weight_power,
        "parameters": sum(p.numel() for p in model.parameters()),
        "total_seconds": round(time.time() - started), "torch": torch.__version__, "openvino": ov.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "ir_size_bytes": xml.stat().st_size + xml.with_suffix(".bin").stat().st_size,
    }
    (args.out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    held_out = validation_photos(read_voc(args.datasets / "ilc2021-scenes"))
    (args.out / VALIDATION_PHOTOS).write_text("".join(f"{item.image.name}\n" for item in held_out))
    (args.out / "MODEL_CARD.md").write_text(model_card(summary))
    print(f"done in {time.time() - started:.0f} s -> {xml}")


if __name__ == "__main__":
    main()
