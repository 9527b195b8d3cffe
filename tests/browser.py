"""What the browser tests share: Debian's Chromium driven by Playwright (or a module skip saying what is missing),
logging in as the admin, and screenshots into test-artifacts/."""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest
from kiosk_server import PASSWORD, KioskServer

from kiosk.bench.ui import CHROMIUM_FLAGS
from kiosk.config import PROJECT_ROOT

CHROMIUM = os.environ.get("MASK_KIOSK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def require_chromium():
    """At a test module's top: Playwright's sync API, or a skip of the whole module naming what is absent."""
    api = pytest.importorskip("playwright.sync_api", reason="Playwright is a test dependency (install.sh --dev)")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium (install.sh --dev does as root)",
                    allow_module_level=True)
    return api


@contextlib.contextmanager
def chromium(extra_flags: tuple[str, ...] = ()) -> Iterator:
    """A headless Chromium, never a downloaded one."""
    with require_chromium().sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + list(extra_flags))
        yield browser
        browser.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def log_in(page, kiosk: KioskServer, password: str = PASSWORD, user: str = "admin") -> None:
    page.goto(kiosk.url + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
