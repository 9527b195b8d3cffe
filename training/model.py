"""The mask classifier's network (trained from scratch), its augmentation, and its export to OpenVINO IR."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov
import torch
import torch.nn.functional as F
from torch import nn

from kiosk.vision.classifier import CLASSES
from kiosk.vision.models import CLASSIFIER_FILES
from training.dataset import CONTEXT_MARGIN, MARGIN


class MaskNet(nn.Module):
    """Compact CNN, one member of the shipped ensemble."""

    def __init__(self, classes: int = len(CLASSES)):
        super().__init__()

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                                 nn.ReLU(inplace=True))

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


def mean_probabilities(members: list[MaskNet], bgr_nhwc: torch.Tensor) -> torch.Tensor:
    """uint8-valued BGR NHWC crops -> probabilities averaged over the members and over the crop and its mirror
    image (faces are left-right symmetric)."""
    x = bgr_nhwc.permute(0, 3, 1, 2) / 127.5 - 1.0
    return torch.stack([torch.softmax(m.logits(view), dim=1) for m in members for view in (x, x.flip(3))]).mean(0)


class MaskEnsemble(nn.Module):
    """What the IR computes: the members' mean probabilities re-weighted by the decision rule's offsets
    (as decision_rule.apply_offsets)."""

    def __init__(self, members: list[MaskNet], offsets: np.ndarray):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.register_buffer("offsets", torch.from_numpy(offsets).float())

    def forward(self, bgr_nhwc: torch.Tensor) -> torch.Tensor:
        averaged = mean_probabilities(list(self.members), bgr_nhwc)
        return torch.softmax(torch.log(averaged.clamp_min(1e-8)) + self.offsets, dim=1)


def augment(batch: torch.Tensor, generator: torch.Generator, size: int) -> torch.Tensor:
    """Context crops (N, C, H, W) in [-1, 1] -> jittered size x size crops: shift, scale, rotation, flip,
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
    grid = F.affine_grid(theta, (n, 3, size, size), align_corners=False)
    out = F.grid_sample(batch, grid, align_corners=False, padding_mode="zeros")
    low_res = torch.rand(n, generator=generator) < 0.3
    if low_res.any():
        side = int(torch.randint(14, 40, (1,), generator=generator))
        small = F.interpolate(out[low_res], size=(side, side), mode="area")
        out[low_res] = F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)
    grey = torch.rand(n, generator=generator) < 0.1
    out[grey] = out[grey].mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    contrast = uniform(0.7, 1.3).view(n, 1, 1, 1)
    brightness = uniform(-0.25, 0.25).view(n, 1, 1, 1)
    channel = 1 + (torch.rand(n, 3, 1, 1, generator=generator) - 0.5) * 0.2
    out = (out * contrast * channel + brightness) + torch.randn(out.shape, generator=generator) * 0.03
    return out.clamp(-1, 1)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0


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
