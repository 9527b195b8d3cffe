"""The admin page's Events tab: the record with its snapshots, the share passed and stopped per hour, CSV."""
from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

import gradio as gr

from kiosk.web.service import KioskService

if TYPE_CHECKING:
    from kiosk.record.events import EventLog

EVENT_STATES = ["all", "STOP", "PASS", "CHECKING", "NO_FACE"]
MAX_HOURS = 24 * 365
HOURS_HELP = f"1 to {MAX_HOURS}"
GALLERY_SIZE = 24


def events_tab(service: KioskService, events: EventLog, page: gr.Blocks) -> None:
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
    table = gr.Dataframe(headers=["time", "state", "reason", "faces", "masked", "unmasked", "incorrect"],
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
        table_rows = [[time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.ts)), r.state, r.reason or "", r.faces,
                       r.masked, r.unmasked, r.incorrect] for r in rows]
        pictures = [(str(events.snapshots / r.snapshot), f"{r.state} {row[0]}")
                    for r, row in zip(rows, table_rows) if r.snapshot][:GALLERY_SIZE]
        hourly = [(hour, outcome, round(100 * count / (passes + stops), 1)) for hour, passes, stops in hourly_counts
                  if passes + stops for outcome, count in (("passed (PASS)", passes), ("stopped (STOP)", stops))]
        link = f"[Download these events as CSV](/admin/events.csv?hours={float(last_hours):g}&state={chosen or ''})"
        return (link, pd.DataFrame(hourly, columns=["hour", "outcome", "share"]), table_rows, pictures,
                gr.update(info=HOURS_HELP, elem_classes=""))

    outputs = [download, chart, table, gallery, hours]
    refresh.click(show, [state, hours], outputs, api_visibility="private")
    page.load(show, [state, hours], outputs, api_visibility="private")
