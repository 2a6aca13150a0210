"""The phone over long-poll only, and a call whose setup survives an app-server restart."""

from __future__ import annotations

from tests.e2e.test_phone import WAIT, Phone, connect_call

REQUESTS = "() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)"


def test_whole_call_over_forced_longpoll(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice", "?transport=longpoll")
    bob = Phone(new_context, app_server, "Bob", "?transport=longpoll")
    connect_call(alice, bob)
    alice.wait_media_growing()
    bob.wait_media_growing()
    bob.page.click("#hangup-button")
    alice.wait_state("idle")
    assert alice.notice_reason() == "remote-hangup"

    for phone in (alice, bob):
        assert phone.js("() => window.phone.client.transport") == "longpoll"
        counters = phone.js("() => window.phone.client.counters")
        assert counters["sseOpens"] == 0 and counters["polls"] > 1, counters
        paths = phone.js(REQUESTS)
        assert "/v1/messages" in paths, paths  # fetch() resources: the long-polls themselves
        assert "/v1/events" not in paths, paths
        assert phone.page.get_attribute("body", "data-transport") == "longpoll"


def test_call_connects_after_app_restart_mid_setup(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    alice.dial(bob)
    bob.wait_state("incoming")
    assert bob.js("() => window.phone.client.transport") == "sse"
    ready_before = bob.js("() => window.phone.client.counters.sseReady")

    # The app process goes away while Bob is deciding: both SSE streams are cut.
    app_server.stop()
    bob.page.wait_for_function("() => window.phone.client.counters.sseErrors > 0", timeout=WAIT)
    bob.page.wait_for_selector("#server-status:not([hidden])", timeout=WAIT)
    # Bob answers while the server is down: the accept waits in the send queue and is retried.
    bob.page.click("#accept-button")
    app_server.start()  # same port, same Redis: sessions and mailboxes survived

    for phone in (alice, bob):
        phone.wait_state("in-call", timeout=60_000)
    alice.wait_media_growing()
    bob.wait_media_growing()
    counters = bob.js("() => window.phone.client.counters")
    assert counters["sendRetries"] > 0, counters  # the accept really met the outage
    assert counters["sseReady"] > ready_before, counters  # a new stream, resumed from the cursor
    assert bob.js("() => window.phone.client.transport") == "sse"  # an outage is not a reason to downgrade
    assert bob.js("() => window.phone.client.counters.registrations") == 1  # same session, no re-registration
    bob.page.wait_for_selector("#server-status", state="hidden", timeout=WAIT)
    alice.page.click("#hangup-button")
    bob.wait_state("idle")
