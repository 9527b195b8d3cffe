"""`bench pipeline --scene empty|walk-up`: what the live pipeline costs with nobody there, and with a person.

Both scenes are videos played as the camera (looping, paced): a static grey background with a camera's sensor
noise, and for the walk-up the portrait appearing after the kiosk has gone idle and staying a few seconds, over
and over. Figures come from the published frames themselves (the publisher thread), so each phase of the loop is
measured on its own: fps, capture->published latency, CPU, the detector's rate, and the time from the frame a
person appears in to the first frame that shows their verdict.
"""
from __future__ import annotations

import os
import resource
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kiosk.app import Kiosk
from kiosk.bench.benches import RESOLUTIONS
from kiosk.bench.samples import frame_with_face
from kiosk.config import Config
from kiosk.types import Published

NOISE_SIGMA = 2.0        # grey levels: a camera never delivers two identical frames
APPEARANCES = 3          # walk-ups per run
PRESENT_S = 3.0          # a person stays this long
IDLE_MARGIN_S = 4.0      # the scene is empty this much longer than presence.idle_after_s (idle for the last seconds)


def scene_video(path: Path, width: int, height: int, fps: float, empty_s: float, person_s: float) -> Path:
    """empty_s of background, then person_s of the portrait standing still; each frame with fresh noise."""
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    empty, person = np.full((height, width, 3), 96, np.uint8), frame_with_face(width, height)
    for index in range(round(fps * (empty_s + person_s))):
        frame = empty if index < fps * empty_s else person
        noise = rng.normal(0, NOISE_SIGMA, frame.shape)
        writer.write(np.clip(frame + noise, 0, 255).astype(np.uint8))
    writer.release()
    return path


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class _Phase:
    """One kind of phase (empty or present), summed over its spells."""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    frames: int = 0
    latency_ms: list[float] = field(default_factory=list)


class _PhaseMeter:
    """Splits the published frames of a looping video into its empty and present phases."""

    def __init__(self, fps: float, empty_s: float, person_s: float, skip_frames: int):
        self.fps, self.empty_frames = fps, round(fps * empty_s)
        self.period = round(fps * (empty_s + person_s))
        self.skip_frames = skip_frames  # the first ones (warm-up; the first empty spell before idle)
        self.phases = {"empty": _Phase(), "present": _Phase()}
        self.verdict_s: list[float] = []
        self._current: tuple[str, int] | None = None   # phase and loop number
        self._since = (0.0, 0.0)                        # wall, cpu at the phase's start
        self._waiting_verdict = False
        self._finished = False
        self._lock = threading.Lock()

    def phase_of(self, index: int) -> tuple[str, int]:
        return ("empty" if index % self.period < self.empty_frames else "present"), index // self.period

    def _close_spell(self, now: float, cpu: float) -> None:
        if self._current is not None:
            spent = self.phases[self._current[0]]
            spent.wall_s += now - self._since[0]
            spent.cpu_s += cpu - self._since[1]

    def observe(self, item: Published) -> None:
        if item.frame_index < self.skip_frames:
            return
        now, cpu = time.monotonic(), _cpu_seconds()
        phase = self.phase_of(item.frame_index)
        with self._lock:
            if self._finished:
                return
            if self._current is None or phase != self._current:
                self._close_spell(now, cpu)
                self._current, self._since = phase, (now, cpu)
                self._waiting_verdict = phase[0] == "present"
            spent = self.phases[phase[0]]
            spent.frames += 1
            spent.latency_ms.append((item.published - item.captured) * 1000)
            if self._waiting_verdict and any(face.verdict is not None for face in item.faces):
                appeared_frame = phase[1] * self.period + self.empty_frames
                appeared = item.captured - (item.frame_index - appeared_frame) / self.fps  # the file is paced
                self.verdict_s.append(item.published - appeared)
                self._waiting_verdict = False

    def finish(self) -> None:
        """Ends the spell under way (call before the pipeline stops)."""
        with self._lock:
            self._close_spell(time.monotonic(), _cpu_seconds())
            self._finished = True

    def line(self, name: str) -> str:
        with self._lock:
            spent = self.phases[name]
            if not spent.wall_s:
                return f"{name}: not reached"
            latency = np.asarray(spent.latency_ms)
            return (f"{name}: {spent.frames / spent.wall_s:5.1f} fps published, capture->published p50 "
                    f"{np.median(latency):.1f} ms p95 {np.percentile(latency, 95):.1f} ms, "
                    f"CPU {spent.cpu_s / spent.wall_s * 100:.0f}% of one core")


def _run(config: Config, video: Path, meter: _PhaseMeter, seconds: float) -> tuple[float, float]:
    """Plays the video for `seconds` after its skipped frames; returns the detector's fps (over the last two
    seconds) at the end of each kind of phase, the median over its spells."""
    kiosk = Kiosk(config.replaced(record={"enabled": False}), str(video), web=False).start()
    pipeline = kiosk.pipeline
    detect_fps: dict[str, list[float]] = {"empty": [], "present": []}
    last: tuple[tuple[str, int], float] | None = None  # the last sample: its spell, the detector's fps
    pipeline.broadcast.subscribe(meter.observe)
    try:
        deadline = time.monotonic() + meter.skip_frames / meter.fps + seconds
        while time.monotonic() < deadline:
            time.sleep(0.1)
            latest = pipeline.broadcast.latest()
            if latest is None or latest.frame_index < meter.skip_frames:
                continue
            spell = meter.phase_of(latest.frame_index)
            if last is not None and last[0] != spell:
                detect_fps[last[0][0]].append(last[1])
            last = spell, pipeline.snapshot().detect_fps
        meter.finish()
    finally:
        kiosk.stop()
    if last is not None:
        detect_fps[last[0][0]].append(last[1])
    empty, present = (float(np.median(detect_fps[phase])) if detect_fps[phase] else 0.0 for phase in detect_fps)
    return empty, present


def bench_scene(config: Config, scene: str, seconds: float, fps: float) -> None:
    """`empty`: the background alone, measured once the kiosk is idle. `walk-up`: APPEARANCES walk-ups after
    idle spells, with presence-aware compute on and, for the time to a verdict, off (every frame detected)."""
    idle_after = config.presence.idle_after_s
    print(f"live pipeline, scene {scene}: {config.detector.model} + classifier on {config.runtime.device}, "
          f"{os.cpu_count()} CPUs; presence: idle after {idle_after:g} s, {config.presence.idle_detect_fps:g} "
          "detections/s while idle")
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in RESOLUTIONS:
            name = f"{width}x{height} @ {fps:g} fps"
            sized = config.replaced(camera={"width": width, "height": height})  # as a site sets its camera
            if scene == "empty":
                video = scene_video(Path(tmp) / f"empty-{width}.avi", width, height, fps, 10.0, 0.0)
                meter = _PhaseMeter(fps, 10.0, 0.0, skip_frames=round(fps * (idle_after + 1.0)))
                detect_fps, _ = _run(sized, video, meter, seconds)
                print(f"  {name}, {meter.line('empty')}, detector {detect_fps:.1f} fps")
                continue
            empty_s = idle_after + IDLE_MARGIN_S
            video = scene_video(Path(tmp) / f"walkup-{width}.avi", width, height, fps, empty_s, PRESENT_S)
            for presence in (True, False):
                meter = _PhaseMeter(fps, empty_s, PRESENT_S, skip_frames=1)
                run_config = sized.replaced(presence={"enabled": presence})
                empty_detect, present_detect = _run(run_config, video, meter, APPEARANCES * (empty_s + PRESENT_S))
                verdicts = np.asarray(meter.verdict_s) * 1000
                verdict = (f"first verdict {np.median(verdicts):.0f} ms after the person appears (max "
                           f"{verdicts.max():.0f} ms, {len(verdicts)} walk-ups)") if len(verdicts) else "no verdict"
                print(f"  {name}, presence {'on' if presence else 'off (every frame detected)'}: {verdict}\n"
                      f"    {meter.line('present')}, detector {present_detect:.1f} fps\n"
                      f"    {meter.line('empty')}, detector {empty_detect:.1f} fps at the end of each spell")
