"""The room's pre-join preview (issue 11 point 8) in real Chromium with fake media.

Before joining, the join screen shows the camera preview (frames play), a
microphone meter that moves with the fake microphone's beeps, and camera /
microphone choice. Joining hands the preview's own tracks to the call: no
second getUserMedia, the chosen microphone is the one sent, and the other
member receives media (getStats bytes grow).
"""

from __future__ import annotations

import pytest

from tests.e2e.test_rooms import join, wait_media
from tests.support.browser import artifact_path

WAIT = 30_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# counts every getUserMedia call the page makes (a second prompt would show up here)
COUNT_GUM = """
(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.gumCalls = 0;
  navigator.mediaDevices.getUserMedia = (c) => { window.gumCalls += 1; return original(c); };
})();
"""
PREVIEW_PLAYS = """() => {
  const v = document.getElementById('join-preview');
  const track = window.room.preview.preview.cameraTrack;
  return v.videoWidth > 0 && v.currentTime > 0.3 && track && track.readyState === 'live';
}"""
METER_MOVED = "() => window.room.preview.preview.peakLevel > 0.01 && document.getElementById('join-level').value >= 0"


def _open(new_context, base, room, viewport="desktop", locale="en-US"):
    context = new_context(locale=locale, viewport=VIEWPORTS[viewport])
    context.add_init_script(COUNT_GUM)
    page = context.new_page()
    page.goto(f"{base}/room/{room}?video=low")
    return page


def test_preview_plays_meter_moves_and_the_call_uses_the_chosen_devices(app_server, new_context):
    ada = _open(new_context, app_server.base, "prejoin")
    ada.wait_for_function(PREVIEW_PLAYS, timeout=WAIT)
    ada.wait_for_function(METER_MOVED, timeout=WAIT)
    assert ada.locator("#join-camera-device option").count() >= 1
    mics = ada.locator("#join-mic-device option")
    assert mics.count() >= 2, "Chromium's fake audio inputs should be listed"
    assert "how others will see you" in ada.locator("#join-media-status").inner_text()
    # choose another microphone: the preview reopens it and the meter keeps moving
    chosen = mics.nth(mics.count() - 1).get_attribute("value")
    ada.select_option("#join-mic-device", chosen)
    ada.wait_for_function(
        "(id) => window.room.preview.preview.micTrack?.getSettings().deviceId === id", arg=chosen, timeout=WAIT
    )
    calls_before_join = ada.evaluate("window.gumCalls")
    camera_track = ada.evaluate("window.room.preview.preview.cameraTrack.id")
    ada.fill("#join-name", "Ada")
    ada.click("#join-button")
    ada.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    assert ada.evaluate("window.gumCalls") == calls_before_join, "joining must not ask for the devices again"
    assert ada.evaluate("window.room.media.cameraTrack.id") == camera_track
    assert ada.evaluate("window.room.media.micId") == chosen
    assert ada.evaluate("window.room.media.micTrack.readyState") == "live"

    bo = _open(new_context, app_server.base, "prejoin")
    join(bo, app_server.base, "Bo", camera=False, mic=True, room="prejoin")
    bo.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    wait_media(bo, "video")  # Ada's preview camera reaches Bo
    wait_media(bo, "audio")
    wait_media(ada, "audio")  # and Bo's microphone reaches Ada


def test_camera_off_releases_the_camera_and_joins_without_video(app_server, new_context):
    page = _open(new_context, app_server.base, "prejoin-off")
    page.wait_for_function(PREVIEW_PLAYS, timeout=WAIT)
    track = page.evaluate_handle("window.room.preview.preview.cameraTrack")
    page.uncheck("#join-camera")
    page.wait_for_selector("#join-preview-off:not([hidden])")
    assert track.evaluate("t => t.readyState") == "ended", "unticking the camera must release it"
    assert page.locator("#join-camera-device").is_disabled()
    page.check("#join-camera")
    page.wait_for_function(PREVIEW_PLAYS, timeout=WAIT)
    page.uncheck("#join-camera")
    page.wait_for_selector("#join-preview-off:not([hidden])")
    page.fill("#join-name", "Cy")
    page.click("#join-button")
    page.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    assert page.evaluate("window.room.media.state()") == {"camera": False, "mic": True, "screen": False}


def test_keyboard_reaches_every_join_control_in_order(app_server, new_context):
    page = _open(new_context, app_server.base, "prejoin-keys")
    page.wait_for_function(PREVIEW_PLAYS, timeout=WAIT)
    page.focus("#join-name")
    page.keyboard.type("Dee")
    seen = []
    for _ in range(5):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id"))
    assert seen == ["join-camera", "join-camera-device", "join-mic", "join-mic-device", "join-button"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")  # the microphone box, by keyboard
    page.wait_for_function("() => !window.room.preview.preview.micTrack")
    page.keyboard.press("Space")
    page.wait_for_function("() => window.room.preview.preview.micTrack?.readyState === 'live'")
    page.focus("#join-button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_join_screen_screenshots(app_server, new_context, viewport, locale):
    page = _open(new_context, app_server.base, "会議室", viewport, locale)
    page.wait_for_function(PREVIEW_PLAYS, timeout=WAIT)
    page.wait_for_function(METER_MOVED, timeout=WAIT)
    page.screenshot(path=str(artifact_path(f"room-prejoin-{viewport}-{locale[:2]}.png")), full_page=True)
