"""axe-core on every page and state of the apps: 0 critical or serious violations.

States: landing, phone (register, home, calling, incoming, in call), room (join,
with three people, error page), manual, devices. axe is injected from
tests/a11y/node_modules (see tests/support/axe.py); a failure lists each rule
and the elements that break it.
"""

from __future__ import annotations

import pytest

from tests.support.axe import assert_accessible
from tests.support.browser import artifact_path

WAIT = 30_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request):
    return request.param, VIEWPORTS[request.param]


def _page(new_context, viewport, locale="en-US"):
    context = new_context(locale=locale, viewport=viewport[1])
    return context.new_page()


def test_landing_manual_devices(app_server, new_context, viewport):
    page = _page(new_context, viewport)
    for path, ready in (("/", "main"), ("/manual", "#create-offer"), ("/devices", "#camera-select, main")):
        page.goto(app_server.url(path))
        page.wait_for_selector(ready)
        assert_accessible(page, f"{path} ({viewport[0]})")


def test_devices_after_start(app_server, new_context, viewport):
    page = _page(new_context, viewport)
    page.goto(app_server.url("/devices"))
    start = page.locator("#start")
    if start.count():
        start.click()
    page.wait_for_function("() => document.querySelectorAll('select option').length > 0", timeout=WAIT)
    assert_accessible(page, f"devices started ({viewport[0]})")


def test_room_join_error_and_three_people(app_server, new_context, viewport):
    pages = [_page(new_context, viewport) for _ in range(3)]
    first = pages[0]
    first.goto(app_server.url("/room/bad%20name!"))
    first.wait_for_selector("main")
    assert_accessible(first, f"room error ({viewport[0]})")
    for page, name in zip(pages, ("Ada", "Bo", "Chen"), strict=True):
        page.goto(app_server.url(f"/room/a11y-{viewport[0]}?video=low"))
        page.wait_for_selector("#join-button")
        if page is first:  # the join screen with its preview playing and the meter and device lists filled
            page.wait_for_function(
                "() => document.getElementById('join-preview').videoWidth > 0"
                " && document.querySelectorAll('#join-mic-device option').length > 0",
                timeout=WAIT,
            )
            assert_accessible(page, f"room join ({viewport[0]})")
            page.screenshot(path=str(artifact_path(f"a11y-room-join-{viewport[0]}.png")))
        page.fill("#join-name", name)
        page.click("#join-button")
        page.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    first.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 2", timeout=WAIT)
    if first.locator("#chat-input").is_hidden():  # phones start with the chat folded away
        first.click("#ctl-chat")
    first.fill("#chat-input", "hello")
    first.press("#chat-input", "Enter")
    pages[1].wait_for_function("() => window.room.chatReceived.length === 1", timeout=WAIT)
    for page in pages:
        assert_accessible(page, f"room with 3 ({viewport[0]})")
    first.screenshot(path=str(artifact_path(f"a11y-room-3-{viewport[0]}.png")))


def _phone(new_context, app_server, viewport, name):
    page = _page(new_context, viewport)
    page.goto(app_server.url("/phone"))
    page.wait_for_selector("#name-input")
    return page


def test_phone_states(app_server, new_context, viewport):
    alice = _phone(new_context, app_server, viewport, "Alice")
    assert_accessible(alice, f"phone register ({viewport[0]})")
    bob = _phone(new_context, app_server, viewport, "Bob")
    for page, name in ((alice, "Alice"), (bob, "Bob")):
        page.fill("#name-input", name)
        page.click("#register-button")
        page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    bob_number = bob.evaluate("() => window.phone.client.peerId")
    contact = alice.locator(f'#contacts button[data-peer-id="{bob_number}"]')
    contact.wait_for(timeout=WAIT)
    assert_accessible(alice, f"phone home ({viewport[0]})")
    contact.click()
    bob.wait_for_function("() => window.phone.state === 'incoming'", timeout=WAIT)
    assert_accessible(alice, f"phone calling ({viewport[0]})")
    assert_accessible(bob, f"phone incoming ({viewport[0]})")
    bob.click("#accept-button")
    for page in (alice, bob):
        page.wait_for_function("() => window.phone.state === 'in-call'", timeout=WAIT)
    assert_accessible(alice, f"phone in call ({viewport[0]})")
