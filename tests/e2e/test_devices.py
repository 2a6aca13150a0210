"""Device check page with Chromium's fake camera and microphone."""

from __future__ import annotations

from tests.support.browser import artifact_path

DENY_MEDIA = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
"""
NO_DEVICES = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('none', 'NotFoundError'));
"""


def test_preview_meter_device_lists_and_tone(app_server, new_context):
    page = new_context(locale="en-US").new_page()
    page.goto(app_server.url("/devices"))
    page.click("#start")
    # the preview shows frames from the fake camera
    page.wait_for_function("() => document.getElementById('preview').videoWidth > 0")
    page.wait_for_function(
        "() => { const v = document.getElementById('preview'); const t = v.currentTime; return t > 0.2; }"
    )
    # the fake microphone beeps: the meter moves
    page.wait_for_function("() => window.devices.peakLevel > 0.01", timeout=15000)
    assert "working" in page.locator("#status").inner_text()
    assert page.locator("#camera-select option").count() >= 1
    assert page.locator("#mic-select option").count() >= 1
    assert "Camera on" in page.locator("#camera-status").inner_text()
    # choosing a device reopens it
    page.select_option("#mic-select", index=page.locator("#mic-select option").count() - 1)
    page.wait_for_function("() => window.devices.micTrack && window.devices.micTrack.readyState === 'live'")
    # the test tone plays to the end
    page.click("#tone")
    page.wait_for_function("() => window.devices.toneCount === 1", timeout=10000)
    assert page.locator("#speaker-status").inner_text() == "Tone finished."
    page.screenshot(path=str(artifact_path("devices.png")), full_page=True)


def test_permission_denied_message(app_server, new_context):
    context = new_context(locale="en-US")
    context.add_init_script(DENY_MEDIA)
    page = context.new_page()
    page.goto(app_server.url("/devices"))
    page.click("#start")
    page.wait_for_function("() => document.getElementById('status').classList.contains('error')")
    assert "was denied" in page.locator("#camera-status").inner_text()
    assert "was denied" in page.locator("#mic-status").inner_text()


def test_no_device_message_in_japanese(app_server, new_context):
    context = new_context(locale="ja-JP")
    context.add_init_script(NO_DEVICES)
    page = context.new_page()
    page.goto(app_server.url("/devices"))
    page.click("#start")
    page.wait_for_function("() => document.getElementById('status').classList.contains('error')")
    assert page.locator("#camera-status").inner_text().startswith("カメラが見つかりません")
    assert page.locator("#mic-status").inner_text().startswith("マイクが見つかりません")
    page.click(".lang-button[data-lang=en]")
    assert page.locator("#camera-status").inner_text().startswith("No camera found")
