"""Train the mask classifier: python -m training [--epochs N] [--input-size PX] [--out DIR].

Fine-tunes torchvision's ImageNet MobileNetV2 (training.model) on real face crops cut the run-time way, fits the
per-frame decision rule and the live verdict on the calibration split, and measures everything on the
validation split with the shipped IRs as the kiosk runs them. Needs requirements-train.txt (torch, onnx, nncf);
the backbone comes from requirements-backbone.txt. Writes the IRs (FP16 and INT8), their metadata, metrics.json,
validation_photos.txt and MODEL_CARD.md into models_ir/mask_classifier/.
"""
from __future__ import annotations

import argparse
import json
import pickle
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openvino as ov
import torch
import torch.nn.functional as F

from kiosk.bench.walkup import clips_of, play, report
from kiosk.config import PROJECT_ROOT, Config, load_config
from kiosk.vision.analyzer import load_analyzer
from kiosk.vision.classifier import CLASSES, METADATA_NAME
from kiosk.vision.evaluate import Annotated, evaluate
from kiosk.vision.image_input import image_limits
from kiosk.vision.models import load_classifier
from training.card import model_card
from training.dataset import (
    GATE_MIN_HEIGHT,
    MARGIN,
    all_samples,
    gate_faces,
    is_calibration,
    is_validation,
    prepare_crops,
    scene_photos,
    synthetic_incorrect_samples,
    validation_photos,
)
from training.decision_rule import fit_gate_offsets
from training.metrics import GATE_TARGETS, WALKUP_TARGETS, classification_report, gate_outcomes
from training.model import MaskEnsemble, MaskNet, augment, backbone_weights, export, mean_probabilities, to_tensor
from training.quantize import quantize
from training.verdict_fit import fit_verdict, summarise

OUT_DIR = PROJECT_ROOT / "models_ir" / "mask_classifier"
VALIDATION_PHOTOS = "validation_photos.txt"  # the held-out scene photos, for `mask-kiosk eval --only`


def train_member(name: str, weights: dict[str, torch.Tensor], train_x: torch.Tensor, train_y: torch.Tensor,
                 class_weights: torch.Tensor, calibration: tuple[np.ndarray, np.ndarray], args: argparse.Namespace,
                 generator: torch.Generator, started: float) -> MaskNet:
    """One network from the ImageNet weights, every layer trained (the backbone at a lower rate); prints its loss
    and calibration figures per epoch (validation is not looked at)."""
    model = MaskNet(weights)
    optimiser = torch.optim.AdamW([{"params": model.features.parameters(), "lr": args.lr / 5},
                                   {"params": model.classifier.parameters(), "lr": args.lr}], weight_decay=1e-4)
    steps = args.epochs * ((len(train_y) + args.batch - 1) // args.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=[args.lr / 5, args.lr], total_steps=steps,
                                                   pct_start=0.15)
    cal_crops, cal_y = calibration
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(train_y), generator=generator)
        total = 0.0
        for start in range(0, len(order), args.batch):
            chosen = order[start:start + args.batch]
            logits = model.logits(augment(train_x[chosen], train_y[chosen], generator, args.input_size))
            loss = F.cross_entropy(logits, train_y[chosen], weight=class_weights, label_smoothing=0.05)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(chosen)
        model.eval()
        with torch.no_grad():
            predicted = mean_probabilities([model], torch.from_numpy(cal_crops).float(), args.mirror).argmax(1)
        figures = classification_report(cal_y, predicted.numpy(), CLASSES)
        recalls = " ".join(f"{c} {figures['recall'][c]:.3f}" for c in CLASSES)
        print(f"{name} epoch {epoch:2d}  loss {total / len(order):.4f}  calibration balanced "
              f"{figures['balanced_accuracy']:.4f}  recall: {recalls}  [{time.time() - started:.0f} s]", flush=True)
    return model


def frame_report(config: Config, crops: np.ndarray, truth: np.ndarray) -> dict:
    """The shipped IR as the kiosk runs it (kiosk.vision.models.load_classifier): per-frame figures."""
    probabilities = load_classifier(config).probabilities(crops)
    figures = classification_report(truth, probabilities.argmax(1), CLASSES)
    return {"report": figures, "gate": gate_outcomes(figures, CLASSES)}


def scene_items(datasets: Path, chosen: Callable[[str], bool]) -> list[Annotated]:
    """The scene photos (labels corrected) whose split group `chosen` accepts."""
    return [photo.item for photo in scene_photos(datasets) if chosen(photo.group)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--epochs", type=int, default=14, help="per network")
    parser.add_argument("--members", type=int, default=1, help="networks averaged in the IR (seeds seed, seed + 1)")
    parser.add_argument("--input-size", type=int, default=112, help="crop side in pixels")
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=True,
                        help="the IR averages each crop with its mirror image")
    parser.add_argument("--batch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=2e-3, help="the head's peak rate; the backbone's is a fifth")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weight-power", type=float, default=0.75,
                        help="class weight = (1 / frequency) ** power; 1 over-predicts the rare class")
    parser.add_argument("--synthetic-incorrect", action=argparse.BooleanOptionalAction, default=False,
                        help="add maskedfacenet-synth's incorrect faces to training (CC BY-NC-SA: non-commercial)")
    parser.add_argument("--cache", type=Path, default=PROJECT_ROOT / ".cache" / "mask-train")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--default-why", default="Chosen on the validation figures below and the classify time "
                        "(`mask-kiosk bench classifier`).", help="the card's sentence on the default precision")
    parser.add_argument("--card-only", action="store_true", help="rewrite MODEL_CARD.md from metrics.json, no training")
    parser.add_argument("--members-from", type=Path, help="the networks a run of this script saved (members.pt in "
                        "--cache), instead of training them again; networks beyond them up to --members are trained "
                        "(seed + index, as a fresh run would), the first --members are used")
    args = parser.parse_args()
    if args.card_only:
        summary = json.loads((args.out / "metrics.json").read_text())
        (args.out / "MODEL_CARD.md").write_text(model_card(summary))
        return

    started = time.time()
    torch.manual_seed(args.seed)
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

    weights = backbone_weights(args.cache)
    class_weights = torch.tensor((counts.sum() / (len(CLASSES) * counts)) ** args.weight_power, dtype=torch.float32)
    members = []
    if args.members_from:
        for state in torch.load(args.members_from):
            members.append(MaskNet())
            members[-1].load_state_dict(state)
            members[-1].eval()
    trained = len(members)
    for index in range(trained, args.members):
        torch.manual_seed(args.seed + index)
        generator = torch.Generator().manual_seed(args.seed + index)
        members.append(train_member(f"network {index + 1}/{args.members}", weights, train_x, train_y, class_weights,
                                    (cal_crops, cal_y), args, generator, started))
    members = members[:args.members]
    if len(members) > trained:
        torch.save([member.state_dict() for member in members], args.cache / "members.pt")  # for --members-from
    with torch.no_grad():
        cal_probabilities = mean_probabilities(members, torch.from_numpy(cal_crops).float(), args.mirror).numpy()
    mask, no_mask, incorrect = (CLASSES.index(c) for c in ("mask", "no_mask", "incorrect"))
    frame_targets = {key: GATE_TARGETS[key] for key in ("bare_stopped", "incorrect_stopped")}
    offsets = fit_gate_offsets(cal_probabilities, cal_y, mask, {no_mask: frame_targets["bare_stopped"],
                                                                 incorrect: frame_targets["incorrect_stopped"]})
    model = MaskEnsemble(members, offsets, args.mirror)
    print("decision offsets " + " ".join(f"{c} {o:+.3f}" for c, o in zip(CLASSES, offsets)), flush=True)
    xml = export(model, args.out, args.cache, args.input_size)
    metadata = {"classes": list(CLASSES), "input_size": args.input_size, "margin": MARGIN, "mirror": args.mirror,
                "input": "uint8 BGR NHWC crops (crop_face), dynamic batch", "output": "class probabilities"}
    (args.out / METADATA_NAME).write_text(json.dumps(metadata, indent=2) + "\n")
    int8_xml = quantize(xml, cal_crops)
    shipped = config.replaced(runtime={"models_dir": str(args.out.parent)})
    for detector in config.models_dir().glob("*"):  # a trial elsewhere (--out): the installed detectors beside it
        if detector.is_file() and detector.parent != args.out.parent and not (args.out.parent / detector.name).exists():
            (args.out.parent / detector.name).symlink_to(detector)

    # the live verdict: calibration photos as walk-ups through the live pipeline, with the default precision
    calibration_clips = clips_of(scene_items(args.datasets, is_calibration), shipped, GATE_MIN_HEIGHT)
    walkups = play(calibration_clips, shipped)
    with (args.cache / "calibration-walkups.pickle").open("wb") as kept_walkups:  # to study other rules later
        pickle.dump(walkups, kept_walkups)
    rule, verdict_calibration = fit_verdict(walkups, config.tracker.confirm_frames, WALKUP_TARGETS["masks_passed"])
    metadata["verdict"] = rule.to_json()
    (args.out / METADATA_NAME).write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"verdict {rule} on calibration walk-ups: {verdict_calibration}", flush=True)

    validation, all_sizes, per_dataset, eval_photos = {}, {}, {}, {}
    validation_items = scene_items(args.datasets, is_validation)
    detected = is_val & (crops["source"][crops["index"]] == "detector")
    val_kept = [s for s, chosen in zip(kept, is_val & gate) if chosen]
    for precision in ("fp16", "int8"):
        run = shipped.replaced(classifier={"precision": precision})
        validation[precision] = frame_report(run, val_crops, val_y)
        all_sizes[precision] = frame_report(run, crops["exact"][detected], labels[detected])["gate"]
        per_dataset[precision] = {dataset: frame_report(run, val_crops[chosen], val_y[chosen])["gate"]
                                  for dataset in sorted({s.dataset for s in val_kept})
                                  for chosen in [np.array([s.dataset == dataset for s in val_kept])]}
        eval_photos[precision] = evaluate(load_analyzer(run), validation_items, GATE_MIN_HEIGHT, image_limits(run))
        print(f"{precision} on validation gate faces: {validation[precision]['gate']}", flush=True)
    validation_clips = clips_of(validation_items, shipped, GATE_MIN_HEIGHT)
    walkup_started = time.time()
    validation_walkups = report(play(validation_clips, shipped)).to_json()
    validation_walkups["clips"], validation_walkups["seconds"] = len(validation_clips), time.time() - walkup_started
    print(f"validation walk-ups ({shipped.classifier.precision}): {validation_walkups}", flush=True)

    summary = {
        "validation": validation, "all_sizes": all_sizes, "per_dataset": per_dataset,
        "eval_validation_photos": eval_photos,
        "calibration": {"probabilities": classification_report(cal_y, cal_probabilities.argmax(1), CLASSES)},
        "frame_targets": frame_targets, "offsets": dict(zip(CLASSES, offsets.round(4).tolist())),
        "verdict": rule.to_json(), "verdict_calibration": verdict_calibration,
        "calibration_walkups": summarise(walkups), "validation_walkups": validation_walkups,
        "default_precision": shipped.classifier.precision,
        "default_why": args.default_why,
        "synthetic_incorrect": synthetic,
        "train_counts": dict(zip(CLASSES, counts.tolist())),
        "validation_counts": dict(zip(CLASSES, np.bincount(val_y, minlength=3).tolist())),
        "calibration_counts": dict(zip(CLASSES, np.bincount(cal_y, minlength=3).tolist())),
        "crop_sources": {k: int((crops["source"] == k).sum()) for k in ("detector", "annotation", "no face",
                                                                          "several faces")},
        "epochs": args.epochs, "members": args.members, "input_size": args.input_size, "mirror": args.mirror,
        "batch": args.batch, "lr": args.lr, "seed": args.seed, "weight_power": args.weight_power,
        "parameters": sum(p.numel() for p in model.parameters()),
        "total_seconds": round(time.time() - started),
        "members_from": str(args.members_from or ""), "members_loaded": trained,
        "torch": torch.__version__, "openvino": ov.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "ir_size_bytes": xml.stat().st_size + xml.with_suffix(".bin").stat().st_size,
        "int8_size_bytes": int8_xml.stat().st_size + int8_xml.with_suffix(".bin").stat().st_size,
    }
    (args.out / "metrics.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    (args.out / VALIDATION_PHOTOS).write_text("".join(f"{path.name}\n" for path in validation_photos(samples)))
    (args.out / "MODEL_CARD.md").write_text(model_card(summary))
    print(f"done in {time.time() - started:.0f} s -> {xml}")
