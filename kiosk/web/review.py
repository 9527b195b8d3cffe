"""The record reviewed: the events of a time range, an outcome and a reason, newest first, a page at a time, as an
HTML table with a thumbnail per row that opens to the event's page (its picture and facts); the same events as CSV
whose links open in the admin's browser after login.

No Gradio here: the Events tab, the routes of kiosk.web.app and `mask-kiosk bench review` share it. Every text
from the record is escaped.
"""
from __future__ import annotations

import csv
import datetime
import html
import io
import time
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.record.events import CAMERA_LOST, CAMERA_RESTORED, OVERRIDE, Event, EventLog
from kiosk.web.i18n import ENGLISH, Texts

OUTCOMES: dict[str, tuple[str, ...] | None] = {"all": None, "STOP": ("STOP",), "PASS": ("PASS",),
                                               "override": (OVERRIDE,), "camera": (CAMERA_LOST, CAMERA_RESTORED)}
REASONS = ("any", "no_mask", "incorrect", "mask")
PAGE_SIZES = (10, 25, 50, 100)
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d")
SHOWN = {"PASS": "PASS", "STOP": "STOP", CAMERA_LOST: "camera lost", CAMERA_RESTORED: "camera back",
         OVERRIDE: "staff override"}
REASON_TEXT = {"mask": "mask", "no_mask": "no mask", "incorrect": "mask worn wrongly"}
THUMB_QUALITY = 80


def parse_time(text: str, field: str) -> float:
    """Local time "YYYY-MM-DD HH:MM" or "YYYY-MM-DD" as Unix time; ValueError naming the field otherwise."""
    for layout in TIME_FORMATS:
        try:
            return datetime.datetime.strptime(text.strip(), layout).timestamp()
        except ValueError:
            continue
    raise ValueError(f"{field}: {text!r} is not a time like 2026-12-03 14:30")


def format_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


@dataclass(frozen=True)
class ReviewFilter:
    since: float
    until: float
    outcome: str = "all"
    reason: str = "any"
    page: int = 0      # 0: the newest
    size: int = 25
    last_id: int | None = None  # the newest event when the review began: later ones would shift its pages

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome: one of {', '.join(OUTCOMES)}, not {self.outcome!r}")
        if self.reason not in REASONS:
            raise ValueError(f"reason: one of {', '.join(REASONS)}, not {self.reason!r}")
        if self.size not in PAGE_SIZES:
            raise ValueError(f"rows per page: one of {', '.join(map(str, PAGE_SIZES))}, not {self.size!r}")
        if self.until <= self.since:
            raise ValueError("to: must be after from")

    def rows(self, events: EventLog, offset: int, limit: int) -> tuple[list[Event], int]:
        return events.page(self.since, self.until, OUTCOMES[self.outcome],
                           None if self.reason == "any" else self.reason, offset, limit, self.last_id)


@dataclass(frozen=True)
class ReviewPage:
    events: list[Event]
    total: int
    page: int
    pages: int
    html: str


def review_page(events: EventLog, chosen: ReviewFilter, texts: Texts = ENGLISH) -> ReviewPage:
    """One page of the chosen events (a page past the last shows the last), rendered."""
    rows, total = chosen.rows(events, chosen.page * chosen.size, chosen.size)
    pages = max(1, -(-total // chosen.size))
    page = chosen.page
    if page >= pages:
        page = pages - 1
        rows, total = chosen.rows(events, page * chosen.size, chosen.size)
    return ReviewPage(rows, total, page, pages, render(rows, total, page, chosen.size, texts))


def describe(event: Event, texts: Texts) -> tuple[str, str, str, str]:
    """(outcome, reason, people, time to verdict) as the review shows them."""
    reason = texts(REASON_TEXT[event.reason]) if event.reason in REASON_TEXT else event.reason or ""
    if event.state == OVERRIDE:
        reason = texts("by {actor} ({via})", actor=event.actor, via=event.reason)
    people = "" if event.people is None else str(event.people)
    seconds = "" if event.seconds is None else f"{event.seconds:.1f} s"
    return texts(SHOWN.get(event.state, event.state)), reason, people, seconds


def render(rows: list[Event], total: int, page: int, size: int, texts: Texts = ENGLISH) -> str:
    if not rows:
        return f'<p class="review-empty">{texts("No events in this range.")}</p>'
    first = page * size + 1
    heads = "".join(f"<th>{texts(name)}</th>" for name in ("picture", "time", "outcome", "reason", "people",
                                                            "time to verdict"))
    count = texts("Events {first}–{last} of {total}, newest first", first=first, last=first + len(rows) - 1,
                  total=total)
    lines = [f'<p class="review-count">{count}</p>', f'<table class="review"><thead><tr>{heads}</tr></thead><tbody>']
    for event in rows:
        outcome, reason, people, seconds = describe(event, texts)
        link = f"/admin/events/{event.id}"
        alt = html.escape(texts("event {id}", id=event.id))
        picture = (f'<a href="{link}" target="_blank"><img src="{link}/thumb.jpg" alt="{alt}" '
                   'loading="lazy" width="96" height="72"></a>') if event.snapshot else ""
        if event.clip:
            picture += f'<a class="review-clip" href="{link}" target="_blank">{texts("▶ clip")}</a>'

        lines.append(f'<tr class="review-row state-{html.escape(event.state)}" data-event="{event.id}">'
                     f'<td>{picture}</td><td><a href="{link}" target="_blank">{format_time(event.ts)}</a></td>'
                     f'<td>{html.escape(outcome)}</td><td>{html.escape(reason)}</td><td>{people}</td>'
                     f'<td>{seconds}</td></tr>')
    lines.append("</tbody></table>")
    return "".join(lines)


EVENT_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>mask-kiosk {alt}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,"DejaVu Sans",sans-serif;margin:16px;background:#f5f5f5;color:#111}}
img,video{{max-width:100%;height:auto;display:block;margin:12px 0}}
dl{{display:grid;grid-template-columns:max-content auto;gap:4px 16px}}dt{{font-weight:700}}</style></head><body>
<h1>{outcome} · {time}</h1>{picture}<dl>{facts}</dl></body></html>"""


def event_page(event: Event, texts: Texts = ENGLISH) -> str:
    """The event's own page: its picture large and what the record says."""
    outcome, reason, people, seconds = describe(event, texts)
    alt = html.escape(texts("event {id}", id=event.id))
    missing = "No picture: the quota or the retention removed it, or none is kept for this kind of event."
    picture = (f'<img class="event-picture" src="/admin/events/{event.id}.jpg" alt="{alt}">' if event.snapshot else
               f"<p>{texts(missing)}</p>")
    if event.clip:  # the moments before and after, as recorded (faces pixelated when the privacy setting is on)
        picture += (f'<video class="event-clip" src="/admin/events/{event.id}.webm" controls muted playsinline '
                    'preload="auto"></video>')
    before = texts(event.previous) if event.previous else ""
    facts = [("outcome", outcome), ("reason", reason), ("people", people), ("time to verdict", seconds),
             ("faces in the picture", str(event.faces)), ("before", before), ("event", str(event.id))]
    return EVENT_PAGE.format(lang=texts.language, alt=alt, outcome=html.escape(outcome),
                             time=format_time(event.ts), picture=picture,
                             facts="".join(f"<dt>{texts(name)}</dt><dd>{html.escape(value)}</dd>"
                                           for name, value in facts if value))


def thumbnail(jpeg: bytes) -> bytes:
    """A quarter-size copy, decoded at that size (libjpeg's scaled decode: no full-size pass)."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_REDUCED_COLOR_4)
    if image is None:
        raise ValueError("the snapshot does not decode")
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY])[1].tobytes()


CSV_COLUMNS = ("time", "outcome", "reason", "people", "seconds to verdict", "faces", "masked", "unmasked",
               "incorrect", "event", "link", "picture", "clip")


def events_csv(events: EventLog, chosen: ReviewFilter, base_url: str) -> str:
    """Every chosen event, oldest first, with the links of its page and picture on this kiosk (they open in a
    browser logged in to the admin page; a pruned picture has none)."""
    rows, _ = chosen.rows(events, 0, 10_000_000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    base = base_url.rstrip("/")
    for event in reversed(rows):
        link = f"{base}/admin/events/{event.id}"
        writer.writerow([format_time(event.ts), event.state, event.reason or "", event.people or "",
                         "" if event.seconds is None else event.seconds, event.faces, event.masked, event.unmasked,
                         event.incorrect, event.id, link, f"{link}.jpg" if event.snapshot else "",
                         f"{link}.webm" if event.clip else ""])
    return out.getvalue()
