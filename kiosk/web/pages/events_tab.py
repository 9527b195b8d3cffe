"""The admin page's Events tab: the record reviewed (kiosk.web.review) a page at a time, for a time range, an
outcome and a reason; the share passed and stopped per hour of the range; the same events as CSV."""
from __future__ import annotations

import functools
import sqlite3
import time
import urllib.parse
from typing import TYPE_CHECKING

import gradio as gr

from kiosk.web.pages.common import for_viewers
from kiosk.web.review import OUTCOMES, PAGE_SIZES, REASON_TEXT, REASONS, ReviewFilter, parse_time, review_page
from kiosk.web.service import KioskService

if TYPE_CHECKING:
    from kiosk.record.events import EventLog

DEFAULT_HOURS = 24


def default_since() -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() - DEFAULT_HOURS * 3600))


def events_tab(service: KioskService, events: EventLog, page: gr.Blocks) -> None:
    tr = service.texts
    with gr.Row():
        since = gr.Textbox(label=tr("from"), info=tr("local time, 2026-12-03 14:30 or 2026-12-03"),
                           elem_classes="review-from")
        until = gr.Textbox(label=tr("to"), info=tr("empty: now"), elem_classes="review-to")
        outcome = gr.Dropdown([(tr(name), name) for name in OUTCOMES], value="all", label=tr("outcome"))
        reason = gr.Dropdown([(tr(REASON_TEXT.get(name, name)), name) for name in REASONS], value="any",
                             label=tr("reason"))
        size = gr.Dropdown([str(n) for n in PAGE_SIZES], value="25", label=tr("rows per page"))
    with gr.Row():
        refresh = gr.Button(tr("Show"), variant="primary", scale=0)
        newer = gr.Button(tr("◀ newer"), scale=0, elem_classes="review-newer")
        older = gr.Button(tr("older ▶"), scale=0, elem_classes="review-older")
        where = gr.Markdown(elem_classes="review-where")
    # the page shown, and where its review began: the range's end when "to" is empty, and the newest event then
    shown = gr.State({"page": 0, "until": None, "last_id": None})
    table = gr.HTML(elem_classes="review-table")
    download = gr.Markdown()
    # the kiosk's own green and red; shares, so busy and quiet hours compare. The plot's own legend lists no
    # entries in this Gradio, so the key is written above it
    passed, stopped = tr("passed (PASS)"), tr("stopped (STOP)")
    gr.HTML(f'<div class="chart-key"><span style="color:#138a36">■</span> {passed} &nbsp; '
            f'<span style="color:#c62828">■</span> {stopped} &nbsp; {tr("share of the people of each hour")}</div>')
    chart = gr.BarPlot(x="hour", y="share", color="outcome", label=tr("people passed and stopped, share per hour"),
                       y_title=tr("share of people (%)"), x_title=tr("hour"), color_title=tr("outcome"),
                       color_map={passed: "#138a36", stopped: "#c62828"}, colors_in_legend=[passed, stopped],
                       y_lim=[0, 100], height=260, elem_classes="events-chart")

    def show(since_text: str, until_text: str, outcome_name: str, reason_name: str, rows: str, shown_now: dict,
             step: int | None):
        """The page `step` from the one shown, or the newest (step None: a new choice). Paging keeps the range's
        end and the newest event where they were, so events recorded meanwhile do not shift the pages."""
        import pandas as pd
        since_text = (since_text or "").strip() or default_since()
        until_text = (until_text or "").strip()
        try:
            if step is None or shown_now.get("last_id") is None:  # a new review: its pages are fixed here
                step, shown_now = 0, {"page": 0, "until": time.time() + 1, "last_id": events.last_id()}
            end = parse_time(until_text, "to") if until_text else shown_now["until"]
            chosen = ReviewFilter(parse_time(since_text, "from"), end, outcome_name, reason_name,
                                  max(0, shown_now["page"] + step), int(rows), shown_now["last_id"])
            reviewed = review_page(events, chosen, tr)
            hourly_counts = events.hourly_compliance(chosen.since, chosen.until)
        except ValueError as error:  # the table keeps what it shows; the line says what is wrong
            return since_text, gr.skip(), f"⚠ {error}", gr.skip(), gr.skip(), gr.skip()
        except sqlite3.Error as error:
            return (since_text, gr.skip(), tr("**The record cannot be read:** {error} (recording: {recording})",
                                              error=error, recording=service.recording()),
                    gr.skip(), gr.skip(), gr.skip())
        hourly = [(hour, outcome, round(100 * count / (passes + stops), 1)) for hour, passes, stops in hourly_counts
                  if passes + stops for outcome, count in ((passed, passes), (stopped, stops))]
        query = urllib.parse.urlencode({"since": since_text, "until": until_text, "outcome": outcome_name,
                                        "reason": reason_name})
        link = tr("[Download these {total} events as CSV, with links]", total=reviewed.total) + \
            f"(/admin/events.csv?{query})"
        return (since_text, reviewed.html, tr("page {page} of {pages}", page=reviewed.page + 1, pages=reviewed.pages),
                {"page": reviewed.page, "until": chosen.until, "last_id": chosen.last_id}, link,
                pd.DataFrame(hourly, columns=["hour", "outcome", "share"]))

    inputs = [since, until, outcome, reason, size, shown]
    outputs = [since, table, where, shown, download, chart]
    for trigger, step in ((refresh.click, None), (newer.click, -1), (older.click, 1), (page.load, None)):
        trigger(for_viewers(page, functools.partial(show, step=step)), inputs, outputs, api_visibility="private")
