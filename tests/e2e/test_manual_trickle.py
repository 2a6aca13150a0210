"""/manual: trickle ICE by pasting candidates as they come, roles per tab, hang-up, and the other side closing."""

from __future__ import annotations

from tests.e2e.test_manual import _connect
from tests.support.browser import artifact_path

WAIT = 30_000
PHONE = {"width": 390, "height": 844}
BYTES_ABOVE_0 = (
    "() => { window.manual.peer.bytesReceived().then(b => { window.__bytes = b; }); return window.__bytes > 0; }"
)
GONE = "The other side hung up or closed its tab"


def test_trickle_ice_with_roles_on_phones_then_hang_up(app_server, new_context):
    context = new_context(locale="en-US", viewport=PHONE)
    a, b = context.new_page(), context.new_page()
    for page, role in ((a, "a"), (b, "b")):
        page.goto(app_server.url("/manual"))
        page.check("#opt-media")
        page.check("#opt-trickle")
        tall = page.evaluate("document.documentElement.scrollHeight")
        page.check(f"#role-{role}")
        # each tab sees only its own steps: the page is much shorter on a phone
        hidden = "#side-answer" if role == "a" else "#side-offer"
        assert page.locator(hidden).is_hidden()
        assert page.evaluate("document.documentElement.scrollHeight") < tall - 500
    a.click("#create-offer")
    a.wait_for_function("() => document.getElementById('offer-out').value.length > 0")
    offer = a.input_value("#offer-out")
    assert "a=candidate" not in offer  # trickle: the offer leaves before any candidate
    assert "Trickle ICE" in a.locator("#manual-timing").inner_text()
    b.fill("#offer-in", offer)
    b.click("#create-answer")
    b.wait_for_function("() => document.getElementById('answer-out').value.length > 0")
    answer = b.input_value("#answer-out")
    assert "a=candidate" not in answer
    a.fill("#answer-in", answer)
    a.click("#accept-answer")
    # the candidates, pasted as they come (each side shows its own, one JSON per line)
    for src, dst in ((a, b), (b, a)):
        src.wait_for_function("() => document.getElementById('cands-out').value.trim().length > 0")
        dst.fill("#cands-in", src.input_value("#cands-out"))
        dst.click("#add-cands")
    for page in (a, b):
        page.wait_for_function("() => !document.getElementById('chat-input').disabled", timeout=WAIT)
        # a synchronous predicate (a Promise would count as truthy at once): each poll asks getStats again
        page.wait_for_function(BYTES_ABOVE_0, polling=250, timeout=WAIT)
    a.screenshot(path=str(artifact_path("manual-trickle-a-phone.png")), full_page=True)
    b.screenshot(path=str(artifact_path("manual-trickle-b-phone.png")), full_page=True)
    a.click("#hang-up")
    assert "You hung up" in a.locator("#manual-status").inner_text()
    b.wait_for_function(f"() => document.getElementById('manual-status').textContent.includes('{GONE}')", timeout=WAIT)
    assert "STUN" not in b.locator("#manual-status").inner_text()
    assert b.locator("#chat-input").is_disabled()
    b.screenshot(path=str(artifact_path("manual-peer-gone-phone.png")), full_page=True)


def test_vanilla_shows_timing_and_the_other_tab_closing(app_server, new_context):
    context = new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    a, b = _connect(context, app_server, media=False)
    assert "Vanilla ICE" in a.locator("#manual-timing").inner_text()
    b.close()
    a.wait_for_function(f"() => document.getElementById('manual-status').textContent.includes('{GONE}')", timeout=WAIT)
    assert "STUN" not in a.locator("#manual-status").inner_text()
    a.screenshot(path=str(artifact_path("manual-peer-gone-desktop.png")), full_page=True)


def _height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def test_a_phone_tab_sees_only_its_own_steps_and_a_short_page(app_server, new_context):
    """390x844: both sides at once are ~2,800 px; a tab that picked its role is far shorter."""
    for locale in ("en-US", "ja-JP"):
        page = new_context(locale=locale, viewport=PHONE).new_page()
        page.goto(app_server.url("/manual"))
        both = _height(page)
        assert both > 2400, both  # everything shown: both sides' steps and the introduction
        heights = {}
        for role, own, other in (("a", "#create-offer", "#create-answer"), ("b", "#create-answer", "#create-offer")):
            page.check(f"#role-{role}")
            assert page.locator(own).is_visible()
            assert page.locator(other).is_hidden()
            assert page.locator("#opt-media").is_hidden()  # the options fold away, one tap away
            heights[role] = _height(page)
            page.screenshot(path=str(artifact_path(f"manual-role-{role}-phone-{locale[:2]}.png")), full_page=True)
        print(locale, "both", both, "per role", heights)
        for role, height in heights.items():
            assert height < 1700, (role, height)
            assert height < 0.6 * both, (role, height, both)
        page.click("#options > summary")  # the options are still reachable
        assert page.locator("#opt-media").is_visible()
