"""Test videos made from the shipped real portrait."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kiosk.bench.samples import frame_with_face

WIDTH, HEIGHT = 640, 480


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def walking_face(face: np.ndarray, blank_frames: int = 20, face_frames: int = 70,
                 width: int = WIDTH, height: int = HEIGHT) -> list[np.ndarray]:
    """An empty scene, then the portrait moving from left to right across the frame."""
    frames = [np.full((height, width, 3), 96, np.uint8)] * blank_frames
    frames += [frame_with_face(width, height, face, 0.3 + 0.4 * i / face_frames) for i in range(face_frames)]
    return frames
