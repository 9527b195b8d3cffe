"""`mask-kiosk bench photo`: the product's "check a photo" against the naive Gradio app it grew from.

Both apps use the same models, in the same process, on the same photos, and both are driven the way an admin uses
them: a photo chosen in a page in headless Chromium, timed until its result picture is shown.
- naive: written the way the seed article's "before" was. It has no queue limits, lets Gradio decode the upload
  and encode the whole-resolution result, keeps no cache, and updates every output component on every call.
- product: the admin page's "Check a photo" (kiosk/web/pages/photo_tab.py). The browser scales a large photo to the
  analysis size before uploading it (kiosk/web/photo_upload.js); the kiosk checks the size before decoding,
  letterboxes once, keeps an LRU cache by the hash of the pixels analysed, returns a display-sized JPEG and streams
  its progress. A photo whose bytes it has read before is asked for by their digest, without an upload or the
  queue.
For 1 and 4 concurrent clients it measures the round trip of new photos (never seen before) and of a repeated
photo, the bytes each page uploads and the bytes of the result picture it shows.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.bench.common import served
from kiosk.bench.samples import draw_mask, frame_with_face, grace_hopper
from kiosk.config import Config

PHOTO_SIZE = (2592, 1944)   # a 5 MP phone or compact-camera photo
ROUNDS = 4                  # calls per client and kind
CLIENTS = (1, 4)


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
        photo = gr.Image(type="numpy", label="photo", elem_classes="naive-photo")
        result = gr.Image(label="result", elem_classes="naive-result")
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


# bench-side instruments only: the bytes each page uploads (Gradio's client posts files as FormData), and the
# answers completed (process_completed messages on Gradio's event stream, a fetch read as it arrives, or the
# answer of the call outside the queue that asks for a photo by its digest, "<sha256> <name>")
INSTRUMENT_JS = """() => {
  window.benchSent = 0;
  window.benchCompleted = 0;
  const original = window.fetch;
  const count = async (stream) => {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    let tail = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      const parts = (tail + value).split("process_completed");
      window.benchCompleted += parts.length - 1;
      tail = parts[parts.length - 1].slice(-20);
    }
  };
  window.fetch = async (resource, options) => {
    if (options && options.body instanceof FormData)
      for (const value of options.body.values()) if (value instanceof Blob) window.benchSent += value.size;
    const response = await original(resource, options);
    const url = typeof resource === "string" ? resource : resource.url || String(resource);
    const byDigest = options && typeof options.body === "string" && /"[0-9a-f]{64} /.test(options.body);
    if (url.includes("/run/predict") && byDigest && response.ok) window.benchCompleted += 1;
    if (!url.includes("/queue/data") || (options && options.method && options.method !== "GET") || !response.body)
      return response;
    const [mine, theirs] = response.body.tee();
    count(mine);
    return new Response(theirs, {status: response.status, statusText: response.statusText,
                                 headers: response.headers});
  };
}"""
# this call's result picture is shown: its answer came, and the picture is loaded (a new one, or the one this
# photo got before: a repeat may be the very same file)
RESULT_SHOWN_JS = """([selector, completed, before, expected]) => {
  const image = document.querySelector(selector);
  if (window.benchCompleted <= completed || !image || !image.src || !image.complete || !image.naturalWidth)
    return null;
  return image.src !== before || image.src === expected ? image.src : null;
}"""


@dataclass(frozen=True)
class App:
    url: str
    result: str            # the result picture's selector
    tab: str | None        # the tab to open first
    cookie: str | None     # the admin session
    clear: str | None      # what to click before the next photo (the product empties its upload box itself)


async def _client(browser, app: App, photos: list[tuple[str, Path]], start: asyncio.Barrier
                  ) -> list[tuple[str, float, int, int]]:
    """One admin in a page of their own: each photo chosen in the file input, timed until its result picture is
    shown; (kind, round trip ms, bytes uploaded, result picture bytes) per photo."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    if app.cookie:
        from kiosk.web.auth import SESSION_COOKIE
        await context.add_cookies([{"name": SESSION_COOKIE, "value": app.cookie, "url": app.url}])
    page = await context.new_page()
    await page.add_init_script(f"({INSTRUMENT_JS})()")
    await page.goto(app.url)
    if app.tab:
        await page.get_by_role("tab", name=app.tab).click()
    file_input = page.locator("input[type=file]").first
    await file_input.wait_for(state="attached")
    measured, shown = [], ""
    shown_for: dict[Path, str] = {}
    await start.wait()
    for kind, path in photos:
        sent_before, completed = await page.evaluate("[window.benchSent, window.benchCompleted]")
        started = time.perf_counter()
        await file_input.set_input_files(str(path))
        try:
            handle = await page.wait_for_function(
                RESULT_SHOWN_JS, arg=[app.result, completed, shown, shown_for.get(path)], timeout=120000, polling=5)
        except PlaywrightTimeout:
            page_text = " ".join((await page.locator("body").inner_text()).split())[:300]
            raise RuntimeError(f"{app.url}: no result for {path.name} within 120 s; the page: {page_text}") from None
        took = (time.perf_counter() - started) * 1000
        shown = shown_for[path] = await handle.json_value()
        sent = await page.evaluate("window.benchSent") - sent_before
        picture = await page.evaluate("(src) => performance.getEntriesByName(src).pop()?.encodedBodySize || 0", shown)
        measured.append((kind, took, sent, picture))
        if app.clear:
            await page.locator(app.clear).click()
        await file_input.wait_for(state="attached")
    await context.close()
    return measured


async def _drive(chromium: str, app: App, clients: int, new_photos: list[Path], repeated: Path
                 ) -> dict[str, list[tuple[float, int, int]]]:
    """`clients` pages at once in one Chromium, each sending ROUNDS new photos, then the repeated photo ROUNDS
    times."""
    from playwright.async_api import async_playwright

    from kiosk.bench.ui import CHROMIUM_FLAGS
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        start = asyncio.Barrier(clients)
        plans = [[("new", path) for path in new_photos[index * ROUNDS:(index + 1) * ROUNDS]]
                 + [("repeated", repeated)] * ROUNDS for index in range(clients)]
        results = await asyncio.gather(*(_client(browser, app, plan, start) for plan in plans))
        await browser.close()
    by_kind: dict[str, list[tuple[float, int, int]]] = {"new": [], "repeated": []}
    for kind, took, sent, picture in (entry for result in results for entry in result):
        by_kind[kind].append((took, sent, picture))
    return by_kind


def bench_photo(config: Config, chromium: str) -> None:
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
                apps = {"naive": App(naive_base + "/", ".naive-result img", None, None,
                                     ".naive-photo button[aria-label='Remove Image']"),
                        "product": App(product_base + "/admin/", ".photo-result img", "Check a photo",
                                       log_in(product_base, password), None)}
                warm = photos(folder / "warm", 2, masked)
                for app, photo in zip(apps.values(), warm):  # the first call of each app: not measured
                    asyncio.run(_drive(chromium, app, 1, [photo], photo))
                print(f"bench photo: {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG photos chosen in headless Chromium, "
                      f"timed until the result picture is shown; {ROUNDS} per client and kind, {os.cpu_count()} "
                      f"CPUs, {config.runtime.device}; sent = bytes uploaded, shown = the result picture's bytes")
                print(f"{'clients':>7} {'kind':<9} {'naive median':>13} {'p95':>8} {'sent':>8} {'shown':>8}   "
                      f"{'product median':>14} {'p95':>8} {'sent':>8} {'shown':>8}   {'speed-up':>8}")
                for clients in CLIENTS:
                    measured = {}
                    for name, app in apps.items():
                        new = photos(folder / name / str(clients), clients * ROUNDS, masked)
                        repeated = new[0]  # seen once among the new ones: the product's cache has it
                        measured[name] = asyncio.run(_drive(chromium, app, clients, new, repeated))
                    for kind in ("new", "repeated"):
                        cells, medians = [], []
                        for name in apps:
                            times, sent, shown = (np.array(column) for column in zip(*measured[name][kind]))
                            medians.append(np.median(times))
                            cells.append(f"{np.median(times):10.0f} ms {np.percentile(times, 95):5.0f} ms "
                                         f"{np.median(sent) / 1000:5.0f} kB {np.median(shown) / 1000:5.0f} kB")
                        print(f"{clients:>7} {kind:<9} {cells[0]}   {cells[1]:>41}   {medians[0] / medians[1]:7.1f}x")
        finally:
            kiosk.stop()
            camera.unplug()
