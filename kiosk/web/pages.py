"""The two Gradio pages: the fullscreen kiosk screen and the admin page. They read the service; they own nothing."""
from __future__ import annotations

import html
import sqlite3
import time
from pathlib import Path
from typing import Literal, get_args, get_origin

import cv2
import gradio as gr
import numpy as np
from pydantic.fields import FieldInfo

from kiosk.config import Config, ConfigError
from kiosk.vision.image_input import UnreadableImage
from kiosk.web.auth import SESSION_COOKIE
from kiosk.web.photo_check import give_back_memory
from kiosk.web.service import EDITABLE, FORM, SECRETS, KioskService, field_label

WEB_DIR = Path(__file__).parent
LIVE_JS = (WEB_DIR / "live.js").read_text(encoding="utf-8")
LIVE_CSS = (WEB_DIR / "live.css").read_text(encoding="utf-8")
KIOSK_CSS = LIVE_CSS + (WEB_DIR / "kiosk.css").read_text(encoding="utf-8")
# system fonts only: nothing is fetched, not even Gradio's bundled web fonts
def system_font_theme() -> gr.themes.Default:
    return gr.themes.Default(font=["system-ui", "Noto Sans CJK SC", "DejaVu Sans", "sans-serif"],
                             font_mono=["DejaVu Sans Mono", "monospace"])


THEME = system_font_theme()
# the kiosk screen's page background is black before any of its own styles load (Gradio paints the theme's);
# a theme of its own, as set() changes the theme it is called on
KIOSK_THEME = system_font_theme().set(body_background_fill="#000", body_background_fill_dark="#000")

LIVE_HTML = """
<div class="{wrapper}">
  <div class="video-area"><canvas class="live-video" width="640" height="480"></canvas></div>
  <div class="gate-banner state-DISCONNECTED"><div class="gate-title"></div><div class="gate-detail"></div></div>
  <div class="screen-footer"><span class="gate-counts"></span><span class="privacy-notice"></span></div>
</div>
"""


def live_view(wrapper: str) -> gr.HTML:
    return gr.HTML(html_template=LIVE_HTML.replace("{wrapper}", wrapper), js_on_load=LIVE_JS, padding=False)


# the kiosk screen is black with its banner from the first paint (before Gradio's own styles and app load), and
# shows no cursor; live.js marks the body ready and the boot screen gives way
BOOT_TEXT = {"en": ("WELCOME", "Connecting…"), "zh": ("欢迎", "正在连接…")}
BOOT_HEAD = """<style>
html, body {{ background: #000 !important; cursor: none !important; }}
* {{ cursor: none !important; }}
body::before {{ content: ""; position: fixed; inset: 0; background: #000; z-index: 10000; }}
body::after {{ content: "{title}\\A {detail}"; white-space: pre; position: fixed; left: 0; right: 0; bottom: 0;
  height: 24vh; z-index: 10001; display: flex; align-items: center; justify-content: center; text-align: center;
  background: #263238; color: #fff; font: 800 clamp(32px, min(11vh, 6.5vw), 180px)/1.2 system-ui, "Noto Sans CJK SC",
  "DejaVu Sans", sans-serif; }}
body.kiosk-ready::before, body.kiosk-ready::after {{ display: none; }}
</style><script>window.kioskLanguage = "{language}";</script>"""


def kiosk_head(language: str) -> str:
    title, detail = BOOT_TEXT[language]
    return BOOT_HEAD.format(title=title, detail=detail, language=language)


def kiosk_page() -> gr.Blocks:
    with gr.Blocks(title="mask-kiosk", fill_height=True, analytics_enabled=False) as page:
        live_view("kiosk-screen")
    return page


def admin_page(service: KioskService) -> gr.Blocks:
    # uploads and copies of served snapshots leave Gradio's temp folder after 5 minutes (checked every minute)
    with gr.Blocks(title="mask-kiosk admin", analytics_enabled=False, delete_cache=(60, 300)) as page:
        with gr.Row(elem_classes="admin-header"):
            gr.Markdown("## mask-kiosk admin")
            # in this tab, not a new one: the page (and its live view) ends and the login page takes its place
            gr.Button("log out", size="sm", variant="secondary", scale=0, elem_classes="log-out").click(
                None, js="() => { window.location.assign('/logout'); }")
        with gr.Tab("Live"):
            with gr.Row():
                with gr.Column(scale=3):
                    live_view("admin-live")
                with gr.Column(scale=2):
                    # no figures until the real ones arrive: the page is built once, long before it is opened
                    cards = gr.HTML(CARDS_LOADING, elem_classes="status-cards")
            page.load(lambda: status_cards(service), outputs=cards, queue=False, api_visibility="private")
            gr.Timer(1.0).tick(lambda: status_cards(service), outputs=cards, queue=False, api_visibility="private")
        if service.events is not None:
            with gr.Tab("Events"):
                events_tab(service, page)
        with gr.Tab("Check a photo"):
            photo_tab(service)
        with gr.Tab("Settings"):
            settings_form(service, page)
        with gr.Tab("Entry zone"):
            zone_tab(service, page)
        with gr.Tab("Password"):
            account_tab(service)
        with gr.Tab("Device and models"):
            gr.Markdown("\n".join(f"- {line}" for line in service.setup_lines))
    page.queue(default_concurrency_limit=service.config.web.photo_workers,
               max_size=service.config.web.photo_queue)
    return page


CARDS_LOADING = '<div class="cards cards-loading">loading the kiosk\'s state…</div>'


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


def field_help(section: str, key: str) -> str:
    """The field's description, with its bounds (from the schema) and what an empty secret means."""
    info = field_info(section, key)
    bound = {name: getattr(m, name) for m in info.metadata for name in ("ge", "le") if hasattr(m, name)}
    help_text = info.description
    if len(bound) == 2:
        help_text += f" ({bound['ge']:g} to {bound['le']:g})"
    return help_text + " (left empty: unchanged)" if (section, key) in SECRETS else help_text


def settings_component(section: str, key: str, value: object) -> gr.components.Component:
    """An input for one config field, built from its schema: label, help, bounds, choices; `value` until the page's
    load event fills in the values saved by then."""
    info = field_info(section, key)
    common = {"label": field_label(section, key), "info": field_help(section, key), "value": value}
    if get_origin(info.annotation) is Literal:
        choices = [(LANGUAGE_NAMES.get(c, c), c) for c in get_args(info.annotation)]
        return gr.Dropdown(choices, **common)
    if info.annotation is bool:
        return gr.Checkbox(**common)
    if info.annotation in (int, float):
        # no minimum or maximum here: Gradio would refuse the whole form for one value; the schema checks it and
        # the error is shown at its field
        return gr.Number(precision=0 if info.annotation is int else None, **common)
    if (section, key) in SECRETS:
        return gr.Textbox(type="password", **common)
    return gr.Textbox(**common)


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
    saved = service.settings()
    for row in range(0, len(headings), 3):
        with gr.Row():
            for heading in headings[row:row + 3]:
                with gr.Column():
                    gr.Markdown(f"**{heading}**")
                    for section, key in FORM[heading]:
                        fields[f"{section}.{key}"] = settings_component(section, key, saved[f"{section}.{key}"])
    save = gr.Button("Save settings", variant="primary")
    result = gr.Markdown(elem_classes="settings-result")
    with gr.Row():
        gr.Markdown("[Export these settings](/admin/settings.toml) (a TOML file, without passwords)")
        importer = gr.File(label="Import settings (a file exported here)", file_types=[".toml"], type="filepath",
                           elem_classes="settings-import")
    names = list(fields)

    def current_values():
        """Each time the page opens: the values as saved now, not as they were when the page was built; a field
        still at its built value is not sent again (nor overwrites what the admin may already be typing)."""
        values = service.settings()
        note = (f"The camera is `{service.source_override}` (started with `--source`) until you change the "
                "camera source here." if service.source_override else "")
        problem = service.current().settings_problem
        if problem:
            note += f"\n\n**Saved settings were set aside:** {problem}"
        return [note, *(gr.skip() if values[name] == saved[name] else values[name] for name in names)]

    def marked(message: str, error: ConfigError | None = None) -> list:
        """The message, and each field's help, or for the field at fault its error in the help's place."""
        dotted = str(error).partition(": ")[0] if error else ""
        updates = []
        for name in names:
            help_text = field_help(*name.split("."))
            if name == dotted:
                updates.append(gr.update(info=f"⚠ {str(error).partition(': ')[2]}", elem_classes="field-error"))
            else:
                updates.append(gr.update(info=help_text, elem_classes=""))
        return [message, *updates]

    def save_settings(*values):
        changes = {}
        for name, value in zip(names, values):
            if isinstance(value, float) and value.is_integer() and field_info(*name.split(".")).annotation is int:
                value = int(value)
            changes[name] = value
        try:
            return marked(service.apply_settings(changes))
        except ConfigError as error:
            return marked(f"Not saved: {readable(error)}", error)

    def import_settings(path: str | None):
        if not path:
            return [gr.skip()] * (len(names) + 2)
        try:
            message = service.import_settings(Path(path).read_bytes())
        except (ConfigError, OSError) as error:
            message = f"Not imported, nothing changed: {readable(error) if isinstance(error, ConfigError) else error}"
        values = service.settings()
        return [f"Import: {message}", *(values[name] for name in names), None]

    page.load(current_values, outputs=[override, *fields.values()], api_visibility="private")
    save.click(save_settings, list(fields.values()), [result, *fields.values()], api_name="save_settings")
    importer.upload(import_settings, importer, [result, *fields.values(), importer], api_visibility="private")


def account_tab(service: KioskService) -> None:
    gr.Markdown("Change the admin password. It is in force at once; the old one stops working.")
    with gr.Column(elem_classes="account-form"):
        current = gr.Textbox(label="current password", type="password")
        new = gr.Textbox(label="new password (at least 8 characters)", type="password")
        again = gr.Textbox(label="new password again", type="password")
        change = gr.Button("Change password", variant="primary")
        result = gr.Markdown(elem_classes="password-result")

    def change_password(old: str, first: str, second: str, request: gr.Request):
        client = request.client.host if request.client else "unknown"
        session = request.cookies.get(SESSION_COOKIE)
        return service.change_password(client, session, old or "", first or "", second or ""), "", "", ""

    change.click(change_password, [current, new, again], [result, current, new, again], api_visibility="private")


ZONE_COLOUR = (255, 200, 0)  # RGB: the zone on the still, apart from the gate's green, red and amber


def zone_still(service: KioskService, zone: list[float]) -> np.ndarray | None:
    """The newest live picture (RGB) with the zone drawn on it; None before the first frame."""
    latest = service.pipeline.broadcast.latest()
    if latest is None:
        return None
    image = cv2.cvtColor(cv2.imdecode(np.frombuffer(latest.jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v * size)) for v, size in zip(zone, (width, height, width, height)))
    shade = image.copy()
    shade[:] = (shade * 0.45).astype(np.uint8)
    shade[y1:y2, x1:x2] = image[y1:y2, x1:x2]  # outside the zone dimmed
    cv2.rectangle(shade, (x1, y1), (max(x1, x2 - 1), max(y1, y2 - 1)), ZONE_COLOUR, max(2, height // 160))
    return shade


def zone_tab(service: KioskService, page: gr.Blocks) -> None:
    gr.Markdown("Faces outside the entry zone are ignored. Click two opposite corners on the picture, then save. "
                "The picture is a still of the camera; *New still* takes another.")
    with gr.Row():
        refresh = gr.Button("New still")
        whole = gr.Button("Whole picture")
        save = gr.Button("Save zone", variant="primary")
    still = gr.Image(label="entry zone", interactive=False, format="jpeg", elem_classes="zone-still")
    status = gr.Markdown(elem_classes="zone-status")
    zone = gr.State()       # the zone shown: [x1, y1, x2, y2] fractions
    corner = gr.State()     # the first corner clicked, waiting for the second

    def show_saved():
        saved = list(service.current().decision.zone)
        return zone_still(service, saved), saved, None, f"Saved zone: {zone_text(saved)}"

    def clicked(current: list[float] | None, first: list[float] | None, event: gr.SelectData):
        latest = service.pipeline.broadcast.latest()
        if latest is None:
            return gr.skip(), current, None, "No picture yet: the camera delivers no frames."
        image = cv2.imdecode(np.frombuffer(latest.jpeg, np.uint8), cv2.IMREAD_COLOR)
        point = [event.index[0] / image.shape[1], event.index[1] / image.shape[0]]
        if first is None:
            return gr.skip(), current, point, "Now click the opposite corner."
        x1, x2 = sorted((first[0], point[0]))
        y1, y2 = sorted((first[1], point[1]))
        if x2 - x1 < 0.05 or y2 - y1 < 0.05:
            return gr.skip(), current, None, "Too small: click two corners further apart."
        chosen = [round(max(0.0, x1), 3), round(max(0.0, y1), 3), round(min(1.0, x2), 3), round(min(1.0, y2), 3)]
        return zone_still(service, chosen), chosen, None, f"New zone {zone_text(chosen)}: not saved yet."

    def whole_picture():
        return zone_still(service, [0.0, 0.0, 1.0, 1.0]), [0.0, 0.0, 1.0, 1.0], None, "Whole picture: not saved yet."

    def save_zone(chosen: list[float] | None):
        chosen = chosen or list(service.current().decision.zone)
        try:
            message = service.apply_settings({"decision.zone": chosen})
        except ConfigError as error:
            message = f"Not saved: {readable(error)}"
        return zone_still(service, chosen), message

    page.load(show_saved, outputs=[still, zone, corner, status], api_visibility="private")
    refresh.click(lambda chosen: zone_still(service, chosen or list(service.current().decision.zone)), zone, still,
                  api_visibility="private")
    still.select(clicked, [zone, corner], [still, zone, corner, status], api_visibility="private")
    whole.click(whole_picture, outputs=[still, zone, corner, status], api_visibility="private")
    save.click(save_zone, zone, [still, status], api_visibility="private")


def zone_text(zone: list[float]) -> str:
    x1, y1, x2, y2 = zone
    return f"{x1:.0%}–{x2:.0%} across, {y1:.0%}–{y2:.0%} down"


DISMISS_NOTICES = "(...inputs) => { document.querySelectorAll('.toast-close').forEach(b => b.click()); return inputs; }"


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
        image = None
        yield f"Reading {name}…", gr.skip(), gr.skip(), gr.skip()
        try:
            # not deleted here: Gradio stores uploads by content, so the same photo sent twice at once is one file
            # that both requests read; delete_cache removes uploads within minutes
            data = Path(path).read_bytes()
            result = service.photos.cached(data)
            if result is None:
                image = service.photos.decode(data)
        except (UnreadableImage, OSError) as error:
            yield f"**Error:** {name}: {error}", None, None, None
            return
        if result is None:
            yield f"Looking for faces in {name} ({image.shape[1]}x{image.shape[0]})…", gr.skip(), gr.skip(), gr.skip()
            result = service.photos.analyse(data, image, name)
        took = (time.perf_counter() - started) * 1000
        source = "served from cache" if result.cached else "analysed"
        yield (f"{name}: {result.summary}. {source} in {took:.0f} ms",
               str(result.picture), {**result.report, "cached": result.cached}, None)
        del data, image  # the photo's pixels: freed now, and given back to the system
        give_back_memory()

    # a new photo clears what the previous one left on screen (Gradio's notice of a file too large)
    upload.upload(check_photo, upload, [status, annotated, report, upload], api_name="check_photo",
                  js=DISMISS_NOTICES)


EVENT_STATES = ["all", "STOP", "PASS", "CHECKING", "NO_FACE"]
MAX_HOURS = 24 * 365
HOURS_HELP = f"1 to {MAX_HOURS}"
GALLERY_SIZE = 24


def events_tab(service: KioskService, page: gr.Blocks) -> None:
    events = service.events
    with gr.Row():
        state = gr.Dropdown(EVENT_STATES, value="all", label="state")
        hours = gr.Number(24, label="last hours", info=HOURS_HELP)  # checked below, the message at the field
        refresh = gr.Button("Refresh")
    download = gr.Markdown()
    # the kiosk's own green and red; shares, so busy and quiet hours compare. The plot's own legend lists no
    # entries in this Gradio, so the key is written above it
    gr.HTML('<div class="chart-key"><span style="color:#138a36">■</span> passed (PASS) &nbsp; '
            '<span style="color:#c62828">■</span> stopped (STOP) &nbsp; share of the people of each hour</div>')
    chart = gr.BarPlot(x="hour", y="share", color="outcome", label="people passed and stopped, share per hour",
                       y_title="share of people (%)", x_title="hour", color_title="outcome",
                       color_map={"passed (PASS)": "#138a36", "stopped (STOP)": "#c62828"},
                       colors_in_legend=["passed (PASS)", "stopped (STOP)"], y_lim=[0, 100], height=260,
                       elem_classes="events-chart")
    table = gr.Dataframe(headers=["time", "state", "faces", "masked", "unmasked", "incorrect"],
                         label="events, newest first", interactive=False, max_height=320)
    gallery = gr.Gallery(label=f"snapshots (newest {GALLERY_SIZE})", columns=6, height=260,
                         elem_classes="events-gallery")

    def show(state_filter: str, last_hours: float | None):
        import pandas as pd
        if last_hours is None or not 1 <= last_hours <= MAX_HOURS:
            # the table and chart keep what they show; only the field says what is wrong
            return (gr.skip(), gr.skip(), gr.skip(), gr.skip(),
                    gr.update(info=f"⚠ between 1 and {MAX_HOURS} (a year)", elem_classes="field-error"))
        since = time.time() - float(last_hours) * 3600
        chosen = None if state_filter == "all" else state_filter
        try:
            rows = events.query(since, chosen)
            hourly_counts = events.hourly_compliance(since)
        except sqlite3.Error as error:
            return (f"**The record cannot be read:** {error} (recording: {service.recording()})", None, [], [],
                    gr.update(info=HOURS_HELP, elem_classes=""))
        table_rows = [[time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["ts"])), r["state"], r["faces"],
                       r["masked"], r["unmasked"], r["incorrect"]] for r in rows]
        pictures = [(str(events.snapshots / r["snapshot"]), f"{r['state']} {row[0]}")
                    for r, row in zip(rows, table_rows) if r["snapshot"]][:GALLERY_SIZE]
        hourly = [(hour, outcome, round(100 * count / (passes + stops), 1)) for hour, passes, stops in hourly_counts
                  if passes + stops for outcome, count in (("passed (PASS)", passes), ("stopped (STOP)", stops))]
        link = f"[Download these events as CSV](/admin/events.csv?hours={float(last_hours):g}&state={chosen or ''})"
        return (link, pd.DataFrame(hourly, columns=["hour", "outcome", "share"]), table_rows, pictures,
                gr.update(info=HOURS_HELP, elem_classes=""))

    outputs = [download, chart, table, gallery, hours]
    refresh.click(show, [state, hours], outputs, api_visibility="private")
    page.load(show, [state, hours], outputs, api_visibility="private")
