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


def test_sse_blocked_falls_back_to_longpoll(app_server, new_context):
    # A proxy that refuses event streams: every /v1/events request fails at once.
    context = new_context()
    context.route("**/v1/events*", lambda route: route.abort("connectionrefused"))
    page = context.new_page()
    page.goto(app_server.url("/phone"))
    page.fill("#name-input", "Behind a proxy")
    page.click("#register-button")
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    assert page.evaluate("() => window.phone.client.transport") == "longpoll"
    counters = page.evaluate("() => window.phone.client.counters")
    assert counters["sseOpens"] >= 3 and counters["sseReady"] == 0 and counters["polls"] > 0, counters
    assert page.get_attribute("#notice", "data-reason") == "status.longpoll"


def test_silent_sse_falls_back_to_longpoll_and_calls_work(app_server, new_context):
    # A buffering proxy: the event stream request never yields a byte.
    held = []
    alice = Phone(new_context, app_server, "Alice")
    context = new_context()
    context.route("**/v1/events*", lambda route: held.append(route))
    page = context.new_page()
    page.goto(app_server.url("/phone"))
    page.fill("#name-input", "Bob")
    page.click("#register-button")
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    assert held, "the stream was attempted"
    assert page.evaluate("() => window.phone.client.transport") == "longpoll"
    bob_number = page.evaluate("() => window.phone.client.peerId")
    button = alice.page.locator(f'#contacts button[data-peer-id="{bob_number}"]')
    button.wait_for(timeout=WAIT)
    button.click()
    page.wait_for_function("() => window.phone.state === 'incoming'", timeout=WAIT)
    page.click("#accept-button")
    alice.wait_state("in-call")
    alice.wait_media_growing()


def test_session_ended_is_re_registered_with_the_same_number(app_server_factory, new_context):
    server = app_server_factory({"SSE_KEEPALIVE": "0.5"})  # the stream notices a dead session quickly
    alice = Phone(new_context, server, "Alice")
    bob = Phone(new_context, server, "Bob")
    number = bob.number
    # The server forgets Bob's session (as after a presence timeout); his client keeps running.
    status = bob.js(
        "async () => (await fetch('/v1/sessions/me', {method: 'DELETE',"
        " headers: {Authorization: 'Bearer ' + window.phone.client.token}})).status"
    )
    assert status == 204
    bob.page.wait_for_function("() => window.phone.client.counters.registrations === 2", timeout=WAIT)
    bob.page.wait_for_function("() => window.phone.client.connected", timeout=WAIT)
    assert bob.js("() => window.phone.client.peerId") == number
    connect_call(alice, bob)
    bob.wait_media_growing()


def test_leaving_the_page_ends_the_call_and_the_listing(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    connect_call(alice, bob)
    alice.wait_media_growing()
    bob.page.goto("about:blank")  # pagehide: hang-up and DELETE /v1/sessions/me, both keepalive fetches
    alice.wait_state("idle")
    assert alice.notice_reason() in ("remote-hangup", "offline")
    alice.contact(bob).wait_for(state="detached", timeout=WAIT)


def test_client_honours_the_servers_advertised_transports(app_server_factory, new_context):
    # As on App Engine standard, where responses are buffered: the server offers long-poll only.
    server = app_server_factory({"TRANSPORTS": "longpoll"})
    phone = Phone(new_context, server, "Alice")
    assert phone.js("() => window.phone.client.session.transports") == ["longpoll"]
    assert phone.js("() => window.phone.client.transport") == "longpoll"
    assert phone.js("() => window.phone.client.counters.sseOpens") == 0


def test_messages_survive_stream_rollovers_exactly_once(app_server_factory, new_context):
    # Streams end every second (the server's bounded duration); the client resumes from its cursor.
    server = app_server_factory({"STREAM_MAX_DURATION": "1"})
    alice = Phone(new_context, server, "Alice")
    bob = Phone(new_context, server, "Bob")
    bob.js("() => { window.got = []; window.phone.client.on('count', (env) => window.got.push(env.data.n)); }")
    alice.js(
        "async (to) => { for (let n = 0; n < 40; n++) {"
        " await window.phone.client.send(to, 'count', {n}); await new Promise((r) => setTimeout(r, 75)); } }",
        bob.number,
    )
    bob.page.wait_for_function("() => window.got.length >= 40", timeout=WAIT)
    bob.page.wait_for_timeout(1500)  # room for a late duplicate to show up, if there were one
    assert bob.js("() => window.got") == list(range(40))
    assert bob.js("() => window.phone.client.counters.sseReady") >= 3
    assert bob.js("() => window.phone.client.transport") == "sse"
    # Each rollover was announced (event: end) and followed at once: no failure path, no backoff.
    counters = bob.js("() => window.phone.client.counters")
    assert counters["sseRoutineEnds"] >= 3 and counters["sseErrors"] == 0, counters


def test_media_loss_shows_reconnecting_and_restarts_ice(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    connect_call(alice, bob)
    bob.wait_media_growing()
    # Alice's media path dies (her peer connection goes away) while signaling still works.
    alice.js("() => window.phone.call.pc.close()")
    bob.page.wait_for_selector(
        '#screen-call[data-connection="disconnected"], #screen-call[data-connection="failed"]', timeout=WAIT
    )
    assert bob.page.text_content("#call-status") == "Connection lost, reconnecting…"
    assert bob.state == "in-call"  # not dropped at the first hiccup
    bob.page.wait_for_function("() => window.phone.call.iceRestarts > 0", timeout=WAIT)
    bob.page.click("#hangup-button")
    alice.wait_state("idle")
