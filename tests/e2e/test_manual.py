"""The manual signaling page connects two tabs by copy/paste only: no server state."""

from __future__ import annotations

from tests.support.browser import artifact_path

INBOUND_BYTES = "() => window.manual.peer.bytesReceived()"


def _connect(context, app_server, media: bool):
    a, b = context.new_page(), context.new_page()
    for page in (a, b):
        page.goto(app_server.url("/manual"))
        if media:
            page.check("#opt-media")
    a.click("#create-offer")
    a.wait_for_function("() => document.getElementById('offer-out').value.length > 0")
    offer = a.input_value("#offer-out")
    assert (
        offer.startswith("v=0") and "a=candidate" in offer and "a=setup:actpass" in offer
    )  # vanilla ICE: candidates inside
    b.fill("#offer-in", offer.replace("\r\n", "\n"))  # copying may change line endings
    b.click("#create-answer")
    b.wait_for_function("() => document.getElementById('answer-out').value.length > 0")
    answer = b.input_value("#answer-out")
    assert answer.startswith("v=0") and "a=candidate" in answer and "a=setup:actpass" not in answer
    a.fill("#answer-in", answer)
    a.click("#accept-answer")
    for page in (a, b):
        page.wait_for_function("() => !document.getElementById('chat-input').disabled")
        assert "Connected" in page.locator("#manual-status").inner_text()
    return a, b


def test_two_tabs_connect_and_chat(app_server, new_context):
    context = new_context(locale="en-US")
    a, b = _connect(context, app_server, media=False)
    a.fill("#chat-input", "hello from A <b>not bold</b>")
    a.press("#chat-input", "Enter")
    b.wait_for_function("() => window.manual.received.length === 1")
    assert b.locator("#chat-log li .text").inner_text() == "hello from A <b>not bold</b>"
    assert b.locator("#chat-log b").count() == 0
    b.fill("#chat-input", "hi A")
    b.click("#chat-send")
    a.wait_for_function("() => window.manual.received.some(m => m.text === 'hi A')")
    a.screenshot(path=str(artifact_path("manual-a.png")), full_page=True)


def test_two_tabs_with_media_bytes_flow(app_server, new_context):
    context = new_context(locale="en-US")
    a, b = _connect(context, app_server, media=True)
    for page in (a, b):
        first = page.evaluate(INBOUND_BYTES)
        # wait_for_function would take an async predicate's Promise as truthy: poll from here.
        _wait_for_more_bytes(page, first)
        page.wait_for_function("() => document.getElementById('remote-video').videoWidth > 0")


def _wait_for_more_bytes(page, first: int, attempts: int = 150) -> None:
    for _ in range(attempts):
        if page.evaluate(INBOUND_BYTES) > first:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"inbound bytes stayed at {first}")


def test_bad_paste_is_explained(app_server, new_context):
    page = new_context(locale="en-US").new_page()
    page.goto(app_server.url("/manual"))
    page.fill("#offer-in", "not an offer")
    page.click("#create-answer")
    assert "not a valid offer" in page.locator("#manual-status").inner_text()
    page.click("#create-offer")
    page.wait_for_function("() => document.getElementById('offer-out').value.length > 0")
    page.fill("#answer-in", page.input_value("#offer-out"))  # pasted our own offer by mistake
    page.click("#accept-answer")
    assert "not a valid answer" in page.locator("#manual-status").inner_text()
