"""Classification metrics (numpy only), shared by training, the model card and the tests."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def classification_report(truth: np.ndarray, predicted: np.ndarray, classes: Sequence[str]) -> dict:
    n = len(classes)
    confusion = np.zeros((n, n), int)
    np.add.at(confusion, (np.asarray(truth), np.asarray(predicted)), 1)
    support = confusion.sum(1)
    predicted_count = confusion.sum(0)
    diagonal = np.diag(confusion)
    recall = np.divide(diagonal, support, out=np.zeros(n), where=support > 0)
    precision = np.divide(diagonal, predicted_count, out=np.zeros(n), where=predicted_count > 0)
    present = support > 0
    return {
        "samples": int(support.sum()),
        "accuracy": float(diagonal.sum() / max(support.sum(), 1)),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "precision": dict(zip(classes, precision.round(4).tolist())),
        "recall": dict(zip(classes, recall.round(4).tolist())),
        "support": dict(zip(classes, support.tolist())),
        "confusion": confusion.tolist(),
    }


def format_report(report: dict, classes: Sequence[str]) -> str:
    """Markdown: headline figures, per-class table, confusion matrix (rows truth, columns predicted)."""
    lines = [f"- samples: {report['samples']}",
             f"- accuracy: {report['accuracy']:.4f}",
             f"- balanced accuracy: {report['balanced_accuracy']:.4f}", "",
             "| class | precision | recall | support |", "|---|---|---|---|"]
    lines += [f"| {c} | {report['precision'][c]:.4f} | {report['recall'][c]:.4f} | {report['support'][c]} |"
              for c in classes]
    lines += ["", "| truth \\ predicted | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    lines += [f"| {c} | " + " | ".join(str(v) for v in row) + " |" for c, row in zip(classes, report["confusion"])]
    return "\n".join(lines)
