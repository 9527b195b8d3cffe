"""What every page shares: the themes (system fonts only), the style sheets and the live view."""
from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import gradio as gr

WEB_DIR = Path(__file__).parent.parent  # live.js and the style sheets
LIVE_JS = (WEB_DIR / "live.js").read_text(encoding="utf-8")
LIVE_CSS = (WEB_DIR / "live.css").read_text(encoding="utf-8")
KIOSK_CSS = LIVE_CSS + (WEB_DIR / "kiosk.css").read_text(encoding="utf-8")
# system fonts only: nothing is fetched, not even Gradio's bundled web fonts
def system_font_theme() -> gr.themes.Default:
    return gr.themes.Default(font=["system-ui", "Noto Sans CJK SC", "DejaVu Sans", "sans-serif"],
                             font_mono=["DejaVu Sans Mono", "monospace"])


THEME = system_font_theme()

F = TypeVar("F", bound=Callable)
_VIEWER_FUNCTIONS: weakref.WeakKeyDictionary[gr.Blocks, set[Callable]] = weakref.WeakKeyDictionary()


def for_viewers(page: gr.Blocks, fn: F) -> F:
    """Marks a function of the page that a viewer session may run: it only reads (kiosk.web.roles)."""
    _VIEWER_FUNCTIONS.setdefault(page, set()).add(fn)
    return fn


def viewer_function_ids(page: gr.Blocks) -> frozenset[int]:
    """The fn_index of every function of the page marked for viewers."""
    marked = _VIEWER_FUNCTIONS.get(page, set())
    return frozenset(index for index, block_fn in page.fns.items() if block_fn.fn in marked)
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
