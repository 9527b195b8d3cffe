"""`mask-kiosk bench ui`: capture-to-display latency and displayed fps in headless Chromium. Everything real:
camera interface, pipeline, web app, browser."""
from __future__ import annotations

import tempfile

import numpy as np

from kiosk.bench.common import served
from kiosk.bench.samples import frame_with_face
from kiosk.bench.sim_camera import STAMP_BITS, STAMP_BLOCK, SimulatedIPCamera
from kiosk.config import Config

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# decodes the time stamp the simulated camera wrote into each frame, once per drawn frame
MEASURE_JS = f"""() => {{
  window.__latencies = []; window.__drawn = [];
  window.addEventListener("kiosk-frame", (event) => {{
    const now = Date.now();
    const canvas = event.detail.canvas;
    const pixels = canvas.getContext("2d").getImageData(0, 0, {STAMP_BITS * STAMP_BLOCK}, {STAMP_BLOCK}).data;
    let stamp = 0;
    for (let bit = 0; bit < {STAMP_BITS}; bit++) {{
      const x = bit * {STAMP_BLOCK} + {STAMP_BLOCK // 2}, y = {STAMP_BLOCK // 2};
      if (pixels[(y * {STAMP_BITS * STAMP_BLOCK} + x) * 4] > 127) stamp += 2 ** bit;
    }}
    window.__latencies.push(((now % 2 ** 32) - stamp + 2 ** 32) % 2 ** 32);
    window.__drawn.push(performance.now());
  }});
}}"""


def bench_ui(config: Config, seconds: float, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    from kiosk.app import Kiosk
    from kiosk.web.app import create_app

    with tempfile.TemporaryDirectory() as state:
        config = config.replaced(runtime={"state_dir": state})
        camera = SimulatedIPCamera(frame_with_face(640, 480), fps=config.camera.fps, stamp=True).plug()
        kiosk = Kiosk(config, camera.url).start()
        try:
            assert kiosk.service is not None
            with served(create_app(kiosk.service)) as base:
                print(f"ui: 640x480 simulated camera at {camera.fps:g} fps -> pipeline -> WebSocket -> canvas "
                      f"in headless Chromium, {seconds:g} s")
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
                    page = browser.new_page(viewport={"width": 1280, "height": 720})
                    page.goto(base + "/")
                    page.wait_for_function("document.querySelector('[data-state]')?.dataset.state === 'STOP'",
                                           timeout=30000)
                    page.evaluate(MEASURE_JS)
                    page.wait_for_timeout(seconds * 1000)
                    latencies = np.array(page.evaluate("window.__latencies"), float)
                    drawn = np.array(page.evaluate("window.__drawn"), float)
                    browser.close()
                fps = (len(drawn) - 1) / ((drawn[-1] - drawn[0]) / 1000) if len(drawn) > 1 else 0.0
                print(f"  capture->display p50 {np.median(latencies):.1f} ms  "
                      f"p95 {np.percentile(latencies, 95):.1f} ms; "
                      f"displayed {fps:.1f} fps ({len(drawn)} frames)")
                snapshot = kiosk.pipeline.snapshot()
                print(f"  pipeline meanwhile: processed {snapshot.processed_fps} fps, capture->published "
                      f"p50 {snapshot.latency_ms.p50} ms")

        finally:
            kiosk.stop()
            camera.unplug()
