"""The classifier's decision rule: per-class log-offsets fitted on the calibration split (numpy only).

Training leaves the class balance to weights and luck; the offsets set it on data
the network never saw: first the offsets that make the classes equally weighted
(minimum class-balanced log-loss), then, for the gate, the offset of each class the
gate must stop is raised until the calibration split's faces of that class are
stopped (given any label but `mask`) at the target share. The validation split is
never looked at.
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


def stopped(probabilities: np.ndarray, truth: np.ndarray, label: int, passing: int) -> float:
    """Share of the faces of class `label` given any label but `passing`: the ones the gate stops."""
    chosen = truth == label
    return float((probabilities[chosen].argmax(1) != passing).mean())


def fit_gate_offsets(probabilities: np.ndarray, truth: np.ndarray, passing: int, targets: dict[int, float],
                     step: float = 0.02, limit: float = 4.0) -> np.ndarray:
    """Balanced offsets, then each guarded class's offset raised, in the order given, until that class is
    stopped at its target share (raising one never lowers the other's)."""
    offsets = balanced_offsets(probabilities, truth)
    for label, target in targets.items():
        start = offsets[label]
        while stopped(apply_offsets(probabilities, offsets), truth, label, passing) < target:
            if offsets[label] - start >= limit:
                raise ValueError(f"class {label}: stopped share {target} not reachable within offset {limit}")
            offsets[label] += step
    return offsets
