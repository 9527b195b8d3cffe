"""The admin's own tasks in Chromium: every tab (and a phone), settings errors at their field, the cards, settings
files, the entry zone drawn on the still, a password change. Screenshots go to test-artifacts/. (A file apart from
the kiosk screens' tests, so that the two run side by side on two workers.)"""
from __future__ import annotations

import pytest
import tomllib
from browser import ARTIFACTS, log_in, require_chromium, screenshot
from kiosk_server import PASSWORD, KioskServer
from videos import walking_face, write_video

from kiosk.bench.samples import grace_hopper, grace_hopper_path

require_chromium()
pytestmark = pytest.mark.slow(minutes=2)  # about 2 min


@pytest.fixture(scope="module")
def kiosk_en(tmp_path_factory):
    video = write_video(tmp_path_factory.mktemp("admin") / "bare.avi", walking_face(grace_hopper(), 10, 60), 30)
    with KioskServer.running_with_admin(tmp_path_factory.mktemp("en"), video) as kiosk:
        yield kiosk

def test_admin_tabs_screenshots_and_a_usable_phone_login(browser, kiosk_en):
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                             has_touch=True)
    try:
        phone.goto(kiosk_en.url + "/login")
        sizes = phone.evaluate("[...document.querySelectorAll('input, button, label')].map("
                               "e => parseFloat(getComputedStyle(e).fontSize))")
        assert min(sizes) >= 14, sizes
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone, "admin-login-phone")
        phone.fill("input[name=password]", PASSWORD)
        phone.click("button[type=submit]")
        phone.wait_for_selector("text=stopped today")
        for tab in ("Live", "Events"):  # the daily tasks: tabs in view, no menu needed
            assert phone.get_by_role("tab", name=tab).is_visible()
        screenshot(phone, "admin-live-phone")
    finally:
        phone.close()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        log_in(page, kiosk_en)
        page.wait_for_selector("text=stopped today")
        for tab in ("Live", "Events", "Check a photo", "Settings", "Entry zone", "Password", "Device and models"):
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(600)  # the tab's own content paints (a screenshot, not a condition)
            page.screenshot(path=str(ARTIFACTS / f"admin-{tab.lower().replace(' ', '-')}.png"), full_page=True)
    finally:
        page.close()


def test_a_settings_error_is_shown_at_its_field_with_its_label(browser, kiosk_en):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        log_in(page, kiosk_en)
        page.get_by_role("tab", name="Settings").click()
        page.get_by_label("webhook URL").fill("ftp://door.local/open")
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_selector("text=Not saved: webhook URL")
        error = page.locator(".field-error")
        assert error.count() == 1 and "must be an http:// or https:// URL" in error.inner_text()
        screenshot(page, "admin-settings-error")

        page.reload()  # one number out of range: its field says why, every other field keeps its value
        page.get_by_role("tab", name="Settings").click()
        page.get_by_label("face detection threshold").fill("1.5")
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_selector("text=Not saved: face detection threshold")
        error = page.locator(".field-error")
        assert error.count() == 1 and "less than or equal to 0.99" in error.inner_text(), error.inner_text()
        assert page.get_by_label("mask seen before PASS (ms)").input_value() == "800"
        assert page.get_by_label("face detection threshold").input_value() == "1.5"  # as typed, to correct it
        assert page.locator(".error, [data-testid='error']").count() == 0 and "Error" not in error.inner_text()
        screenshot(page, "admin-settings-number-error")

        page.get_by_role("tab", name="Events").click()  # a time that is none: said on the line, the table stays
        table = page.locator("table.review, .review-empty").first
        table.wait_for(timeout=15000)
        before = table.inner_html()
        since = page.locator(".review-from [data-testid='textbox']")
        for bad in ("yesterday", "2026-13-01", "12:00"):
            since.fill(bad)
            page.get_by_role("button", name="Show").click()
            page.locator(".block.review-where").filter(has_text=f"⚠ from: '{bad}' is not a time").wait_for(
                timeout=10000)
            assert table.inner_html() == before
        since.fill("")  # empty: the last 24 hours
        page.get_by_role("button", name="Show").click()
        page.locator(".block.review-where").filter(has_text="page 1 of").wait_for(timeout=10000)
    finally:
        page.close()


def test_admin_cards_show_no_figures_before_the_real_ones_and_log_out_ends_the_page(browser, kiosk_en):
    """The page is built when the kiosk starts; opened later it must not show that moment's figures."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script("""window.cardTexts = [];
        new MutationObserver(() => { const cards = document.querySelector('.status-cards');
          if (cards && cards.innerText !== window.cardTexts.at(-1)) window.cardTexts.push(cards.innerText); })
        .observe(document, { subtree: true, childList: true, characterData: true });""")
    try:
        probe = browser.new_page()
        probe.goto(kiosk_en.url + "/")
        probe.wait_for_function("document.querySelector('.gate-counts')?.innerText.match(/[1-9]\\d* stopped/)",
                                timeout=30000)
        probe.close()
        log_in(page, kiosk_en)
        page.wait_for_function("window.cardTexts.some(t => t.includes('stopped today'))", timeout=15000)
        texts = page.evaluate("window.cardTexts")
        first = next(t for t in texts if "stopped today" in t)
        assert all("stopped today" in t or "loading" in t or not t.strip() for t in texts), texts
        stopped = int(first.split("stopped today")[1].split()[0])
        assert stopped >= 1, f"the first cards shown were made up: {first!r}"

        page.get_by_role("button", name="log out").click()
        page.wait_for_url("**/login")
        assert len(page.context.pages) == 1, "log out opened another tab"
        assert page.request.get(kiosk_en.url + "/admin/config").status == 401
    finally:
        page.close()


def test_settings_export_then_import_round_trips_and_a_bad_file_changes_nothing(browser, tmp_path, kiosk_en):
    kiosk = kiosk_en  # the module's kiosk: the import at the end puts back what the test changed
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        log_in(page, kiosk)
        page.get_by_role("tab", name="Settings").click()
        exported = page.request.get(kiosk.url + "/admin/settings.toml").text()
        assert "[decision]" in exported and "password" not in exported
        page.get_by_label("mask seen before PASS (ms)").fill("1500")
        page.get_by_role("button", name="Save settings").click()
        page.wait_for_selector("text=Saved: mask seen before PASS (ms)")
        assert kiosk.settings_toml()["decision"]["hold_ms"] == 1500

        exported_keys = tomllib.loads(exported)
        assert "source" not in exported_keys["camera"] and "device_id" not in exported_keys["mqtt"]  # this kiosk's own

        def imported(name: str, content: str | bytes) -> str:
            """The import's message (each one here differs from the one before)."""
            path = tmp_path / name
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
            before = page.locator(".block.settings-result").inner_text()
            page.locator(".settings-import input[type=file]").set_input_files(str(path))
            page.wait_for_function("(before) => { const text = document.querySelector('.settings-result')?.innerText"
                                   " || ''; return text !== before && text.includes('Import: '); }", arg=before)
            page.locator(".settings-import input[type=file]").wait_for(state="attached")
            return page.locator(".block.settings-result").inner_text()

        bad_files = {
            "range.toml": (exported.replace("hold_ms = 800.0", "hold_ms = 99999.0"), "mask seen before PASS (ms)"),
            "binary.toml": (bytes(range(256)), "not a settings file (not UTF-8 text)"),
            "deep.toml": ("x = " + "[" * 5000 + "]" * 5000 + "\n", "not a settings file"),
            "misspelt.toml": ("[decision]\nhold_mss = 5.0\n", "decision.hold_mss: unknown setting"),
        }
        for name, (content, reason) in bad_files.items():
            message = imported(name, content)
            assert message.startswith("Import: Not imported, nothing changed") and reason in message, message
        assert kiosk.settings_toml()["decision"]["hold_ms"] == 1500
        assert kiosk.process.poll() is None

        cloned = imported("other-kiosk.toml", '[camera]\nsource = "/dev/video7"\n[decision]\nhold_ms = 1500.0\n')
        assert "Kept this kiosk's own camera" in cloned, cloned
        assert "source" not in kiosk.settings_toml().get("camera", {})

        good = tmp_path / "exported.toml"
        good.write_text(exported)
        page.locator(".settings-import input[type=file]").set_input_files(str(good))
        page.wait_for_selector("text=Import: Saved: mask seen before PASS (ms)")
        assert kiosk.settings_toml()["decision"]["hold_ms"] == 800
        assert page.get_by_label("mask seen before PASS (ms)").input_value() == "800"
    finally:
        page.close()


def test_a_zone_drawn_on_the_still_is_saved_and_a_face_outside_it_is_ignored(browser, kiosk_en):
    kiosk = kiosk_en  # its face walks across the middle of the picture, from 30 % to 70 % of the width
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        log_in(page, kiosk)
        page.get_by_role("tab", name="Entry zone").click()
        page.get_by_role("button", name="New still").click()
        still = page.locator(".zone-still img")
        still.wait_for()
        box = still.bounding_box()
        # the zone: the left fifth of the picture, where the face never is
        still.click(position={"x": box["width"] * 0.02, "y": box["height"] * 0.05})
        page.wait_for_selector("text=Now click the opposite corner")
        still.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.95})
        page.wait_for_selector("text=not saved yet")
        page.get_by_role("button", name="Save zone").click()
        page.wait_for_selector("text=Saved: entry zone")
        screenshot(page, "admin-entry-zone")
        zone = kiosk.settings_toml()["decision"]["zone"]
        assert zone[0] < 0.05 and 0.15 < zone[2] < 0.25 and zone[1] < 0.1 and zone[3] > 0.9

        screen = browser.new_page()
        try:
            screen.goto(kiosk.url + "/")
            # every state the screen shows while the face walks through twice: its box is drawn, grey and unlabelled
            screen.evaluate("""() => { window.statesSeen = []; setInterval(() => window.statesSeen.push(
                document.querySelector('[data-state]')?.dataset.state), 100); }""")
            screen.wait_for_function("window.statesSeen.length >= 50 && (window.kioskLabels || []).filter("
                                     "e => e.faces).length >= 20", timeout=30000)
            states = set(screen.evaluate("window.statesSeen")) - {"CONNECTING", None}  # None: before the script
            drawn = [entry for entry in screen.evaluate("window.kioskLabels") if entry["faces"]]
            screenshot(screen, "kiosk-face-outside-the-zone")
        finally:
            screen.close()
        assert states == {"NO_FACE"}, states
        assert not [entry for entry in drawn if entry["labels"]], drawn[:5]
    finally:
        page.get_by_role("button", name="Whole picture").click()
        page.get_by_role("button", name="Save zone").click()
        page.wait_for_selector("text=Saved: entry zone")
        page.close()


def admin_status(kiosk: KioskServer, session: str) -> int:
    """The status of an admin request made with this session cookie."""
    import urllib.request
    request = urllib.request.Request(kiosk.url + "/admin/config", headers={"Cookie": f"kiosk_admin={session}"})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_viewer_sees_live_and_events_only_and_the_admin_sets_its_password(browser, kiosk_en):
    kiosk = kiosk_en
    kiosk.set_password("viewer pass 11", viewer=True)  # on the device
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        log_in(page, kiosk, "viewer pass 11", user="viewer")
        page.wait_for_selector("text=stopped today")  # the live cards
        page.wait_for_function("() => [...document.querySelectorAll('[role=tab]')]"
                               ".filter(tab => tab.offsetParent !== null).length === 2")
        assert [t.inner_text() for t in page.get_by_role("tab").all() if t.is_visible()] == ["Live", "Events"]
        assert not page.get_by_role("button", name="Let one person pass").is_visible()
        page.get_by_role("tab", name="Events").click()
        page.locator("table.review, .review-empty").first.wait_for(timeout=15000)
        assert page.get_by_text("a viewer may only look").count() == 0  # the page asks for nothing refused
        screenshot(page, "admin-viewer-events")
        assert page.request.post(kiosk.url + "/admin/override").status == 403
        assert page.request.get(kiosk.url + "/admin/settings.toml").status == 403

        log_in(admin, kiosk)  # a new viewer password from the admin page ends the viewer's session
        admin.get_by_role("tab", name="Password").click()
        admin.get_by_label("viewer password (at least 8 characters)").fill("viewer pass 12")
        admin.get_by_label("viewer password again").fill("viewer pass 12")
        admin.get_by_role("button", name="Set viewer password").click()
        admin.wait_for_selector("text=Viewer password set")
        assert page.request.get(kiosk.url + "/admin/config").status == 401
        assert admin.request.get(kiosk.url + "/admin/config").status == 200  # the admin's own session stays
        log_in(page, kiosk, "viewer pass 12", user="viewer")
        page.wait_for_selector("text=stopped today")
    finally:
        page.close()
        admin.close()


def test_password_change_from_the_admin_page_takes_effect_at_once(browser, kiosk_en):
    """The module's last test: the module's kiosk keeps the new password."""
    from kiosk.bench.photo import log_in as session_of
    kiosk = kiosk_en
    other_session = session_of(kiosk.url, PASSWORD)  # another admin, logged in elsewhere
    assert admin_status(kiosk, other_session) == 200
    page = browser.new_page()
    try:
        log_in(page, kiosk)
        page.get_by_role("tab", name="Password").click()
        page.get_by_label("current password").fill("not the password")
        page.get_by_label("new password (at least 8 characters)").fill("brand new pass 9")
        page.get_by_label("new password again").fill("brand new pass 9")
        page.get_by_role("button", name="Change password").click()
        page.wait_for_selector("text=the current password is wrong")
        page.get_by_label("current password").fill(PASSWORD)
        page.get_by_label("new password (at least 8 characters)").fill("brand new pass 9")
        page.get_by_label("new password again").fill("brand new pass 9")
        page.get_by_role("button", name="Change password").click()
        page.wait_for_selector("text=Password changed")
        screenshot(page, "admin-password-changed")
        assert admin_status(kiosk, other_session) == 401  # every other session ended at once
        assert page.request.get(kiosk.url + "/admin/config").status == 200  # the one that changed it stays
        kiosk.set_password("set on the device 7")  # and a change on the device ends that one too
        assert page.request.get(kiosk.url + "/admin/config").status == 401
        kiosk.set_password("brand new pass 9")
    finally:
        page.close()
    fresh = browser.new_page()
    try:
        log_in(fresh, kiosk, PASSWORD)
        fresh.wait_for_selector("text=Wrong user or password")
        log_in(fresh, kiosk, "brand new pass 9")
        fresh.wait_for_selector("text=stopped today")
    finally:
        fresh.close()
    assert kiosk.process.poll() is None  # no restart


# what may stay in Latin letters on the Chinese admin page: names of products, protocols, units and formats, and the
# viewer's user name; anything with a digit, a path or a dotted/dashed name (a version, a package, a command) too
TECHNICAL_NAMES = {"MQTT", "TLS", "JPEG", "TOML", "CSV", "JSON", "GPIO", "Webhook", "IoU", "LCUS", "USB", "AUTO", "CPU",
                   "GPU", "OpenVINO", "RetinaFace", "MobileNet", "BlazeFace", "LATENCY", "THROUGHPUT", "fps", "ms",
                   "px", "MB", "English", "Home", "Assistant", "rtsp", "http", "POST", "viewer", "sha"}
ADMIN_TABS = ("live", "events", "photo", "settings", "zone", "password", "device")


def english_words(text: str) -> set[str]:
    import re
    words = re.findall(r"[A-Za-z][A-Za-z0-9_./:+-]*", text)
    return {word for word in words if word.isalpha() and len(word) > 1 and word not in TECHNICAL_NAMES}


def test_with_the_admin_language_zh_no_tab_has_english_left(browser, tmp_path):
    """A kiosk whose admin page is set to zh, opened in a browser that asks for English: every tab, screenshot and
    scanned, has no English word outside the technical names (labels, help, cards, the table, Gradio's own)."""
    video = write_video(tmp_path / "bare.avi", walking_face(grace_hopper(), 10, 40), 30)
    with KioskServer.running_with_admin(tmp_path, video, settings={"admin": {"language": "zh"}}) as kiosk:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
        try:
            page.goto(kiosk.url + "/login")
            assert "登录" in page.inner_text("body") and not english_words(page.inner_text("body"))
            log_in(page, kiosk)
            page.wait_for_selector("text=今日拦下")  # the cards, with today's figures
            page.wait_for_function("/\\d+\\.\\d fps/.test(document.querySelector('.status-cards').innerText)")
            left = {}
            for tab in ADMIN_TABS:
                page.click(f"#tab-{tab}-button")
                page.wait_for_selector(f"#tab-{tab}", state="visible")
                if tab == "events":
                    page.locator("table.review, .review-empty").first.wait_for(timeout=15000)
                page.wait_for_timeout(300)  # the tab's own content paints (for the screenshot, not a condition)
                page.screenshot(path=str(ARTIFACTS / f"admin-zh-{tab}.png"), full_page=True)
                # the text shown, and what is shown on hover or in an empty field
                text = page.inner_text("body") + " ".join(page.eval_on_selector_all(
                    "[placeholder], [title]", "els => els.filter(e => e.checkVisibility()).map("
                    "e => [e.placeholder, e.title].join(' '))"))
                left[tab] = english_words(text)
            assert not any(left.values()), left
            # a message too: a photo checked says what it found in Chinese
            page.click("#tab-photo-button")
            page.locator(".photo-upload input[type=file]").set_input_files(str(grace_hopper_path()))
            page.wait_for_function("() => (document.querySelector('.photo-status')?.innerText || '').includes('用时')",
                                   timeout=30000)
            status = page.locator(".block.photo-status").inner_text()
            assert "1 张人脸：1 未戴口罩" in status and not english_words(status), status
        finally:
            page.close()
