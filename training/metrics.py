"""Classification metrics (numpy only), shared by training, the model card and the tests."""
from __future__ import annotations

from collections.abc import Sequence

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


# the acceptance figures on the validation split, per frame (each found face, one crop) and per person (the final
# verdict of each face's track in its walk-up clip, kiosk.bench.walkup)
GATE_TARGETS = {"bare_stopped": 0.995, "incorrect_stopped": 0.90, "masks_passed": 0.97}
WALKUP_TARGETS = {"bare_stopped": 0.998, "masks_passed": 0.98, "seconds_p50": 0.7}
GATE_NAMES = {"bare_stopped": "bare faces stopped (no_mask or incorrect)",
              "incorrect_stopped": "wrongly worn masks stopped (no_mask or incorrect)",
              "masks_passed": "masks passed (mask)"}


def gate_outcomes(report: dict, classes: Sequence[str]) -> dict[str, float]:
    """What the gate does with each kind of face: a face labelled `mask` passes, any other label stops it."""
    confusion = np.array(report["confusion"])
    mask, no_mask, incorrect = (classes.index(c) for c in ("mask", "no_mask", "incorrect"))

    def share(row: int, columns: tuple[int, ...]) -> float:
        total = confusion[row].sum()
        return float(confusion[row, list(columns)].sum() / total) if total else 0.0

    return {"bare_stopped": share(no_mask, (no_mask, incorrect)),
            "incorrect_stopped": share(incorrect, (no_mask, incorrect)),
            "masks_passed": share(mask, (mask,))}


def format_gate(outcomes: dict[str, float]) -> str:
    """Markdown table of the three gate outcomes against the acceptance figures."""
    lines = ["| gate outcome | share | target | |", "|---|---|---|---|"]
    lines += [f"| {GATE_NAMES[key]} | {value:.4f} | >= {GATE_TARGETS[key]} | "
              f"{'met' if value >= GATE_TARGETS[key] else 'NOT met'} |" for key, value in outcomes.items()]
    return "\n".join(lines)


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
