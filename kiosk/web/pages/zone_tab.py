"""The admin page's Entry zone tab: two corners clicked on a still of the live picture."""
from __future__ import annotations

import cv2
import gradio as gr
import numpy as np

from kiosk.config import ConfigError
from kiosk.web.auth import SESSION_COOKIE
from kiosk.web.i18n import Texts
from kiosk.web.pages.common import for_viewers
from kiosk.web.pages.settings_tab import readable
from kiosk.web.service import KioskService

ZONE_COLOUR = (255, 200, 0)  # RGB: the zone on the still, apart from the gate's green, red and amber


def live_still(service: KioskService) -> np.ndarray | None:
    """The newest live picture as the screen shows it (BGR, display-sized); None before the first frame."""
    latest = service.pipeline.broadcast.latest()
    return None if latest is None else cv2.imdecode(np.frombuffer(latest.jpeg, np.uint8), cv2.IMREAD_COLOR)


def zone_still(service: KioskService, zone: list[float]) -> np.ndarray | None:
    """The newest live picture (RGB) with the zone drawn on it; None before the first frame."""
    still = live_still(service)
    if still is None:
        return None
    image = cv2.cvtColor(still, cv2.COLOR_BGR2RGB)
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v * size)) for v, size in zip(zone, (width, height, width, height)))
    shade = image.copy()
    shade[:] = (shade * 0.45).astype(np.uint8)
    shade[y1:y2, x1:x2] = image[y1:y2, x1:x2]  # outside the zone dimmed
    cv2.rectangle(shade, (x1, y1), (max(x1, x2 - 1), max(y1, y2 - 1)), ZONE_COLOUR, max(2, height // 160))
    return shade


def zone_tab(service: KioskService, page: gr.Blocks) -> None:
    tr = service.texts
    gr.Markdown(tr("Faces outside the entry zone are ignored. Click two opposite corners on the picture, then save. "
                   "The picture is a still of the camera; *New still* takes another."))
    with gr.Row():
        refresh = gr.Button(tr("New still"))
        whole = gr.Button(tr("Whole picture"))
        save = gr.Button(tr("Save zone"), variant="primary")
    # no fullscreen button: Gradio labels it in English only, and the corners are clicked here
    still = gr.Image(label=tr("entry zone"), interactive=False, format="jpeg", buttons=["download"],
                     elem_classes="zone-still")
    status = gr.Markdown(elem_classes="zone-status")
    zone = gr.State()       # the zone shown: [x1, y1, x2, y2] fractions
    corner = gr.State()     # the first corner clicked, waiting for the second

    def show_saved(request: gr.Request):
        if not service.auth.is_admin(request.cookies.get(SESSION_COOKIE)):  # a viewer's page has no such tab
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        saved = list(service.current().decision.zone)
        return zone_still(service, saved), saved, None, tr("Saved zone: {zone}", zone=zone_text(tr, saved))

    def clicked(current: list[float] | None, first: list[float] | None, event: gr.SelectData):
        image = live_still(service)
        if image is None:
            return gr.skip(), current, None, tr("No picture yet: the camera delivers no frames.")
        point = [event.index[0] / image.shape[1], event.index[1] / image.shape[0]]
        if first is None:
            return gr.skip(), current, point, tr("Now click the opposite corner.")
        x1, x2 = sorted((first[0], point[0]))
        y1, y2 = sorted((first[1], point[1]))
        if x2 - x1 < 0.05 or y2 - y1 < 0.05:
            return gr.skip(), current, None, tr("Too small: click two corners further apart.")
        chosen = [round(max(0.0, x1), 3), round(max(0.0, y1), 3), round(min(1.0, x2), 3), round(min(1.0, y2), 3)]
        return (zone_still(service, chosen), chosen, None,
                tr("New zone {zone}: not saved yet.", zone=zone_text(tr, chosen)))

    def whole_picture():
        return (zone_still(service, [0.0, 0.0, 1.0, 1.0]), [0.0, 0.0, 1.0, 1.0], None,
                tr("Whole picture: not saved yet."))

    def save_zone(chosen: list[float] | None):
        chosen = chosen or list(service.current().decision.zone)
        try:
            message = service.apply_settings({"decision.zone": chosen})
        except ConfigError as error:
            message = tr("Not saved: {error}", error=readable(tr, error))
        return zone_still(service, chosen), message

    page.load(for_viewers(page, show_saved), outputs=[still, zone, corner, status], api_visibility="private")
    refresh.click(lambda chosen: zone_still(service, chosen or list(service.current().decision.zone)), zone, still,
                  api_visibility="private")
    still.select(clicked, [zone, corner], [still, zone, corner, status], api_visibility="private")
    whole.click(whole_picture, outputs=[still, zone, corner, status], api_visibility="private")
    save.click(save_zone, zone, [still, status], api_visibility="private")


def zone_text(texts: Texts, zone: list[float]) -> str:
    x1, y1, x2, y2 = zone
    return texts("{x1:.0%}–{x2:.0%} across, {y1:.0%}–{y2:.0%} down", x1=x1, y1=y1, x2=x2, y2=y2)
