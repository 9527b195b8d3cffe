"""Sound on the kiosk screen, in Chromium: the STOP prompt for a bare face, the PASS chime for a masked one, each
once per person, and nothing at all when sound is off. Checked through the page's own audio events."""
from __future__ import annotations

import pytest
from browser import chromium, require_chromium
from kiosk_server import KioskServer
from videos import walking_face, write_video

from kiosk.bench.samples import grace_hopper

# as the screen unit starts it: the kiosk has nobody to click before the first sound
AUTOPLAY = ("--autoplay-policy=no-user-gesture-required",)

require_chromium()


@pytest.fixture(scope="module")
def bare_then_masked(tmp_path_factory, masked_portrait):
    """A bare face walks through, the scene empties, then a masked face walks through (two people)."""
    frames = walking_face(grace_hopper(), 10, 60) + walking_face(masked_portrait, 15, 75)
    return write_video(tmp_path_factory.mktemp("sound") / "bare-then-masked.avi", frames, 30)


@pytest.fixture(scope="module")
def browser():
    with chromium(AUTOPLAY) as browser:
        yield browser


def audio_log(page) -> list[dict]:
    return page.evaluate("window.kioskAudioLog || []")


def test_stop_prompt_for_a_bare_face_and_pass_chime_for_a_masked_one(tmp_path, browser, bare_then_masked):
    kiosk = KioskServer(tmp_path, bare_then_masked).start()
    page = browser.new_page()
    try:
        page.goto(kiosk.url + "/")
        page.wait_for_function("(window.kioskAudioLog || []).some(e => e.file === 'stop-no_mask-en.wav'"
                               " && e.type === 'playing')", timeout=30000)
        page.wait_for_function("(window.kioskAudioLog || []).some(e => e.file === 'pass.wav' && e.type === 'playing')",
                               timeout=30000)
        page.wait_for_function("(window.kioskAudioLog || []).filter(e => e.type === 'ended').length >= 2",
                               timeout=30000)
        log = audio_log(page)
    finally:
        page.close()
        kiosk.stop()
    assert not [entry for entry in log if entry["type"] in ("error", "blocked")], log
    started = [(entry["file"], tuple(entry["people"])) for entry in log if entry["type"] == "play"]
    assert len(started) == len(set(started)), f"a person heard the same sound twice: {started}"
    stopped = {people for file, people in started if file == "stop-no_mask-en.wav"}
    passed = {people for file, people in started if file == "pass.wav"}
    assert stopped and passed and not stopped & passed, started  # the bare person and the masked one


def test_nothing_plays_when_sound_is_off(tmp_path, browser, bare_then_masked):
    kiosk = KioskServer(tmp_path, bare_then_masked, settings={"sound": {"enabled": False}}).start()
    page = browser.new_page()
    try:
        page.goto(kiosk.url + "/")
        for state in ("STOP", "PASS", "NO_FACE"):  # both people came and went
            page.wait_for_function("s => document.querySelector('[data-state]')?.dataset.state === s", arg=state,
                                   timeout=30000)
        log = audio_log(page)
    finally:
        page.close()
        kiosk.stop()
    assert log == []
