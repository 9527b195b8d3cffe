"""Presence-aware compute through the real pipeline: the detector slows down on an empty scene and sees the first
frame that moves. The camera is generated frames stamped at 30 fps (kiosk.bench.generated_camera), so the idle
spell is counted in camera frames, whatever this box's speed; nothing here asserts a time."""
import threading

import numpy as np
from waiting import wait_until

from kiosk.app import build_pipeline
from kiosk.bench.generated_camera import FPS, GeneratedCamera
from kiosk.bench.samples import frame_with_face

IDLE_AFTER_S = 0.5
IDLE_DETECT_FPS = 2.0
IDLE_FRAMES = 90          # published frames looked at while idle


def noisy_frames(person: threading.Event, appeared: list[int]):
    """An empty grey scene with sensor noise until `person` is set, then the portrait; the index of the first
    frame with the person goes into `appeared`."""
    rng = np.random.default_rng(0)
    noise = [rng.normal(0, 2.0, (480, 640, 3)).astype(np.int16) for _ in range(6)]
    empty, face = np.full((480, 640, 3), 96, np.int16), frame_with_face(640, 480).astype(np.int16)
    index = 0
    while True:
        if person.is_set() and not appeared:
            appeared.append(index)
        base = face if person.is_set() else empty
        yield np.clip(base + noise[index % len(noise)], 0, 255).astype(np.uint8)
        index += 1


def test_the_detector_slows_down_on_an_empty_scene_and_sees_the_first_frame_that_moves(config):
    person, appeared = threading.Event(), []
    camera = GeneratedCamera(noisy_frames(person, appeared), "generated scene")
    pipeline = build_pipeline(config.replaced(presence={"idle_after_s": IDLE_AFTER_S,
                                                        "idle_detect_fps": IDLE_DETECT_FPS}), camera=camera)
    published = []
    pipeline.broadcast.subscribe(published.append)
    pipeline.start()
    try:
        first_idle = wait_until(lambda: next((i for i, item in enumerate(published) if not item.detected), None),
                                60, "a frame the detector skipped")
        wait_until(lambda: len(published) > first_idle + IDLE_FRAMES, 60, f"{IDLE_FRAMES} idle frames")
        idle = published[first_idle:first_idle + IDLE_FRAMES]
        assert published[first_idle].frame_index / FPS >= IDLE_AFTER_S  # not before the scene was empty that long
        assert all(not item.faces for item in idle)
        detected = sum(item.detected for item in idle)
        # IDLE_DETECT_FPS of the camera's 30: one frame in 15, against every frame before
        assert 1 <= detected <= IDLE_FRAMES * IDLE_DETECT_FPS / FPS + 1, detected
        assert all(item.detected for item in published[:first_idle])

        person.set()
        wait_until(lambda: appeared and published[-1].frame_index > appeared[0] + 30, 60, "30 frames of the person")
        with_person = [item for item in published if item.frame_index >= appeared[0]]
        assert with_person[0].frame_index == appeared[0]   # the first frame the person is in was shown
        assert all(item.detected and item.faces for item in with_person)  # and it, and every later one, detected
    finally:
        pipeline.stop()
