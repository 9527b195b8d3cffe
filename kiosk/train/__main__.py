"""Train the mask classifier from scratch: python -m kiosk.train [--epochs N].

Needs the `train` extra (torch, onnx); writes ONNX, then OpenVINO IR (FP16),
metadata and MODEL_CARD.md into models_ir/mask_classifier/.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import time
from pathlib import Path

import numpy as np
import openvino as ov
import torch
import torch.nn.functional as F
from torch import nn

from kiosk.analyzer import load_analyzer
from kiosk.config import PROJECT_ROOT, load_config
from kiosk.mask_classifier import CLASSES, METADATA_NAME, MaskClassifier, crop_face
from kiosk.train.dataset import Sample, all_samples, face_box, load_image, split
from kiosk.train.metrics import classification_report, format_report

INPUT_SIZE = 64
MARGIN = 0.25          # run-time crop: detector box widened by 25 % per side
CONTEXT_MARGIN = 0.5   # training crops keep more context, for scale and shift jitter
CONTEXT_SIZE = round(INPUT_SIZE * (1 + 2 * CONTEXT_MARGIN) / (1 + 2 * MARGIN))
OUT_DIR = PROJECT_ROOT / "models_ir" / "mask_classifier"


class MaskNet(nn.Module):
    """Compact CNN; takes uint8-valued BGR NHWC like the kiosk's crops and returns probabilities."""

    def __init__(self, classes: int = len(CLASSES)):
        super().__init__()

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.features = nn.Sequential(
            block(3, 24, 2), block(24, 32, 1),
            block(32, 64, 2), block(64, 64, 1),
            block(64, 128, 2), block(128, 128, 1),
            block(128, 192, 2), block(192, 192, 1),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(192, classes))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """x: float NCHW scaled to [-1, 1]."""
        return self.head(self.features(x).mean(dim=(2, 3)))

    def forward(self, bgr_nhwc: torch.Tensor) -> torch.Tensor:
        """Probabilities averaged over the crop and its mirror image (faces are left-right symmetric)."""
        x = bgr_nhwc.permute(0, 3, 1, 2) / 127.5 - 1.0
        return (torch.softmax(self.logits(x), dim=1) + torch.softmax(self.logits(x.flip(3)), dim=1)) / 2


def prepare_crops(samples: list[Sample], cache: Path) -> dict[str, np.ndarray]:
    """Detector-box crops of every sample (cached): context crops for training, run-time crops for validation."""
    config = load_config()
    analyzer = load_analyzer(config, with_classifier=False)
    key = hashlib.sha256(json.dumps([str(s.path) for s in samples] + [
        INPUT_SIZE, MARGIN, CONTEXT_SIZE, config["detector"]["variant"], config["photo"]]).encode()).hexdigest()[:16]
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


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Context crops (N, C, H, W) in [-1, 1] -> jittered INPUT_SIZE crops: shift, scale, rotation, flip,
    colour, blur from low resolution, noise."""
    n = batch.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.rand(n, generator=generator) * (high - low) + low

    zoom = (1 + 2 * MARGIN) / (1 + 2 * CONTEXT_MARGIN) * uniform(0.85, 1.15)
    angle = uniform(-0.2, 0.2)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = zoom * torch.cos(angle) * flip
    theta[:, 0, 1] = -zoom * torch.sin(angle)
    theta[:, 1, 0] = zoom * torch.sin(angle) * flip
    theta[:, 1, 1] = zoom * torch.cos(angle)
    theta[:, 0, 2] = uniform(-0.08, 0.08)
    theta[:, 1, 2] = uniform(-0.08, 0.08)
    grid = F.affine_grid(theta, (n, 3, INPUT_SIZE, INPUT_SIZE), align_corners=False)
    out = F.grid_sample(batch, grid, align_corners=False, padding_mode="zeros")
    low_res = torch.rand(n, generator=generator) < 0.3
    if low_res.any():
        side = int(torch.randint(14, 40, (1,), generator=generator))
        small = F.interpolate(out[low_res], size=(side, side), mode="area")
        out[low_res] = F.interpolate(small, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    grey = torch.rand(n, generator=generator) < 0.1
    out[grey] = out[grey].mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    contrast = uniform(0.7, 1.3).view(n, 1, 1, 1)
    brightness = uniform(-0.25, 0.25).view(n, 1, 1, 1)
    channel = 1 + (torch.rand(n, 3, 1, 1, generator=generator) - 0.5) * 0.2
    out = (out * contrast * channel + brightness) + torch.randn(out.shape, generator=generator) * 0.03
    return out.clamp(-1, 1)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def export(model: MaskNet, out_dir: Path, work_dir: Path) -> Path:
    """ONNX first (kept in work_dir), then the shipped OpenVINO IR FP16 taking uint8 BGR NHWC, dynamic batch."""
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = work_dir / "mask_classifier.onnx"
    example = torch.zeros(1, INPUT_SIZE, INPUT_SIZE, 3)
    torch.onnx.export(model.eval(), (example,), onnx_path, input_names=["bgr_crops"], output_names=["probabilities"],
                      dynamic_axes={"bgr_crops": {0: "batch"}, "probabilities": {0: "batch"}}, dynamo=False)
    ov_model = ov.convert_model(onnx_path)
    ppp = ov.preprocess.PrePostProcessor(ov_model)
    ppp.input().tensor().set_element_type(ov.Type.u8)
    ov_model = ppp.build()
    xml = out_dir / "mask_classifier.xml"
    ov.save_model(ov_model, xml, compress_to_fp16=True)
    return xml


def targets(report: dict) -> str:
    """The acceptance targets, and the gate's view: a bare face is stopped whether it is called no_mask or incorrect."""
    confusion = report["confusion"]
    no_mask = CLASSES.index("no_mask")
    stopped = (confusion[no_mask][no_mask] + confusion[no_mask][CLASSES.index("incorrect")]) / sum(confusion[no_mask])
    lines = [
        f"- balanced accuracy >= 0.90: {report['balanced_accuracy']:.4f}, "
        f"{'met' if report['balanced_accuracy'] >= 0.90 else 'NOT met'}",
        f"- no_mask recall >= 0.95: {report['recall']['no_mask']:.4f}, "
        f"{'met' if report['recall']['no_mask'] >= 0.95 else 'NOT met'}",
        f"- bare faces the gate stops (called no_mask or incorrect): {stopped:.4f}",
    ]
    return "\n".join(lines)


def model_card(summary: dict) -> str:
    report = summary["ir_validation"]
    datasets = "\n\n".join(f"#### {name}\n\n{format_report(r, CLASSES)}" for name, r in summary["per_dataset"].items())
    return f"""# Mask classifier — model card

This project's own model, trained from scratch by `python -m kiosk.train` (seeded; CPU).
Classes: {", ".join(f"`{c}`" for c in CLASSES)} (`incorrect`: mask worn with nose or mouth uncovered).

## Input and preprocessing
- The face detector's box (BlazeFace, `detector.variant` of the config; still photos with the `[photo]` settings),
  widened by {MARGIN:.0%} of its size on every side, made square around its centre, and resized in one
  `cv2.warpAffine` to {INPUT_SIZE}x{INPUT_SIZE} (`kiosk.mask_classifier.crop_face`; black outside the image).
- The IR takes uint8 BGR NHWC `[N,{INPUT_SIZE},{INPUT_SIZE},3]` (dynamic batch); scaling to [-1, 1] is inside the model.
  Output: probabilities `[N,3]` in the class order above. Weights FP16.

## Data
- `ilc2021-facecrops` (real; 3 classes) and `chandrikadeb7` (real; mask and no mask) from `../shared/datasets`.
  `maskedfacenet-synth` (synthetic, non-commercial) is not used.
- Every image went through the run-time face detector, and the crop was taken from the detector's box, so that
  training crops look like kiosk crops (and chandrikadeb7's class-dependent crop styles are evened out).
  Crop sources: {summary["crop_sources"]} (`annotation`: ilc2021 faces the detector missed, cropped from the
  hand-drawn box; `no face`: chandrikadeb7 images without a detected face, left out).
- Split by group, one group in five to validation (sha256 of the group name): ilc2021 groups by source photo;
  chandrikadeb7 by person (RMFD names), by original photo (`copy N` files), and keeps the prajnasb originals
  together with their augmented copies. No source photo is on both sides.
- Training crops: {summary["train_counts"]}; validation crops: {summary["validation_counts"]}.
- Imbalance: class-weighted cross-entropy, weight = (1 / class frequency) ** {summary["weight_power"]}, label smoothing 0.05.
- Augmentation: shift, scale (+-15 %), rotation (+-11 deg), horizontal flip, low-resolution blur, grey, colour,
  contrast, noise.

## Model and training
- Compact CNN (8 conv-BN-ReLU blocks, global average pool, dropout, linear), {summary["parameters"]:,} parameters;
  IR size {summary["ir_size_bytes"] / 1e6:.2f} MB. The IR averages the probabilities of the crop and its mirror
  image (one batched call; faces are left-right symmetric).
- AdamW, one-cycle LR (max 3e-3), batch {summary["batch"]}, {summary["epochs"]} epochs, seed {summary["seed"]}; the last epoch is
  shipped (no checkpoint picked on validation). {summary["training_seconds"]} s on {summary["machine"]}
  (torch {summary["torch"]}, OpenVINO {summary["openvino"]}).

## Metrics: the shipped IR (OpenVINO, CPU) on the validation split

{format_report(report, CLASSES)}

### Against the project's targets

{targets(report)}

### Per data set

{datasets}

## Limits
- Validation faces are web photos like the training data, not frames from the kiosk camera.
- `incorrect` has the fewest examples (ilc2021 only); treat its figures as the least certain.
- The data sets carry no licence for commercial use of the images (see their MANIFESTs); ask before shipping commercially.

## Retrain

```
.venv/bin/pip install -r requirements-train.txt -c constraints.txt
.venv/bin/python -m kiosk.train            # reads ../shared/datasets, writes models_ir/mask_classifier/
```
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weight-power", type=float, default=0.75,
                        help="class weight = (1 / frequency) ** power; 1 over-predicts the rare class")
    parser.add_argument("--cache", type=Path, default=PROJECT_ROOT / ".cache" / "mask-train")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--card-only", action="store_true", help="rewrite MODEL_CARD.md from metrics.json, no training")
    args = parser.parse_args()
    if args.card_only:
        summary = json.loads((args.out / "metrics.json").read_text())
        (args.out / "MODEL_CARD.md").write_text(model_card(summary))
        return

    started = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    generator = torch.Generator().manual_seed(args.seed)

    samples = all_samples(args.datasets)
    train_samples, _ = split(samples)
    crops = prepare_crops(samples, args.cache)
    kept = [samples[i] for i in crops["index"]]
    train_ids = {id(s) for s in train_samples}
    is_train = np.array([id(s) in train_ids for s in kept])
    labels = np.array([CLASSES.index(s.label) for s in kept])

    train_x = to_tensor(crops["context"][is_train])
    train_y = torch.from_numpy(labels[is_train])
    val_crops, val_y = crops["exact"][~is_train], labels[~is_train]
    counts = np.bincount(labels[is_train], minlength=len(CLASSES))
    print(f"train {is_train.sum()} crops {dict(zip(CLASSES, counts.tolist()))}; validation {(~is_train).sum()}")

    model = MaskNet()
    class_weights = torch.tensor((counts.sum() / (len(CLASSES) * counts)) ** args.weight_power, dtype=torch.float32)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=5e-4)
    steps = args.epochs * ((len(train_y) + args.batch - 1) // args.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps, pct_start=0.15)
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(train_y), generator=generator)
        total = 0.0
        for start in range(0, len(order), args.batch):
            chosen = order[start:start + args.batch]
            logits = model.logits(augment(train_x[chosen], generator))
            loss = F.cross_entropy(logits, train_y[chosen], weight=class_weights, label_smoothing=0.05)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(chosen)
        model.eval()
        with torch.no_grad():
            predicted = model(torch.from_numpy(val_crops).float()).argmax(1).numpy()
        report = classification_report(val_y, predicted, CLASSES)
        recalls = " ".join(f"{c} {report['recall'][c]:.3f}" for c in CLASSES)
        print(f"epoch {epoch:2d}  loss {total / len(order):.4f}  val acc {report['accuracy']:.4f}  "
              f"balanced {report['balanced_accuracy']:.4f}  recall: {recalls}  [{time.time() - started:.0f} s]",
              flush=True)

    xml = export(model, args.out, args.cache)
    metadata = {"classes": list(CLASSES), "input_size": INPUT_SIZE, "margin": MARGIN,
                "input": "uint8 BGR NHWC crops (crop_face), dynamic batch", "output": "class probabilities"}
    (args.out / METADATA_NAME).write_text(json.dumps(metadata, indent=2) + "\n")

    # the card reports the shipped IR, run by OpenVINO on the validation crops
    classifier = MaskClassifier(ov.Core().compile_model(xml, "CPU"), metadata)
    probabilities = classifier.probabilities(val_crops)
    ir_report = classification_report(val_y, probabilities.argmax(1), CLASSES)
    per_dataset = {}
    val_kept = [s for s, t in zip(kept, is_train) if not t]
    for name in sorted({s.dataset for s in val_kept}):
        mask = np.array([s.dataset == name for s in val_kept])
        per_dataset[name] = classification_report(val_y[mask], probabilities.argmax(1)[mask], CLASSES)
    sources = crops["source"]
    summary = {
        "ir_validation": ir_report,
        "per_dataset": per_dataset,
        "train_counts": dict(zip(CLASSES, counts.tolist())),
        "validation_counts": dict(zip(CLASSES, np.bincount(val_y, minlength=3).tolist())),
        "crop_sources": {k: int((sources == k).sum()) for k in ("detector", "annotation", "no face")},
        "epochs": args.epochs, "batch": args.batch, "seed": args.seed, "weight_power": args.weight_power, "parameters": sum(p.numel() for p in model.parameters()),
        "training_seconds": round(time.time() - started), "torch": torch.__version__, "openvino": ov.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "ir_size_bytes": xml.stat().st_size + xml.with_suffix(".bin").stat().st_size,
    }
    (args.out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "MODEL_CARD.md").write_text(model_card(summary))
    print("IR on validation:\n" + format_report(ir_report, CLASSES))
    print(f"done in {time.time() - started:.0f} s -> {xml}")


if __name__ == "__main__":
    main()
