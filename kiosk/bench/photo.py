"""`mask-kiosk bench photo`: the product's "check a photo" against the naive Gradio app it grew from.

Both apps use the same models, in the same process, on the same photos, and both are driven by gradio_client.
- naive: written the way the seed article's "before" was. It has no queue limits, lets Gradio decode the upload
  and encode the whole-resolution result, keeps no cache, and updates every output component on every call.
- product: the admin page's "Check a photo" (kiosk/web/pages.py). It checks the size before decoding, letterboxes
  once, keeps an LRU cache by pixel hash, returns a display-sized JPEG and streams its progress.
For 1 and 4 concurrent clients it measures the round trip of new photos (never seen before) and of a repeated
photo, and the bytes each answer sends back.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import cv2
import numpy as np

from kiosk.bench.common import served
from kiosk.bench.samples import draw_mask, frame_with_face, grace_hopper
from kiosk.config import Config

PHOTO_SIZE = (2592, 1944)   # a 5 MP phone or compact-camera photo
ROUNDS = 4                  # calls per client and kind


def log_in(base_url: str, password: str) -> str:
    """Session cookie value for the admin pages."""
    from kiosk.web.auth import SESSION_COOKIE

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    data = urllib.parse.urlencode({"username": "admin", "password": password}).encode()
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(base_url + "/login", data=data)
    except urllib.error.HTTPError as response:
        for header in response.headers.get_all("set-cookie") or []:
            if header.startswith(SESSION_COOKIE + "="):
                return header.split(";")[0].split("=", 1)[1]
    raise RuntimeError("admin login failed")


def naive_app(analyzer):
    """The "before": one function, Gradio does the decoding, the result goes back at full resolution, every
    component is updated on every call, no queue limits and no cache (the models are shared and loaded once)."""
    import gradio as gr

    from kiosk.live.render import annotate
    lock = threading.Lock()  # the analyzer's infer requests serve one photo at a time, as in the product

    def check(image: np.ndarray):
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        with lock:
            faces = analyzer.analyse(bgr)
        full_size = (bgr.shape[1], bgr.shape[0])
        annotated = annotate(bgr, faces, [f.label for f in faces], full_size)
        report = {"width": bgr.shape[1], "height": bgr.shape[0], "faces": [f.to_json() for f in faces]}
        return annotated[:, :, ::-1], report, f"{len(faces)} face(s)"

    with gr.Blocks(analytics_enabled=False) as demo:
        photo = gr.Image(type="numpy", label="photo")
        result = gr.Image(label="result")
        report = gr.JSON(label="faces")
        status = gr.Markdown()
        photo.upload(check, photo, [result, report, status], api_name="check")
    demo.queue(default_concurrency_limit=None)
    return demo


def photos(folder: Path, count: int, masked: np.ndarray) -> list[Path]:
    """Distinct JPEG photos of PHOTO_SIZE (a masked and a bare face, shifted a little each time): new to any cache."""
    bare = grace_hopper()
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        frame = frame_with_face(*PHOTO_SIZE, masked if index % 2 else bare, x_fraction=0.35 + 0.3 * index / count)
        frame[0, index % frame.shape[1]] = (index * 7) % 255  # one pixel differs: a new picture for the cache
        path = folder / f"photo-{index:03d}.jpg"
        cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
        made.append(path)
    return made


def answer_bytes(result: tuple) -> int:
    """Bytes the browser fetches for this answer: the result image file Gradio wrote (same machine, so its size is
    read from disk) plus the other outputs as JSON."""
    import json
    total = 0
    for output in result:
        if isinstance(output, dict) and output.get("path"):
            total += os.path.getsize(output["path"])
        else:
            total += len(json.dumps(output, default=str).encode())
    return total


def drive(base: str, api_name: str, cookie: str | None, clients: int, new_photos: list[Path],
          repeated: Path) -> dict[str, list[tuple[float, int]]]:
    """`clients` gradio_client clients at once, each sending ROUNDS new photos and then the repeated photo ROUNDS
    times; (round trip ms, bytes back) per call and kind."""
    from gradio_client import Client, handle_file
    headers = {"Cookie": f"kiosk_admin={cookie}"} if cookie else None
    results: dict[str, list[tuple[float, int]]] = {"new": [], "repeated": []}
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def one_client(index: int) -> None:
        client = Client(base, headers=headers, verbose=False, analytics_enabled=False, download_files=False)
        mine = new_photos[index * ROUNDS:(index + 1) * ROUNDS]
        for kind, paths in (("new", mine), ("repeated", [repeated] * ROUNDS)):
            barrier.wait()
            for path in paths:
                started = time.perf_counter()
                result = client.predict(handle_file(str(path)), api_name=api_name)
                if isinstance(result, tuple) and isinstance(result[0], str) and "Error" in result[0]:
                    raise RuntimeError(f"{api_name}: {result[0]}")  # a failed check is no measurement
                took = (time.perf_counter() - started) * 1000
                size = answer_bytes(result if isinstance(result, tuple) else (result,))
                with lock:
                    results[kind].append((took, size))

    threads = [threading.Thread(target=one_client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def bench_photo(config: Config) -> None:
    from gradio_client import Client, handle_file

    from kiosk.app import Kiosk
    from kiosk.bench.sim_camera import SimulatedIPCamera
    from kiosk.vision.analyzer import build_analyzer
    from kiosk.web.app import create_app
    from kiosk.web.passwords import hash_password

    password = "bench-" + os.urandom(6).hex()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = config.replaced(runtime={"state_dir": str(folder / "state")},
                                 admin={"password_hash": hash_password(password)})
        camera = SimulatedIPCamera(frame_with_face(640, 480)).plug()
        kiosk = Kiosk(config, camera.url).start()
        service = kiosk.service
        assert service is not None
        naive = naive_app(build_analyzer(config, kiosk.pipeline.classifier))
        face = kiosk.pipeline.detector.detect(grace_hopper())[0]
        masked = draw_mask(grace_hopper(), face.box, face.keypoints)
        import gradio as gr
        from fastapi import FastAPI
        naive_server = gr.mount_gradio_app(FastAPI(), naive, path="/")
        try:
            with served(create_app(service)) as product_base, served(naive_server) as naive_base:
                cookie = log_in(product_base, password)
                apps = {"naive": (naive_base + "/", "/check", None),
                        "product": (product_base + "/admin/", "/check_photo", cookie)}
                warm = photos(folder / "warm", 1, masked)[0]
                for base, api_name, app_cookie in apps.values():  # first call of each app: not measured
                    headers = {"Cookie": f"kiosk_admin={app_cookie}"} if app_cookie else None
                    Client(base, headers=headers, verbose=False, analytics_enabled=False,
                           download_files=False).predict(handle_file(str(warm)), api_name=api_name)
                print(f"bench photo: {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG photos, {ROUNDS} calls per client and "
                      f"kind, gradio_client round trips, {os.cpu_count()} CPUs, {config.runtime.device}")
                print(f"{'clients':>7} {'kind':<9} {'naive median':>13} {'p95':>8} {'bytes':>9}   "
                      f"{'product median':>14} {'p95':>8} {'bytes':>9}   {'speed-up':>8}")
                for clients in (1, 4):
                    measured = {}
                    for name, (base, api_name, app_cookie) in apps.items():
                        new = photos(folder / name / str(clients), clients * ROUNDS, masked)
                        repeated = new[0]  # seen once among the new ones: the product's cache has it
                        measured[name] = drive(base, api_name, app_cookie, clients, new, repeated)
                    for kind in ("new", "repeated"):
                        cells, medians = [], []
                        for name in apps:
                            times = np.array([t for t, _ in measured[name][kind]])
                            sizes = np.array([b for _, b in measured[name][kind]])
                            medians.append(np.median(times))
                            cells.append(f"{np.median(times):10.0f} ms {np.percentile(times, 95):5.0f} ms "
                                         f"{np.median(sizes) / 1000:6.0f} kB")
                        print(f"{clients:>7} {kind:<9} {cells[0]}   {cells[1]:>34}   {medians[0] / medians[1]:7.1f}x")
        finally:
            kiosk.stop()
            camera.unplug()
