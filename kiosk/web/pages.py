"""The two Gradio pages: the fullscreen kiosk screen and the admin page. They read the service; they own nothing."""
from __future__ import annotations

import html
import sqlite3
import time
from pathlib import Path
from typing import Literal, get_args, get_origin

import gradio as gr
from pydantic.fields import FieldInfo

from kiosk.config import Config, ConfigError
from kiosk.vision.image_input import UnreadableImage
from kiosk.web.service import EDITABLE, FORM, NEEDS_RESTART, SECRETS, KioskService

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
  <div class="screen-footer"><span class="gate-counts"></span><span class="privacy-notice"></span></div>
</div>
"""


def live_view(wrapper: str) -> gr.HTML:
    return gr.HTML(html_template=LIVE_HTML.replace("{wrapper}", wrapper), js_on_load=LIVE_JS, padding=False)


def kiosk_page() -> gr.Blocks:
    with gr.Blocks(title="mask-kiosk", fill_height=True, analytics_enabled=False) as page:
        live_view("kiosk-screen")
    return page


def admin_page(service: KioskService) -> gr.Blocks:
    # uploads and copies of served snapshots leave Gradio's temp folder after an hour
    with gr.Blocks(title="mask-kiosk admin", analytics_enabled=False, delete_cache=(600, 3600)) as page:
        gr.Markdown("## mask-kiosk admin  ·  [log out](/logout)")
        with gr.Tab("Live"):
            with gr.Row():
                with gr.Column(scale=3):
                    live_view("admin-live")
                with gr.Column(scale=2):
                    cards = gr.HTML(status_cards(service), elem_classes="status-cards")
            gr.Timer(1.0).tick(lambda: status_cards(service), outputs=cards, queue=False, api_visibility="private")
        with gr.Tab("Device and models"):
            gr.Markdown("\n".join(f"- {line}" for line in service.setup_lines))
        with gr.Tab("Settings"):
            settings_form(service, page)
        with gr.Tab("Check a photo"):
            photo_tab(service)
        if service.events is not None:
            with gr.Tab("Events"):
                events_tab(service, page)
    page.queue(default_concurrency_limit=service.config.web.photo_workers,
               max_size=service.config.web.photo_queue)
    return page


def _card(title: str, value: str, detail: str = "", tone: str = "") -> str:
    return (f'<div class="card {tone}"><div class="card-title">{html.escape(title)}</div>'
            f'<div class="card-value">{html.escape(value)}</div>'
            f'<div class="card-detail">{html.escape(detail)}</div></div>')


def _output_card(gate: dict) -> str:
    if gate["mode"] == "off":
        return _card("gate output", "off", "gate.mode in Settings")
    failing = [o for o in gate["outputs"] if o["last_error"]]
    detail = "; ".join(f"{o['backend']}: {o['sent']} sent, {o['failures']} failed, {o['expired']} too late" +
                       (f" ({o['last_error']})" if o["last_error"] else "")
                       for o in gate["outputs"]) or "no backend set"
    value = f"{gate['mode']}: {'released' if gate['released'] else 'held'}"
    if gate["fault"]:
        detail = f"fail state ({gate['fault']}); " + detail
    return _card("gate output", value, detail, "bad" if failing or gate["fault"] else "")


def _mqtt_card(mqtt: dict | None) -> str:
    if mqtt is None:
        return _card("MQTT", "off", "mqtt.host in Settings")
    detail = f"{mqtt['broker']}; {mqtt['sent_events']} events sent, {mqtt['unsent_events']} waiting"
    if mqtt["last_error"]:
        detail += f" ({mqtt['last_error']})"
    return _card("MQTT", "connected" if mqtt["connected"] else "not connected", detail,
                 "" if mqtt["connected"] else "bad")


def status_cards(service: KioskService) -> str:
    """The Live tab's cards: the gate, the pipeline, today's counts, recording and the outputs."""
    snapshot = service.pipeline.snapshot()
    today = service.counts.today()
    compliance = "–" if today["compliance"] is None else f"{today['compliance'] * 100:.0f}%"
    healthy, reason = service.pipeline.health()
    recording = service.recording()
    outputs = service.outputs.status()
    cards = [
        _card("gate", snapshot["state"], "healthy" if healthy else reason, f"state-{snapshot['state']}"),
        _card("passed today", str(today["passed"])),
        _card("stopped today", str(today["stopped"])),
        _card("masked", compliance, "passed / (passed + stopped)"),
        _card("frames", f"{snapshot['processed_fps']:.1f} fps",
              f"camera {snapshot['capture_fps']:.1f} fps; latency p50 {snapshot['latency_ms']['p50']:.0f} ms, "
              f"p95 {snapshot['latency_ms']['p95']:.0f} ms"),
        _card("recording", recording.split(":")[0], recording if recording.startswith("failed") else "",
              "bad" if recording.startswith("failed") else ""),
        _output_card(outputs["gate"]),
        _mqtt_card(outputs["mqtt"]),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


LANGUAGE_NAMES = {"en": "English", "zh": "简体中文"}


def field_info(section: str, key: str) -> FieldInfo:
    return Config.model_fields[section].annotation.model_fields[key]


def field_label(section: str, key: str) -> str:
    """The field's title from the schema (the admin reads labels, not keys)."""
    return field_info(section, key).title + (" (applies after a restart)" if (section, key) in NEEDS_RESTART else "")


def settings_component(section: str, key: str) -> gr.components.Component:
    """An input for one config field, built from its schema: label, help, bounds, choices."""
    info = field_info(section, key)
    label, help_text = field_label(section, key), info.description
    bound = {name: getattr(m, name) for m in info.metadata for name in ("ge", "le") if hasattr(m, name)}
    if get_origin(info.annotation) is Literal:
        choices = [(LANGUAGE_NAMES.get(c, c), c) for c in get_args(info.annotation)]
        return gr.Dropdown(choices, label=label, info=help_text)
    if info.annotation is bool:
        return gr.Checkbox(label=label, info=help_text)
    if info.annotation in (int, float):
        return gr.Number(label=label, info=help_text, minimum=bound.get("ge"), maximum=bound.get("le"),
                         precision=0 if info.annotation is int else None)
    if (section, key) in SECRETS:
        return gr.Textbox(label=label, info=help_text + " (left empty: unchanged)", type="password")
    return gr.Textbox(label=label, info=help_text)


def readable(error: ConfigError) -> str:
    """'section.key: reason' with the field's label in place of the key."""
    dotted, _, reason = str(error).partition(": ")
    section, _, key = dotted.partition(".")
    if (section, key) in EDITABLE:
        return f"{field_label(section, key)}: {reason}"
    return str(error)


def settings_form(service: KioskService, page: gr.Blocks) -> None:
    fields: dict[str, gr.components.Component] = {}
    override = gr.Markdown()
    headings = list(FORM)
    for row in range(0, len(headings), 3):
        with gr.Row():
            for heading in headings[row:row + 3]:
                with gr.Column():
                    gr.Markdown(f"**{heading}**")
                    for section, key in FORM[heading]:
                        fields[f"{section}.{key}"] = settings_component(section, key)
    save = gr.Button("Save settings", variant="primary")
    result = gr.Markdown()
    names = list(fields)

    def current_values():
        """Each time the page opens: the values as saved now, not as they were when the page was built."""
        values = service.settings()
        note = (f"The camera is `{service.source_override}` (started with `--source`) until you change the "
                "camera source here." if service.source_override else "")
        problem = service.current().settings_problem
        if problem:
            note += f"\n\n**Saved settings were set aside:** {problem}"
        return [note, *(values[name] for name in names)]

    def save_settings(*values):
        changes = {}
        for name, value in zip(names, values):
            if isinstance(value, float) and value.is_integer() and field_info(*name.split(".")).annotation is int:
                value = int(value)
            changes[name] = value
        try:
            return service.apply_settings(changes)
        except ConfigError as error:
            return f"Not saved: {readable(error)}"

    page.load(current_values, outputs=[override, *fields.values()], api_visibility="private")
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
            data = Path(path).read_bytes()
            Path(path).unlink(missing_ok=True)  # the upload is not kept
            image = service.photos.decode(data)
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
