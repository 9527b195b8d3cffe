"""The two Gradio pages: the fullscreen kiosk screen and the admin page. They read the service; they own nothing."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import gradio as gr

from kiosk.config import ConfigError
from kiosk.image_input import UnreadableImage
from kiosk.web.service import KioskService

WEB_DIR = Path(__file__).parent
LIVE_JS = (WEB_DIR / "live.js").read_text(encoding="utf-8")
LIVE_CSS = (WEB_DIR / "live.css").read_text(encoding="utf-8")
KIOSK_CSS = LIVE_CSS + (WEB_DIR / "kiosk.css").read_text(encoding="utf-8")
# system fonts only: nothing is fetched, not even Gradio's bundled web fonts
THEME = gr.themes.Default(font=["system-ui", "Noto Sans CJK SC", "DejaVu Sans", "sans-serif"],
                          font_mono=["DejaVu Sans Mono", "monospace"])

LIVE_HTML = """
<div class="{wrapper}">
  <div class="video-area"><canvas class="live-video" width="640" height="480"></canvas></div>
  <div class="gate-banner state-DISCONNECTED"><div class="gate-title"></div><div class="gate-detail"></div></div>
</div>
"""


def live_view(wrapper: str) -> gr.HTML:
    return gr.HTML(html_template=LIVE_HTML.replace("{wrapper}", wrapper), js_on_load=LIVE_JS, padding=False)


def kiosk_page() -> gr.Blocks:
    with gr.Blocks(title="mask-kiosk", fill_height=True, analytics_enabled=False) as page:
        live_view("kiosk-screen")
    return page


def admin_page(service: KioskService) -> gr.Blocks:
    with gr.Blocks(title="mask-kiosk admin", analytics_enabled=False) as page:
        gr.Markdown("## mask-kiosk admin  ·  [log out](/logout)")
        with gr.Tab("Live"):
            with gr.Row():
                with gr.Column(scale=3):
                    live_view("admin-live")
                with gr.Column(scale=2):
                    metrics = gr.JSON(label="pipeline (updates every second)")
            gr.Timer(1.0).tick(service.pipeline.snapshot, outputs=metrics, queue=False, api_visibility="private")
        with gr.Tab("Device and models"):
            gr.Markdown("\n".join(f"- {line}" for line in service.setup_lines))
        with gr.Tab("Settings"):
            settings_form(service)
        with gr.Tab("Check a photo"):
            photo_tab(service)
        if service.events is not None:
            with gr.Tab("Events"):
                events_tab(service, page)
    page.queue(default_concurrency_limit=service.config["web"]["photo_workers"],
               max_size=service.config["web"]["photo_queue"])
    return page


INTEGER_SETTINGS = {"camera.width", "camera.height", "display.max_width", "display.max_height", "display.jpeg_quality"}


def settings_form(service: KioskService) -> None:
    current = service.settings()
    fields: dict[str, gr.components.Component] = {}
    with gr.Row():
        with gr.Column():
            gr.Markdown("**Decision**")
            fields["detector.min_score"] = gr.Slider(0.05, 0.99, current["detector.min_score"], step=0.01,
                                                     label="face detection threshold")
            fields["decision.hold_ms"] = gr.Number(current["decision.hold_ms"], label="mask seen before PASS (ms)")
            fields["decision.switch_ms"] = gr.Number(current["decision.switch_ms"], label="state must hold (ms)")
            fields["decision.min_face_fraction"] = gr.Number(current["decision.min_face_fraction"],
                                                             label="smallest face (share of frame height)")
        with gr.Column():
            gr.Markdown("**Camera and device**")
            fields["camera.source"] = gr.Textbox(current["camera.source"], label="camera (index, /dev/v4l/by-id/…, file, URL)")
            fields["camera.width"] = gr.Number(current["camera.width"], label="width", precision=0)
            fields["camera.height"] = gr.Number(current["camera.height"], label="height", precision=0)
            fields["camera.fps"] = gr.Number(current["camera.fps"], label="fps")
            fields["runtime.device"] = gr.Dropdown(["AUTO", "CPU", "GPU"], value=current["runtime.device"],
                                                   label="inference device (applies after restart)")
        with gr.Column():
            gr.Markdown("**Screen**")
            fields["display.max_width"] = gr.Number(current["display.max_width"], label="display width", precision=0)
            fields["display.max_height"] = gr.Number(current["display.max_height"], label="display height", precision=0)
            fields["display.jpeg_quality"] = gr.Number(current["display.jpeg_quality"], label="JPEG quality", precision=0)
            fields["display.language"] = gr.Dropdown([("English", "en"), ("简体中文", "zh")],
                                                     value=current["display.language"], label="language")
    save = gr.Button("Save settings", variant="primary")
    result = gr.Markdown()
    names = list(fields)

    def save_settings(*values):
        changes = {}
        for name, value in zip(names, values):
            if name in INTEGER_SETTINGS and isinstance(value, float) and value.is_integer():
                value = int(value)
            changes[name] = value
        try:
            return service.apply_settings(changes)
        except ConfigError as error:
            return f"Not saved: {error}"

    save.click(save_settings, list(fields.values()), result, api_name="save_settings")


def photo_tab(service: KioskService) -> None:
    gr.Markdown("Upload a photo: faces are boxed green (mask), red (no mask) or amber (worn wrongly).")
    with gr.Row():
        with gr.Column():
            upload = gr.File(label="photo", file_count="single", type="filepath")
        with gr.Column():
            status = gr.Markdown(elem_classes="photo-status")
            annotated = gr.Image(label="result", format="jpeg", interactive=False, elem_classes="photo-result")
            report = gr.JSON(label="faces", elem_classes="photo-report")

    def check_photo(path: str | None):
        """Streams its progress; the upload box is emptied at the end, ready for the next photo."""
        if not path:
            yield "Choose a photo first.", gr.skip(), gr.skip(), gr.skip()
            return
        name = Path(path).name
        started = time.perf_counter()
        yield f"Reading {name}…", gr.skip(), gr.skip(), gr.skip()
        try:
            image = service.photos.decode(Path(path).read_bytes())
        except (UnreadableImage, OSError) as error:
            yield f"**Error:** {name}: {error}", None, None, None
            return
        yield f"Looking for faces in {name} ({image.shape[1]}x{image.shape[0]})…", gr.skip(), gr.skip(), gr.skip()
        result = service.photos.analyse(image, name)
        took = (time.perf_counter() - started) * 1000
        source = "served from cache" if result.cached else "analysed"
        labels = ", ".join(face["label"] or "face" for face in result.report["faces"]) or "no face found"
        yield (f"{name}: {len(result.report['faces'])} face(s): {labels}. {source} in {took:.0f} ms",
               result.annotated_rgb, {**result.report, "cached": result.cached}, None)

    upload.upload(check_photo, upload, [status, annotated, report, upload], api_name="check_photo")


EVENT_STATES = ["all", "STOP", "PASS", "CHECKING", "NO_FACE"]
GALLERY_SIZE = 24


def events_tab(service: KioskService, page: gr.Blocks) -> None:
    events = service.events
    with gr.Row():
        state = gr.Dropdown(EVENT_STATES, value="all", label="state")
        hours = gr.Number(24, label="last hours", minimum=1, maximum=24 * 365)
        refresh = gr.Button("Refresh")
    download = gr.Markdown()
    chart = gr.BarPlot(x="hour", y="events", color="outcome", label="compliance per hour (PASS vs STOP)",
                       height=260)
    table = gr.Dataframe(headers=["time", "state", "faces", "masked", "unmasked", "incorrect"],
                         label="events, newest first", interactive=False, max_height=320)
    gallery = gr.Gallery(label=f"snapshots (newest {GALLERY_SIZE})", columns=6, height=260,
                         elem_classes="events-gallery")

    def show(state_filter: str, last_hours: float):
        import pandas as pd
        since = time.time() - float(last_hours or 24) * 3600
        chosen = None if state_filter == "all" else state_filter
        try:
            rows = events.query(since, chosen)
            hourly_counts = events.hourly_compliance(since)
        except sqlite3.Error as error:
            return f"**The record cannot be read:** {error} (recording: {service.recording()})", None, [], []
        table_rows = [[time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["ts"])), r["state"], r["faces"],
                       r["masked"], r["unmasked"], r["incorrect"]] for r in rows]
        pictures = [(str(events.snapshots / r["snapshot"]), f"{r['state']} {row[0]}")
                    for r, row in zip(rows, table_rows) if r["snapshot"]][:GALLERY_SIZE]
        hourly = [(hour, outcome, count) for hour, passes, stops in hourly_counts
                  for outcome, count in (("PASS", passes), ("STOP", stops))]
        link = f"[Download these events as CSV](/admin/events.csv?hours={float(last_hours or 24):g}&state={chosen or ''})"
        return (link, pd.DataFrame(hourly, columns=["hour", "outcome", "events"]),
                table_rows, pictures)

    outputs = [download, chart, table, gallery]
    refresh.click(show, [state, hours], outputs, api_visibility="private")
    page.load(show, [state, hours], outputs, api_visibility="private")
