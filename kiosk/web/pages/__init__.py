"""The two Gradio pages: the fullscreen kiosk screen and the admin page, a module per admin tab. They read the
service; they own nothing."""
from __future__ import annotations

import gradio as gr

from kiosk.web.pages.common import KIOSK_CSS, KIOSK_THEME, LIVE_CSS, THEME, live_view
from kiosk.web.pages.events_tab import events_tab
from kiosk.web.pages.live_tab import live_tab
from kiosk.web.pages.password_tab import account_tab
from kiosk.web.pages.photo_tab import photo_tab
from kiosk.web.pages.settings_tab import settings_form
from kiosk.web.pages.zone_tab import zone_tab
from kiosk.web.service import KioskService

__all__ = ["KIOSK_CSS", "KIOSK_THEME", "LIVE_CSS", "THEME", "admin_page", "kiosk_head", "kiosk_page"]

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
            live_tab(service, page)
        if service.events is not None:
            with gr.Tab("Events"):
                events_tab(service, service.events, page)
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
