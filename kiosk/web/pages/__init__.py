"""The two Gradio pages: the fullscreen kiosk screen and the admin page, a module per admin tab. They read the
service; they own nothing."""
from __future__ import annotations

import json

import gradio as gr

from kiosk.types import Text
from kiosk.vision.image_input import ImageLimits
from kiosk.web.auth import SESSION_COOKIE
from kiosk.web.pages.common import KIOSK_CSS, KIOSK_THEME, LIVE_CSS, THEME, WEB_DIR, for_viewers, live_view
from kiosk.web.pages.events_tab import events_tab
from kiosk.web.pages.live_tab import live_tab
from kiosk.web.pages.password_tab import account_tab
from kiosk.web.pages.photo_tab import photo_tab
from kiosk.web.pages.settings_tab import settings_form
from kiosk.web.pages.zone_tab import zone_tab
from kiosk.web.service import KioskService

__all__ = ["KIOSK_CSS", "KIOSK_THEME", "LIVE_CSS", "THEME", "admin_head", "admin_page", "kiosk_head", "kiosk_page"]

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
    """The boot screen in the kiosk's language ("en+zh": both, as live.js shows them)."""
    texts = [BOOT_TEXT[part] for part in language.split("+")]
    title = " · ".join(title for title, _ in texts)
    detail = "\\A ".join(detail for _, detail in texts)  # a CSS content line break
    return BOOT_HEAD.format(title=title, detail=detail, language=language)


PHOTO_UPLOAD_JS = (WEB_DIR / "photo_upload.js").read_text(encoding="utf-8")


def admin_head(analysis_size: int, limits: ImageLimits) -> str:
    """The photo upload's scaling in the browser (photo_upload.js), with the sizes the kiosk analyses and refuses."""
    settings = {"size": analysis_size, "maxBytes": limits.max_bytes, "maxPixels": limits.max_pixels,
                "knownUrl": "/admin/photo/known"}
    return f"<script>window.kioskPhotoUpload = {json.dumps(settings)};\n{PHOTO_UPLOAD_JS}</script>"


def kiosk_page() -> gr.Blocks:
    with gr.Blocks(title="mask-kiosk", fill_height=True, analytics_enabled=False) as page:
        live_view("kiosk-screen")
    return page


def admin_page(service: KioskService) -> gr.Blocks:
    # uploads and copies of served snapshots leave Gradio's temp folder after 5 minutes (checked every minute)
    tr = service.texts
    with gr.Blocks(title="mask-kiosk admin", analytics_enabled=False, delete_cache=(60, 300)) as page:
        with gr.Row(elem_classes="admin-header"):
            gr.Markdown("## " + tr("mask-kiosk admin"))
            # in this tab, not a new one: the page (and its live view) ends and the login page takes its place
            gr.Button(tr("log out"), size="sm", variant="secondary", scale=0, elem_classes="log-out").click(
                None, js="() => { window.location.assign('/logout'); }")
        with gr.Tab(tr("Live"), elem_id="tab-live"):
            let_pass = live_tab(service, page)
        if service.events is not None:
            with gr.Tab(tr("Events"), elem_id="tab-events"):
                events_tab(service, service.events, page)
        with gr.Tab(tr("Check a photo"), elem_id="tab-photo") as photo:
            photo_tab(service)
        with gr.Tab(tr("Settings"), elem_id="tab-settings") as settings:
            settings_form(service, page)
        with gr.Tab(tr("Entry zone"), elem_id="tab-zone") as zone:
            zone_tab(service, page)
        with gr.Tab(tr("Password"), elem_id="tab-password") as password:
            account_tab(service)
        with gr.Tab(tr("Device and models"), elem_id="tab-device") as device:
            gr.Markdown("\n".join("- " + tr("{what}: {value}", what=Text(what), value=value)
                                   for what, value in service.setup),
                        elem_classes="device-facts")
        admin_only = [photo, settings, zone, password, device, let_pass]
        # the tab buttons themselves go by a style: this Gradio keeps a hidden tab's button in the bar
        hide_tabs = gr.HTML("", elem_classes="role-style", padding=False)

        def role_view(request: gr.Request) -> list:
            """A viewer sees the Live and Events tabs, without the override (the server refuses the rest anyway)."""
            admin = service.auth.is_admin(request.cookies.get(SESSION_COOKIE))
            buttons = ", ".join(f"#{tab.elem_id}-button" for tab in admin_only[:-1])
            style = "" if admin else f"<style>{buttons} {{ display: none !important; }}</style>"
            return [gr.update(visible=admin) for _ in admin_only] + [style]

        page.load(for_viewers(page, role_view), None, [*admin_only, hide_tabs], queue=False,
                  api_visibility="private")
    page.queue(default_concurrency_limit=service.config.web.photo_workers,
               max_size=service.config.web.photo_queue)
    return page
