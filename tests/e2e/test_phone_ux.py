"""The phone as people use it (issue 11): outages, ghosts, one person per browser, plain HTTP,
the other side's state, keyboard-only calls and polish. Real Chromium, real gunicorn + redis-server,
fake media, loopback only; media proven by getStats bytes. Screenshots of each new state go to
test-artifacts/ at desktop (1280x800) and phone (390x844) sizes.
"""

from __future__ import annotations

import json
import os
import signal
import urllib.request
import uuid

from tests.e2e.test_phone import WAIT, Phone, connect_call
from tests.support import browser as browser_support
from tests.support.browser import artifact_path

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
HANGUPS = "() => { window.hangups = []; window.phone.client.on('phone.hangup', (env) => window.hangups.push(env)); }"


def shoot(page, name: str) -> None:
    """Save the page at both viewport sizes, then restore the test's own size."""
    before = page.viewport_size
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)
        page.screenshot(path=str(artifact_path(f"phone-{name}-{size}.png")))
    page.set_viewport_size(before)


def missed_entries(phone: Phone) -> list:
    return phone.js("() => JSON.parse(localStorage.getItem('phone.missed') || '[]')")


def register_api(server, name: str) -> dict:
    body = json.dumps({"name": name, "listed": True}).encode()
    req = urllib.request.Request(server.url("/v1/sessions"), body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.load(res)


# 1. outages ------------------------------------------------------------------------------
def test_server_restart_mid_call_hangup_delivered_no_false_missed_call(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    connect_call(alice, bob)
    alice.wait_media_growing()
    bob.wait_media_growing()
    bob.js(HANGUPS)

    app_server.stop()
    for phone in (alice, bob):
        phone.page.wait_for_selector("#server-status:not([hidden])", timeout=WAIT)
    assert "reconnecting" in alice.page.text_content("#server-status").lower()
    assert alice.page.get_attribute("body", "data-server") == "reconnecting"
    shoot(alice.page, "server-down-in-call")

    alice.page.click("#hangup-button")
    alice.wait_state("idle")
    # Bob leaves the call although the server is down (the hang-up also rode the data channel) ...
    bob.wait_state("idle")
    assert bob.notice_reason() == "remote-hangup"
    assert bob.page.text_content("#call-timer") == ""
    shoot(bob.page, "hung-up-during-outage")

    app_server.start()
    # ... and the hang-up sent through the server is delivered once it is back.
    bob.page.wait_for_function("() => window.hangups.length === 1", timeout=60_000)
    bob.page.wait_for_selector("#server-status", state="hidden", timeout=WAIT)
    bob.page.wait_for_timeout(1500)  # room for a late, wrong "missed call"
    assert bob.state == "idle" and bob.notice_reason() == "remote-hangup"
    assert missed_entries(bob) == [] and missed_entries(alice) == []
    assert bob.page.is_hidden("#missed-block")


# 2. ghosts -------------------------------------------------------------------------------
def _kill_browser(marker: str) -> int:
    """kill -9 every process of the browser we launched with ``marker`` in its command line."""
    killed = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    os.kill(int(pid), signal.SIGKILL)
                    killed += 1
        except (OSError, ProcessLookupError):
            continue
    return killed


def test_crashed_peer_is_connection_lost_and_the_call_ends(app_server, new_context, playwright_instance):
    # Alice runs in her own browser, which we kill -9: no pagehide, no hang-up, her media just stops.
    marker = f"phone-crash-{uuid.uuid4().hex}"
    other = browser_support.launch(playwright_instance, [f"--user-agent=Mozilla/5.0 {marker}"])
    alice = Phone(lambda **kw: other.new_context(**kw), app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    connect_call(alice, bob)
    bob.wait_media_growing()
    assert _kill_browser(marker) > 0
    # Either the media path is seen down first ("Connection lost", then the call
    # ends after the bound), or the server's departure of Alice (5 s after her
    # stream closed) answers Bob's ping with 404 first and the call ends as
    # "offline" at once: both are right, and which comes first is a race.
    bob.page.wait_for_function(
        "() => document.querySelector('#call-status').textContent.startsWith('Connection lost')"
        " || window.phone.state === 'idle'",
        timeout=WAIT,
    )
    shoot(bob.page, "connection-lost")
    # Ended within the bound (12 s after the media path went down), not left ringing on forever.
    bob.wait_state("idle", timeout=25_000)
    assert bob.notice_reason() in ("failed", "offline")
    assert bob.page.text_content("#call-timer") == ""


def test_calling_someone_who_left_says_offline_at_once_and_drops_the_contact(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    alice.contact(bob).wait_for(timeout=WAIT)
    bob.page.click("#signout-button")
    bob.page.wait_for_selector("#screen-register:not([hidden])", timeout=WAIT)
    # Alice presses Bob before her list refreshed; when "offline" shows, Bob must not be listed.
    listed_when_told = alice.js(
        """(number) => new Promise((resolve) => {
            window.phone.ui.dial(number, 'Bob');
            const check = () => {
              if (!document.querySelector('#notice').hidden) {
                resolve(!!document.querySelector(`#contacts button[data-peer-id="${number}"]`));
              } else setTimeout(check, 5);
            };
            check();
        })""",
        bob.number,
    )
    assert alice.notice_reason() == "offline"
    assert listed_when_told is False
    assert alice.page.text_content("#notice-text") == "Bob is offline"


def test_directory_is_listed_searched_paged_and_cheap_to_poll(app_server_factory, new_context):
    server = app_server_factory({"REGISTER_RATE": "1000"})
    alice = Phone(new_context, server, "Alice")
    assert alice.js("() => window.phone.client.session.listed") is True
    for n in range(60):
        register_api(server, f"Person {n:02d}")
    alice.page.wait_for_function("() => document.querySelectorAll('#contacts button').length >= 49", timeout=WAIT)
    assert alice.page.is_visible("#contacts-more")
    alice.page.click("#contacts-more")
    alice.page.wait_for_function("() => document.querySelectorAll('#contacts button').length >= 60", timeout=WAIT)
    # Search goes to the server (q) and finds people beyond the first page.
    alice.page.fill("#search", "person 5")
    alice.page.wait_for_function("() => document.querySelectorAll('#contacts button').length === 10", timeout=WAIT)
    names = alice.page.eval_on_selector_all("#contacts .contact-name", "els => els.map((e) => e.textContent)")
    assert names == [f"Person {n}" for n in range(50, 60)]
    urls = alice.js("() => performance.getEntriesByType('resource').map((e) => e.name)")
    assert any("/v1/peers?" in u and "q=person" in u for u in urls), urls
    shoot(alice.page, "directory-search")
    # Polling with If-None-Match: nothing changed, so the server answers 304.
    alice.page.wait_for_function("() => window.phone.directory.notModified >= 2", timeout=WAIT)


# 3. one person per browser ---------------------------------------------------------------
def test_one_phone_per_browser_signout_rename_and_no_auto_registration(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    context = new_context(viewport={"width": 400, "height": 820})
    first = context.new_page()
    first.goto(app_server.url("/phone"))
    first.wait_for_selector("#screen-register:not([hidden])", timeout=WAIT)
    first.fill("#name-input", "Bob")
    first.click("#register-button")
    first.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    number = first.evaluate("() => window.phone.client.peerId")

    second = context.new_page()
    second.goto(app_server.url("/phone"))
    second.wait_for_selector("#screen-elsewhere:not([hidden])", timeout=WAIT)
    assert second.evaluate("() => window.phone.client") is None
    shoot(second, "open-in-another-tab")

    # Change name: same number, the others see the new name.
    first.click("#rename-button")
    first.wait_for_selector("#screen-register:not([hidden])", timeout=WAIT)
    shoot(first, "change-name")
    first.fill("#name-input", "Robert")
    first.click("#register-button")
    first.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    assert first.evaluate("() => window.phone.client.peerId") == number
    alice.page.wait_for_function(
        "(n) => document.querySelector(`#contacts button[data-peer-id=\"${n}\"] .contact-name`)?.textContent === 'Robert'",
        arg=number,
        timeout=WAIT,
    )

    # The first tab closes: the second takes over, but only after the user's own name step.
    first.close()
    second.wait_for_selector("#screen-register:not([hidden])", timeout=WAIT)
    assert second.input_value("#name-input") == "Robert"  # remembered for convenience
    second.wait_for_timeout(1000)
    assert second.evaluate("() => window.phone.client") is None  # nothing registered by itself
    second.click("#register-button")
    second.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)

    # "Use here" in a third tab: the second steps aside and signs out.
    third = context.new_page()
    third.goto(app_server.url("/phone"))
    third.wait_for_selector("#screen-elsewhere:not([hidden])", timeout=WAIT)
    third.click("#use-here-button")
    third.wait_for_selector("#screen-register:not([hidden])", timeout=WAIT)
    second.wait_for_selector("#screen-elsewhere:not([hidden])", timeout=WAIT)
    assert second.evaluate("() => window.phone.client") is None

    # Sign out from the tab in use: gone from the others' list.
    third.click("#register-button")
    third.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    now = third.evaluate("() => window.phone.client.peerId")
    alice.page.locator(f'#contacts button[data-peer-id="{now}"]').wait_for(timeout=WAIT)
    third.click("#signout-button")
    third.wait_for_selector("#screen-register:not([hidden])", timeout=WAIT)
    assert third.evaluate("() => document.activeElement.id") == "name-input"
    shoot(third, "signed-out")
    alice.page.locator(f'#contacts button[data-peer-id="{now}"]').wait_for(state="detached", timeout=WAIT)


def test_do_not_disturb_declines_as_busy_and_shows_it(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    bob.page.click("#dnd-button")
    assert bob.page.get_attribute("#dnd-button", "aria-pressed") == "true"
    assert bob.page.is_visible("#dnd-badge")
    alice.dial(bob)
    alice.wait_state("idle")
    assert alice.notice_reason() == "busy"
    bob.page.wait_for_selector('#missed button[data-reason="dnd"]', timeout=WAIT)
    assert bob.state == "idle"
    assert "Do not disturb" in bob.page.text_content("#missed")
    assert len(missed_entries(bob)) == 1  # one call, one entry
    shoot(bob.page, "do-not-disturb")
    bob.page.click("#dnd-button")  # off again: calls ring
    alice.dial(bob)
    bob.wait_state("incoming")
    bob.page.click("#decline-button")


# 4. plain HTTP from another device --------------------------------------------------------
def test_plain_http_from_another_device_explains_https(app_server, new_context, playwright_instance):
    bob = Phone(new_context, app_server, "Bob")
    # Another device: a non-localhost name over plain http (mapped to loopback) is not a secure context.
    other = browser_support.launch(playwright_instance, ["--host-resolver-rules=MAP phone.test 127.0.0.1"])
    try:
        page = other.new_context(viewport={"width": 400, "height": 820}).new_page()
        port = app_server.url("/").split(":")[2].split("/")[0]
        page.goto(f"http://phone.test:{port}/phone")
        assert page.evaluate("() => window.isSecureContext") is False
        page.fill("#name-input", "Ann")
        page.click("#register-button")
        page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
        note = page.text_content("#insecure-note")
        assert "https" in note and "localhost" in note, note
        shoot(page, "insecure-http")
        page.locator(f'#contacts button[data-peer-id="{bob.number}"]').click(timeout=WAIT)
        page.wait_for_selector("#notice:not([hidden])", timeout=WAIT)
        assert page.get_attribute("#notice", "data-reason") == "insecure"
        assert "https" in page.text_content("#notice-text")
        assert bob.state == "idle"  # nobody was rung for a call that could not have audio
    finally:
        other.close()


# 5. the other side's state ----------------------------------------------------------------
FAKE_NOTIFICATION = """
window.__notes = []; window.__asked = 0;
class FakeNotification {
  constructor(title, options) { this.title = title; window.__notes.push({ title, body: options && options.body }); }
  close() { this.closed = true; }
}
FakeNotification.permission = 'default';
FakeNotification.requestPermission = async () => { window.__asked += 1; FakeNotification.permission = 'granted'; return 'granted'; };
window.Notification = FakeNotification;
"""


def test_remote_mute_title_and_notification(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob", init_script=FAKE_NOTIFICATION)
    assert bob.js("() => window.__asked") == 0  # never asked on load
    bob.page.click("#notify-button")
    assert bob.js("() => window.__asked") == 1
    bob.page.wait_for_selector("#notify-button", state="hidden")

    alice.dial(bob)
    bob.wait_state("incoming")
    bob.page.wait_for_function("() => document.title.startsWith('Alice is calling')", timeout=WAIT)
    assert bob.js("() => window.__notes.map((n) => n.title)") == ["Alice is calling…"]
    shoot(bob.page, "incoming")
    bob.page.click("#accept-button")
    for phone in (alice, bob):
        phone.wait_state("in-call")
    assert bob.js("() => document.title") == "Phone"
    bob.wait_media_growing()

    alice.page.click("#mute-button")
    bob.page.wait_for_selector("#remote-muted:not([hidden])", timeout=WAIT)
    assert bob.page.text_content("#remote-muted").strip() == "Alice muted their microphone"
    shoot(bob.page, "remote-muted")
    alice.page.click("#mute-button")
    bob.page.wait_for_selector("#remote-muted", state="hidden", timeout=WAIT)
    bob.page.click("#hangup-button")
    alice.wait_state("idle")


# 6. accessibility: a call with the keyboard only -------------------------------------------
def tab_to(page, selector: str, limit: int = 30) -> None:
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement?.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_call_keeps_focus(app_server, new_context):
    bob = Phone(new_context, app_server, "Bob")
    page = new_context(viewport={"width": 400, "height": 820}).new_page()
    page.goto(app_server.url("/phone"))
    page.wait_for_selector("#screen-register:not([hidden])", timeout=WAIT)
    assert page.evaluate("() => document.activeElement.id") == "name-input"
    page.keyboard.type("Alice")
    page.keyboard.press("Enter")
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    contact = f'#contacts button[data-peer-id="{bob.number}"]'
    page.wait_for_selector(contact, timeout=WAIT)
    # The row's accessible name includes what it shows (label-in-name), and no aria-label hides it.
    assert page.get_attribute(contact, "aria-label") is None
    assert "Bob" in page.locator(contact).inner_text()
    tab_to(page, contact)
    page.keyboard.press("Enter")
    bob.wait_state("incoming")
    assert bob.js("() => document.activeElement.id") == "accept-button"
    bob.page.keyboard.press("Enter")
    page.wait_for_function("() => window.phone.state === 'in-call'", timeout=WAIT)
    page.wait_for_function("() => document.activeElement.id === 'hangup-button'", timeout=WAIT)
    grow = "() => { const c = window.phone.call; c && c.stats().catch(() => {}); return c?.lastStats?.bytesReceived > 2000; }"
    page.wait_for_function(grow, timeout=WAIT, polling=250)
    bob.wait_media_growing()
    page.keyboard.press("Enter")  # hang up
    page.wait_for_function("() => window.phone.state === 'idle'", timeout=WAIT)
    page.wait_for_function("(s) => document.activeElement?.matches(s)", arg=contact, timeout=WAIT)
    bob.wait_state("idle")
    bob.page.wait_for_function("() => document.activeElement && document.activeElement !== document.body", timeout=WAIT)
    shoot(page, "focus-after-call")


# 7. polish ----------------------------------------------------------------------------------
def test_favicon_and_long_names_clamped(app_server, new_context):
    long_name = "Maximilian Alexander Konstantin Friedrich Wilhelm von Hohenzollern"[:64]
    bob = Phone(new_context, app_server, long_name)
    context = new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failures = []
    page.on("response", lambda r: failures.append(r.url) if r.status >= 400 else None)
    page.goto(app_server.url("/phone"))
    page.fill("#name-input", "Alice")
    page.click("#register-button")
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    icon = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(app_server.url(icon)).status == 200
    name = page.locator(f'#contacts button[data-peer-id="{bob.number}"] .contact-name')
    name.wait_for(timeout=WAIT)
    assert name.get_attribute("title") == long_name
    lines = page.evaluate(
        "(el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight))",
        name.element_handle(),
    )
    assert lines <= 2, lines
    assert name.evaluate("(el) => el.scrollHeight > el.clientHeight")  # really clamped, not just short
    assert failures == [], failures
    shoot(page, "long-name")
