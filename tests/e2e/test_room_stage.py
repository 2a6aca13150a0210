"""The room's stage: a shared screen takes it, the active speaker takes it from three people up,
and a pinned tile keeps it; the others sit in a strip below. Three real Chromium contexts."""

from __future__ import annotations

from tests.e2e.test_rooms import join, peer_id, wait_media
from tests.support.browser import artifact_path

WAIT = 30_000
FEATURED = "() => document.getElementById('tiles').dataset.featured"
BOXES = """() => [...document.querySelectorAll('.tile')].map(t => {
  const r = t.getBoundingClientRect();
  return {peer: t.dataset.peer, featured: t.classList.contains('featured'), w: r.width, h: r.height, y: r.y};
})"""


def _assert_stage(page, featured_peer: str) -> None:
    boxes = page.evaluate(BOXES)
    big = [b for b in boxes if b["featured"]]
    strip = [b for b in boxes if not b["featured"]]
    assert [b["peer"] for b in big] == [featured_peer], boxes
    assert len(strip) == len(boxes) - 1
    for b in strip:  # the strip is below the stage and much smaller
        assert b["y"] >= big[0]["y"] + big[0]["h"] - 1, boxes
        assert b["w"] * b["h"] * 4 < big[0]["w"] * big[0]["h"], boxes


def test_screen_share_speaker_and_pin_take_the_stage(app_server, new_context):
    viewports = [{"width": 1280, "height": 800}, {"width": 1280, "height": 800}, {"width": 390, "height": 844}]
    pages = [new_context(locale="en-US", viewport=v).new_page() for v in viewports]
    ada, bo, chen = pages
    for page, name in zip(pages, ("Ada", "Bo", "Chen"), strict=True):
        join(page, app_server.base, name, room="stage")
        page.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    for page in pages:
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 2", timeout=WAIT)
        wait_media(page, "video")
    ada_id, chen_id = peer_id(ada), peer_id(chen)

    # the active speaker (Chromium's fake microphones beep) gets the stage from three people up
    bo.wait_for_function(f"() => ({FEATURED})() !== ''", timeout=WAIT)
    assert bo.evaluate(FEATURED) in (ada_id, chen_id)

    # a shared screen takes the stage over any speaker
    ada.click("#ctl-screen")
    for page in (bo, chen):
        page.wait_for_function(f"(id) => ({FEATURED})() === id", arg=ada_id, timeout=WAIT)
        wait_media(page, "video", peers=[ada_id])
        _assert_stage(page, ada_id)
    bo.screenshot(path=str(artifact_path("room-stage-screen-desktop.png")))
    chen.screenshot(path=str(artifact_path("room-stage-screen-phone.png")))

    # pinning Chen keeps Chen on Bo's stage, even over the screen; unpinning gives it back
    pin = bo.locator(f".tile[data-peer='{chen_id}'] .pin")
    pin.focus()
    bo.keyboard.press("Enter")  # keyboard works: the pin is a real button
    assert pin.get_attribute("aria-pressed") == "true"
    assert pin.get_attribute("aria-label") == "Unpin Chen"
    bo.wait_for_function(f"(id) => ({FEATURED})() === id", arg=chen_id)
    _assert_stage(bo, chen_id)
    bo.screenshot(path=str(artifact_path("room-stage-pinned-desktop.png")))
    pin.click()
    assert pin.get_attribute("aria-pressed") == "false"
    bo.wait_for_function(f"(id) => ({FEATURED})() === id", arg=ada_id)

    ada.click("#ctl-screen")
    bo.wait_for_function("() => document.querySelectorAll('.tile.screen').length === 0", timeout=WAIT)


def test_long_names_are_clamped_to_two_lines_with_a_tooltip(app_server, new_context):
    long_name = "Bartholomew-Alexander " * 3 + "von Wolkenstein-Trostburg"
    page = new_context(locale="en-US", viewport={"width": 390, "height": 844}).new_page()
    join(page, app_server.base, long_name[:64], camera=False, mic=False, room="clamp")
    page.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    name = page.locator(".tile.local .name")
    assert name.get_attribute("title") == long_name[:64]
    line = float(name.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert name.evaluate("e => e.getBoundingClientRect().height") <= 2 * line + 1
    page.screenshot(path=str(artifact_path("room-long-name-phone.png")))
