"""The classifier's decision rule: per-class log-offsets fitted on the calibration split (numpy only).

Training leaves the class balance to weights and luck; the offsets set it on data
the network never saw: first the offsets that make the classes equally weighted
(minimum class-balanced log-loss, which is what balanced accuracy rewards), then
the `no_mask` offset is raised until the calibration split's bare faces reach the
gate's recall target. The validation split is never looked at.
"""
from __future__ import annotations

import numpy as np


def apply_offsets(probabilities: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Probabilities re-weighted by exp(offset) per class and renormalised."""
    scores = np.log(np.clip(probabilities, 1e-8, None)) + offsets
    scores -= scores.max(axis=1, keepdims=True)
    weighted = np.exp(scores)
    return weighted / weighted.sum(axis=1, keepdims=True)


def balanced_offsets(probabilities: np.ndarray, truth: np.ndarray, steps: int = 2000) -> np.ndarray:
    """Offsets minimising the class-balanced log-loss (convex; gradient descent, first class fixed at 0)."""
    classes = probabilities.shape[1]
    counts = np.bincount(truth, minlength=classes)
    sample_weight = 1.0 / (classes * counts[truth])
    onehot = np.eye(classes)[truth]
    offsets = np.zeros(classes)
    for _ in range(steps):
        gradient = (sample_weight[:, None] * (apply_offsets(probabilities, offsets) - onehot)).sum(0)
        offsets -= 2.0 * gradient
        offsets -= offsets[0]
    return offsets


def recall(probabilities: np.ndarray, truth: np.ndarray, label: int) -> float:
    chosen = truth == label
    return float((probabilities[chosen].argmax(1) == label).mean())


def fit_offsets(probabilities: np.ndarray, truth: np.ndarray, guarded: int, min_recall: float,
                step: float = 0.02, limit: float = 3.0) -> np.ndarray:
    """Balanced offsets, then the guarded class's offset raised until its recall reaches min_recall."""
    offsets = balanced_offsets(probabilities, truth)
    start = offsets[guarded]
    while recall(apply_offsets(probabilities, offsets), truth, guarded) < min_recall:
        if offsets[guarded] - start >= limit:
            raise ValueError(f"class {guarded}: recall {min_recall} not reachable within offset {limit}")
        offsets[guarded] += step
    return offsets
