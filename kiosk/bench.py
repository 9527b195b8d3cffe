"""Benchmarks: they measure the real pipeline pieces and print figures."""
from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np

from kiosk.config import Config
from kiosk.samples import frame_with_face

RESOLUTIONS = ((640, 480), (1280, 720))


def summarise(samples_ms: list[float]) -> str:
    values = np.asarray(samples_ms)
    return f"median {np.median(values):7.2f} ms  p95 {np.percentile(values, 95):7.2f} ms"


def timed(function: Callable, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, (time.perf_counter() - started) * 1000


def bench_detector(config: Config, frames: int) -> None:
    from kiosk.models import load_detector
    detector = load_detector(config)
    print(f"face detector: {detector.variant} range on {config['runtime']['device']}, {frames} frames each")
    request = detector.compiled.create_infer_request()
    for width, height in RESOLUTIONS:
        frame = frame_with_face(width, height)
        stages: dict[str, list[float]] = {"preprocess": [], "inference": [], "postprocess": []}
        for index in range(frames + 10):
            (tensor, transform), pre_ms = timed(detector.preprocess, frame)
            _, infer_ms = timed(request.infer, {0: tensor})
            faces, post_ms = timed(detector.postprocess, *detector.outputs_of(request), transform)
            if index >= 10:  # warm-up excluded
                for stage, value in zip(stages, (pre_ms, infer_ms, post_ms)):
                    stages[stage].append(value)
        print(f"{width}x{height} ({len(faces)} face):")
        for stage, values in stages.items():
            print(f"  {stage:<12} {summarise(values)}")


def run(target: str, config: Config, args: argparse.Namespace) -> int:
    if target == "detector":
        bench_detector(config, args.frames)
    return 0
