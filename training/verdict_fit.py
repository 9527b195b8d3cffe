"""The live verdict's rule (kiosk.vision.verdict), fitted on the calibration split's walk-up clips.

Every calibration photo is played as a walk-up through the real live pipeline once (kiosk.bench.walkup); the
per-frame probabilities of each person's track are kept, and each candidate rule is replayed on them. Of the
rules that never show a bare face `mask`, the one that stops the most bare faces wins, then the one that passes
the most masks (up to the target share), stops the most wrongly worn masks, and decides soonest. The validation
split plays no part.
"""
from __future__ import annotations

import itertools

import numpy as np

from kiosk.bench.walkup import PersonOutcome, replay, report
from kiosk.vision.verdict import VerdictRule

PASS_EVIDENCE = (2.0, 3.0, 4.0, 6.0, 8.0)
STOP_EVIDENCE = (1.0, 2.0, 3.0)
FRAME_LIMITS = (1.5, 2.0, 3.0)
WINDOWS = (15, 30)
MASK_OFFSETS = (0.0, 0.5, 1.0, 1.5)


def fit_verdict(outcomes: list[PersonOutcome], confirm_frames: int, masks_target: float) -> tuple[VerdictRule, dict]:
    """The rule, and the calibration figures it gives (kiosk.bench.walkup.WalkUpReport as JSON)."""
    if not any(outcome.found for outcome in outcomes):
        raise ValueError("no calibration person was found by the live pipeline")
    candidates = []
    for pass_evidence, stop_evidence, limit, window, offset in itertools.product(
            PASS_EVIDENCE, STOP_EVIDENCE, FRAME_LIMITS, WINDOWS, MASK_OFFSETS):
        rule = VerdictRule(pass_evidence, stop_evidence, limit, window, offset)
        figures = report(outcomes, [replay(o, rule, confirm_frames) for o in outcomes])
        candidates.append((rule, figures))
    safe = [(rule, f) for rule, f in candidates if not f.bare_shown_mask]
    if not safe:
        raise ValueError("every rule shows some calibration bare face `mask`")
    # bare faces stopped (not left at CHECKING) first, then masks passed up to the target, wrongly worn masks
    # stopped, then the soonest verdict
    rule, figures = max(safe, key=lambda c: (c[1].bare_stopped, min(c[1].masks_passed, masks_target),
                                             c[1].incorrect_stopped, c[1].masks_passed, -c[1].seconds_p50))
    return rule, figures.to_json()


def summarise(outcomes: list[PersonOutcome]) -> dict:
    """How many frames of each person's track were classified (for the card)."""
    frames = [sum(p is not None for p in o.probabilities) for o in outcomes if o.found]
    return {"persons": len(outcomes), "frames_per_person_p50": float(np.median(frames)) if frames else 0.0}
