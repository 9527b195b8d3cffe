"""Measures the "hold still" threshold (kiosk.live.guidance.BLURRED_SHARE) on real faces: python -m training.hold_still

Every annotated face at least 48 px tall in a third of the scene photos: its sharpness (the Laplacian's variance on
a 48 px grey copy, as the kiosk measures it) as photographed, with a motion blur of 15 % of the face's width (a
step during the exposure), and unblurred at 80-100 % of its size with sensor noise (what a person standing still
gives from frame to frame). Prints how often each share of the face's own sharpness catches the blurred copy and
flags the steady one.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from kiosk.config import PROJECT_ROOT
from kiosk.live.guidance import sharpness
from training.dataset import scene_photos

MIN_HEIGHT = 48
BLUR_SHARE = 0.15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=PROJECT_ROOT.parent / "shared" / "datasets")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    blurred, steady = [], []
    for photo in scene_photos(args.datasets)[::3]:
        image = cv2.imread(str(photo.item.image))
        if image is None:
            continue
        for box in photo.item.boxes:
            x1, y1, x2, y2 = (int(v) for v in box)
            if y2 - y1 < MIN_HEIGHT or x1 < 0 or y1 < 0:
                continue
            sharp = sharpness(image, box)
            if not sharp:
                continue
            length = max(3, round(BLUR_SHARE * (x2 - x1)))
            kernel = np.zeros((length, length), np.float32)
            kernel[length // 2, :] = 1 / length
            moved = cv2.filter2D(image, -1, kernel if rng.random() < 0.5 else kernel.T)
            blurred.append((sharpness(moved, box) or 0.0) / sharp)
            scale = rng.uniform(0.8, 1.0)
            small = cv2.resize(image[y1:y2, x1:x2], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            noisy = np.clip(small + rng.normal(0, 3, small.shape), 0, 255).astype(np.uint8)
            steady.append((sharpness(noisy, np.array([0, 0, noisy.shape[1], noisy.shape[0]])) or 0.0) / sharp)
    blurred_share, steady_share = np.array(blurred), np.array(steady)
    print(f"{len(blurred)} faces >= {MIN_HEIGHT} px; blurred / own sharpness, median {np.median(blurred_share):.2f}")
    for share in (0.3, 0.4, 0.5, 0.6):
        print(f"under {share}: blurred caught {np.mean(blurred_share < share):.3f}, "
              f"steady flagged {np.mean(steady_share < share):.3f}")


if __name__ == "__main__":
    main()
