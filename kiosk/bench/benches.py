"""Benchmarks: they measure the real pipeline pieces and print figures."""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from kiosk.app import Kiosk
from kiosk.bench.common import free_port, summarise, timed
from kiosk.bench.samples import frame_with_face
from kiosk.config import Config
from kiosk.vision.detectors.base import FaceDetector

RESOLUTIONS = ((640, 480), (1280, 720))
PHASES = {"models + camera": r"models loaded in ([0-9.]+) s", "UI import (beside the models)": r"imported beside them "
          r"in ([0-9.]+) s", "pages": r"pages built in ([0-9.]+) s"}


def _stage_times(detector: FaceDetector, frame: np.ndarray, frames: int) -> tuple[dict[str, list[float]], int]:
    """Preprocess, inference and postprocess of one frame, `frames` times after 10 for warm-up."""
    request = detector.compiled.create_infer_request()
    stages: dict[str, list[float]] = {"preprocess": [], "inference": [], "postprocess": []}
    for index in range(frames + 10):
        (tensor, transform), pre_ms = timed(detector.preprocess, frame)
        _, infer_ms = timed(request.infer, {0: tensor})
        faces, post_ms = timed(detector.postprocess, detector.outputs_of(request), transform)
        if index >= 10:
            for stage, value in zip(stages, (pre_ms, infer_ms, post_ms)):
                stages[stage].append(value)
    return stages, len(faces)


def bench_detector(config: Config, frames: int) -> None:
    """Every built detector: live frames stage by stage, and a still photo through both photo passes."""
    from kiosk.vision.analyzer import build_analyzer
    from kiosk.vision.models import ModelMissingError, load_detector
    photo = frame_with_face(1280, 960)
    for model in ("retinaface", "blazeface"):
        model_config = config.replaced(detector={"model": model})
        try:
            detector = load_detector(model_config)
        except ModelMissingError as missing:
            print(f"{model}: {missing}")
            continue
        print(f"{detector.describe()} (live) on {config.runtime.device}, {frames} frames each")
        for width, height in RESOLUTIONS:
            stages, found = _stage_times(detector, frame_with_face(width, height), frames)
            print(f"  {width}x{height} frame ({found} face): " + " | ".join(
                f"{stage} {np.median(values):.2f} ms" for stage, values in stages.items())
                + f" | total p95 {np.percentile(np.sum(list(stages.values()), axis=0), 95):.2f} ms")
        analyzer = build_analyzer(model_config, None)
        times = [timed(analyzer.find_faces, photo)[1] for _ in range(max(5, frames // 4) + 2)][2:]
        print(f"  photo 1280x960, {analyzer.detector.describe()} + context pass "
              f"{analyzer.context_detector.describe()}: {summarise(times)}")


def bench_classifier(config: Config, frames: int) -> None:
    """All faces of a frame in one call: crop + inference for 1, 4 and 8 faces, for each shipped precision."""
    from kiosk.vision.models import CLASSIFIER_FILES, classifier_dir, load_classifier, load_detector
    image = frame_with_face(640, 480)
    face = load_detector(config).detect(image)[0]
    for precision, name in CLASSIFIER_FILES.items():
        if not (classifier_dir(config) / name).exists():
            print(f"mask classifier {precision}: not built, skipped")
            continue
        classifier = load_classifier(config.replaced(classifier={"precision": precision}))
        print(f"mask classifier {precision}: input {classifier.input_size}px on {config.runtime.device}, "
              f"{frames} frames each")
        for count in (1, 4, 8):
            boxes = [face.box] * count
            crop_ms, infer_ms = [], []
            for index in range(frames + 10):
                crops, crop_time = timed(classifier.preprocess, image, boxes)
                _, infer_time = timed(classifier.probabilities, crops)
                if index >= 10:
                    crop_ms.append(crop_time)
                    infer_ms.append(infer_time)
            print(f"{count} face(s): crop {summarise(crop_ms)} | inference {summarise(infer_ms)}")


def moving_face_video(path: Path, width: int, height: int, fps: float, seconds: float = 4.0,
                      comes_and_goes: bool = False) -> Path:
    """A video of the portrait moving across a grey frame (the default benchmark source); `comes_and_goes`:
    the scene is empty every other second, so the gate state changes (events, gate commands) each second."""
    count = int(fps * seconds)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    empty = np.full((height, width, 3), 96, np.uint8)
    for index in range(count):
        gone = comes_and_goes and int(index / fps) % 2 == 1
        x_fraction = 0.3 + 0.4 * abs(1 - 2 * index / count)
        writer.write(empty if gone else frame_with_face(width, height, x_fraction=x_fraction))
    writer.release()
    return path


class _BenchOutputs:
    """Every output on, for the kiosk's own assembly: the record, a serial relay (on a pseudo-terminal, drained)
    and MQTT to a local Mosquitto."""

    def __init__(self, config: Config, folder: Path):
        from kiosk.bench.broker import LocalBroker
        self.broker = LocalBroker(folder / "broker").start()
        self.master, slave = os.openpty()
        threading.Thread(target=self._drain, daemon=True).start()
        self.config = config.replaced(gate={"mode": "hard", "pulse_ms": 300, "serial_port": os.ttyname(slave)},
                                      mqtt={"host": "127.0.0.1", "port": self.broker.port},
                                      runtime={"state_dir": str(folder / "state")})

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self.master, 64):
                pass

    @staticmethod
    def report(kiosk: Kiosk) -> str:
        """What the outputs did (call before stopping the kiosk)."""
        status = kiosk.outputs_status()
        assert status.gate is not None and status.mqtt is not None and kiosk.recorder is not None
        relay = status.gate.outputs[0]
        return (f"outputs: {kiosk.recorder.written} events recorded, {status.mqtt.sent_events} sent over MQTT, "
                f"{relay.sent} relay commands ({relay.failures} failed)")

    def close(self) -> None:
        self.broker.stop()
        os.close(self.master)


def bench_pipeline(config: Config, source: str | None, seconds: float, fps: float, with_outputs: bool) -> None:
    """Processed fps, capture-to-published latency and CPU use of the whole live pipeline; `with_outputs`: each
    source twice, without and then with the record, a serial relay and MQTT, on a scene that changes each second."""
    with tempfile.TemporaryDirectory() as tmp:
        # (video, its name, the camera size a site would set for it: the detector's input follows it)
        sources: list[tuple[str, str, dict]] = [(source, "given source", {})] if source else [
            (str(moving_face_video(Path(tmp) / f"{w}x{h}.avi", w, h, fps, comes_and_goes=with_outputs)),
             f"{w}x{h} @ {fps:g} fps", {"width": w, "height": h}) for w, h in RESOLUTIONS]
        outputs = _BenchOutputs(config, Path(tmp)) if with_outputs else None
        runs = [(path, name, camera, attach) for path, name, camera in sources
                for attach in ((False, True) if with_outputs else (False,))]
        for path, name, camera, attach in runs:
            # the parts measured and nothing more: no web service, and without outputs no record either
            run_config = (outputs.config if attach and outputs else config.replaced(record={"enabled": False}))
            run_config = run_config.replaced(camera=camera)
            kiosk = Kiosk(run_config, path, web=False).start()
            pipeline = kiosk.pipeline
            if with_outputs:
                name += ", outputs on" if attach else ", outputs off"
            print(f"live pipeline: {pipeline.detector.describe()} + classifier on {config.runtime.device}, "
                  f"{config.pipeline.jobs} jobs, {seconds:g} s, {os.cpu_count()} CPUs")
            time.sleep(1.0)  # warm-up: first compile, first frames
            processed_before = pipeline.metrics.processed_frames
            cpu_before, wall_before = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
            time.sleep(seconds)
            cpu_after, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - wall_before
            snapshot = pipeline.snapshot()
            processed = pipeline.metrics.processed_frames - processed_before
            if attach:
                print(_BenchOutputs.report(kiosk))
            kiosk.stop()
            cpu = (cpu_after.ru_utime - cpu_before.ru_utime + cpu_after.ru_stime - cpu_before.ru_stime) / wall
            print(f"{name}: processed {processed / wall:5.1f} fps (camera {snapshot.capture_fps:.1f}), "
                  f"capture->published p50 {snapshot.latency_ms.p50:.1f} ms p95 {snapshot.latency_ms.p95:.1f} ms, "
                  f"detect p50 {snapshot.detect_ms.p50:.1f} ms, classify p50 {snapshot.classify_ms.p50:.1f} ms, "
                  f"faces/frame {snapshot.faces_per_frame}, dropped {snapshot.dropped_frames}, "
                  f"CPU {cpu * 100:.0f}% of one core ({cpu * 100 / (os.cpu_count() or 1):.0f}% of all)")
        if outputs is not None:
            outputs.close()


def bench_boot(config: Config, runs: int) -> None:
    """Process start to READY=1 (systemd's view), first with an empty OpenVINO model cache, then with it filled;
    with the phases the kiosk reports in its READY status (the UI's import runs beside the models)."""
    import re
    import subprocess
    import sys

    import tomlkit

    from kiosk.systemd_notify import NotifyListener
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = moving_face_video(work / "boot.avi", 640, 480, 30.0, seconds=2.0)
        cache = work / "cache"
        config_path = work / "kiosk.toml"
        boot_config = config.replaced(runtime={"cache_dir": str(cache), "state_dir": str(work / "state")},
                                      camera={"source": str(video)},
                                      web={"host": "127.0.0.1", "port": free_port()})
        config_path.write_text(tomlkit.dumps(boot_config.model_dump()))
        print(f"boot: `mask-kiosk run` to READY=1 with a video source, {runs} runs each")
        results: dict[str, list[tuple[float, ...]]] = {"cold (empty model cache)": [], "warm (model cache)": []}
        for run_index in range(runs):
            for label in results:
                if label.startswith("cold"):
                    shutil.rmtree(cache, ignore_errors=True)
                socket_path = str(work / f"notify-{run_index}-{label[:4]}.sock")
                listener = NotifyListener(socket_path)
                started = time.monotonic()
                process = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(config_path), "run"],
                                           env={**os.environ, "NOTIFY_SOCKET": socket_path},
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    ready = listener.wait_for("READY=1", 120)
                    message = listener.with_line("READY=1")[0][1]
                    phases = [re.search(pattern, message) for pattern in PHASES.values()]
                    if not all(phases):
                        raise RuntimeError(f"READY without its phases: {message!r}")
                    results[label].append((ready - started, *(float(m.group(1)) for m in phases if m)))
                finally:
                    process.terminate()
                    process.wait(30)
                    listener.close()
        for label, values in results.items():
            totals, *parts = zip(*values)
            print(f"  {label:<26} to READY median {np.median(totals):.2f} s (min {min(totals):.2f}); medians: "
                  + ", ".join(f"{name} {np.median(part):.2f} s" for name, part in zip(PHASES, parts)))


def run(target: str, config: Config, args: argparse.Namespace) -> int:
    if target == "pipeline" and args.scene != "moving":
        from kiosk.bench.scenes import bench_scene
        bench_scene(config, args.scene, args.seconds, args.fps)
    elif target == "pipeline":
        bench_pipeline(config, args.source, args.seconds, args.fps, args.outputs)
    elif target == "boot":
        bench_boot(config, args.runs)
    elif target == "photo":
        from kiosk.bench.photo import bench_photo
        bench_photo(config, args.chromium)
    elif target == "memory":
        from kiosk.bench.memory import bench_memory
        bench_memory(config, args.checks, idle_s=args.idle)
    elif target == "review":
        from kiosk.bench.review import bench_review
        bench_review(args.events)
    elif target == "ui":
        from kiosk.bench.ui import bench_ui
        bench_ui(config, args.seconds, args.chromium)
    else:
        {"detector": bench_detector, "classifier": bench_classifier}[target](config, args.frames)
    return 0
