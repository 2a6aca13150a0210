"""The phone app in real Chromium over real gunicorn + redis-server: calls, decline, busy, glare, missed.

Media is proven by inbound-rtp bytesReceived growing on each side (read from
``window.phone.call.stats()``, i.e. RTCPeerConnection.getStats()). Every wait
is a Playwright wait with a generous timeout; nothing asserts on wall-clock time.
"""

from __future__ import annotations

from tests.support.browser import artifact_path

WAIT = 30_000  # ms: generous, for slow CI machines
STATS_ABOVE = (
    "(n) => { const c = window.phone.call; if (!c) return false; c.stats().catch(() => {});"
    " return !!c.lastStats && c.lastStats.%s > n; }"
)


class Phone:
    """One person with the phone app open in their own browser context."""

    def __init__(self, new_context, server, name: str, query: str = "", init_script: str | None = None):
        context = new_context(viewport={"width": 400, "height": 820})
        if init_script:
            context.add_init_script(init_script)
        self.page = context.new_page()
        self.name = name
        self.page.goto(server.url("/phone" + query))
        self.page.fill("#name-input", name)
        self.page.click("#register-button")
        self.page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
        self.number = self.page.evaluate("() => window.phone.client.peerId")

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    @property
    def state(self) -> str:
        return self.js("() => window.phone.state")

    def wait_state(self, state: str, timeout: int = WAIT) -> None:
        self.page.wait_for_function("(s) => window.phone.state === s", arg=state, timeout=timeout)

    def contact(self, other: Phone):
        return self.page.locator(f'#contacts button[data-peer-id="{other.number}"]')

    def dial(self, other: Phone) -> None:
        """Click the other person in the live contact list (it refreshes every few seconds)."""
        button = self.contact(other)
        button.wait_for(timeout=WAIT)
        button.click()

    def notice_reason(self) -> str:
        self.page.wait_for_selector("#notice:not([hidden])", timeout=WAIT)
        return self.page.get_attribute("#notice", "data-reason")

    def stats(self) -> dict:
        return self.js("async () => await window.phone.call.stats()")

    def wait_media_growing(self, more_than: int = 0) -> int:
        """Wait until received RTP bytes exceed ``more_than``, then until they grow again; returns the count."""
        # Playwright waits need a synchronous predicate (a Promise would count as truthy at once):
        # each poll asks for fresh stats and reads the latest finished result.
        grow = STATS_ABOVE % "bytesReceived"
        self.page.wait_for_function(grow, arg=more_than, timeout=WAIT, polling=250)
        first = self.stats()["bytesReceived"]
        self.page.wait_for_function(grow, arg=first + 2000, timeout=WAIT, polling=250)
        return self.stats()["bytesReceived"]


def connect_call(caller: Phone, callee: Phone) -> None:
    caller.dial(callee)
    callee.wait_state("incoming")
    callee.page.click("#accept-button")
    for phone in (caller, callee):
        phone.wait_state("in-call")


def test_call_rings_connects_streams_and_hangs_up(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice <b>&amp;</b>")
    bob = Phone(new_context, app_server, "Bob")

    alice.dial(bob)
    bob.wait_state("incoming")
    # The caller's name arrives as text, never as markup.
    assert bob.page.text_content("#call-peer-name") == "Alice <b>&amp;</b>"
    assert bob.page.locator("#call-peer-name b").count() == 0
    assert bob.page.is_visible("#accept-button") and bob.page.is_visible("#decline-button")
    assert bob.js("() => window.phone.tones.playing") == "ringtone"
    alice.page.wait_for_function(
        "() => document.getElementById('call-status').textContent.length > 0 && window.phone.tones.playing === 'ringback'",
        timeout=WAIT,
    )
    assert alice.state == "calling"
    bob.page.screenshot(path=str(artifact_path("phone-incoming.png")))

    bob.page.click("#accept-button")
    for phone in (alice, bob):
        phone.wait_state("in-call")
        assert phone.js("() => window.phone.call.connectionState") == "connected"
        assert phone.js("() => window.phone.tones.playing") is None
    alice_bytes = alice.wait_media_growing()
    bob_bytes = bob.wait_media_growing()
    assert alice_bytes > 0 and bob_bytes > 0
    # Messages queued within a few ms (as trickle ICE candidates are) share one POST.
    posts = alice.js("() => window.phone.client.counters.posts")
    alice.js(
        "(to) => Promise.all([1, 2, 3].map((n) => window.phone.client.send(to, 'note', {n}, {batch: true})))",
        bob.number,
    )
    assert alice.js("() => window.phone.client.counters.posts") == posts + 1
    # The timer and the quality read-out run from the call's own data.
    alice.page.wait_for_function(
        "() => /\\d:\\d\\d/.test(document.getElementById('call-timer').textContent)", timeout=WAIT
    )
    alice.page.wait_for_function("() => document.getElementById('quality').dataset.quality !== 'unknown'", timeout=WAIT)
    assert alice.page.text_content("#call-peer-name") == "Bob"
    alice.page.screenshot(path=str(artifact_path("phone-in-call.png")))

    # Mute: the sender keeps sending (no renegotiation) but the track is disabled.
    alice.page.click("#mute-button")
    assert alice.page.get_attribute("#mute-button", "aria-pressed") == "true"
    assert alice.js("() => window.phone.line.localStream.getAudioTracks()[0].enabled") is False
    alice.page.click("#mute-button")
    assert alice.js("() => window.phone.line.localStream.getAudioTracks()[0].enabled") is True

    bob.page.click("#hangup-button")
    for phone in (alice, bob):
        phone.wait_state("idle")
        phone.page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT)
    assert alice.notice_reason() == "remote-hangup"
    assert bob.notice_reason() == "hangup"


def test_video_both_ways_mid_call_without_renegotiation_and_data_channel(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    connect_call(alice, bob)
    bob.wait_media_growing()
    sdp = "() => window.phone.call.pc.localDescription.sdp"
    before = {p.name: p.js(sdp) for p in (alice, bob)}
    # One side is polite (adopted the transceivers), the other created them: cover both senders.
    video_in = STATS_ABOVE % "videoBytesReceived"
    for sender, receiver in ((alice, bob), (bob, alice)):
        sender.page.click("#video-button")
        sender.page.wait_for_function("() => window.phone.line.videoOn", timeout=WAIT)
        assert sender.page.get_attribute("#video-button", "aria-pressed") == "true"
        receiver.page.wait_for_function(video_in, arg=5000, timeout=WAIT, polling=250)
        receiver.page.wait_for_selector("#remote-video:not([hidden])", timeout=WAIT)
    for phone in (alice, bob):  # replaceTrack on the existing transceivers: no new offer/answer
        assert phone.js(sdp) == before[phone.name]
        assert phone.js("() => window.phone.call.pc.getTransceivers().length") == 2

    # The negotiated data channel (what the rooms' text chat uses) works both ways.
    listen = "() => { window.got = []; window.phone.call.addEventListener('datamessage', (e) => window.got.push(e.detail.data)); }"
    for phone in (alice, bob):
        phone.js(listen)
    assert alice.js("() => window.phone.call.sendData({text: 'hi Bob'})") is True
    assert bob.js("() => window.phone.call.sendData('hi Alice')") is True
    bob.page.wait_for_function("() => window.got.length === 1 && window.got[0].text === 'hi Bob'", timeout=WAIT)
    alice.page.wait_for_function("() => window.got.length === 1 && window.got[0] === 'hi Alice'", timeout=WAIT)

    alice.page.click("#video-button")  # camera off again
    alice.page.wait_for_function("() => !window.phone.line.videoOn", timeout=WAIT)
    alice.page.click("#hangup-button")
    bob.wait_state("idle")


def test_decline(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    alice.dial(bob)
    bob.wait_state("incoming")
    bob.page.click("#decline-button")
    alice.wait_state("idle")
    bob.wait_state("idle")
    assert alice.notice_reason() == "remote-declined"
    assert bob.notice_reason() == "declined"
    assert alice.js("() => window.phone.tones.playing") is None


def test_busy_while_in_another_call(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    carol = Phone(new_context, app_server, "Carol")
    connect_call(alice, bob)

    carol.contact(alice).wait_for(timeout=WAIT)
    carol.contact(bob).wait_for(timeout=WAIT)
    carol.page.screenshot(path=str(artifact_path("phone-contacts.png")))
    carol.dial(bob)
    carol.wait_state("idle")
    assert carol.notice_reason() == "busy"
    # Bob was never interrupted, and he can see who tried to call.
    assert bob.state == "in-call" and alice.state == "in-call"
    bob.wait_media_growing()
    bob.page.click("#hangup-button")
    bob.page.wait_for_selector('#missed button[data-peer-id="%s"]' % carol.number, timeout=WAIT)
    assert "Carol" in bob.page.text_content("#missed")


def test_both_call_each_other_at_the_same_moment(app_server, new_context):
    alice = Phone(new_context, app_server, "Alice")
    bob = Phone(new_context, app_server, "Bob")
    for me, other in ((alice, bob), (bob, alice)):
        me.contact(other).wait_for(timeout=WAIT)
    # Both dial at one shared instant (both contexts share the browser's clock).
    at = alice.js("() => Date.now() + 600")
    schedule = "([at, peer, name]) => { setTimeout(() => window.phone.ui.dial(peer, name), at - Date.now()); }"
    alice.js(schedule, [at, bob.number, bob.name])
    bob.js(schedule, [at, alice.number, alice.name])
    for phone in (alice, bob):
        phone.wait_state("in-call")
    assert alice.js("() => window.phone.line.callId") == bob.js("() => window.phone.line.callId")
    alice.wait_media_growing()
    bob.wait_media_growing()

    # Now real SDP glare: both restart ICE at the same instant; perfect negotiation
    # (the polite side rolls back) must end in one connected session with new ICE credentials.
    ufrag = "() => /a=ice-ufrag:(\\S+)/.exec(window.phone.call.pc.localDescription.sdp)[1]"
    before = {p.name: p.js(ufrag) for p in (alice, bob)}
    at = alice.js("() => Date.now() + 300")
    restart = "(at) => { setTimeout(() => window.phone.call.restartIce(), at - Date.now()); }"
    alice.js(restart, at)
    bob.js(restart, at)
    for phone in (alice, bob):
        phone.page.wait_for_function(
            "(old) => { const c = window.phone.call; const m = /a=ice-ufrag:(\\S+)/.exec(c.pc.localDescription.sdp);"
            " return c.pc.signalingState === 'stable' && m[1] !== old && c.pc.connectionState === 'connected'; }",
            arg=before[phone.name],
            timeout=WAIT,
        )
        assert phone.js("() => window.phone.call.pc.getTransceivers().length") == 2
    alice.wait_media_growing(alice.stats()["bytesReceived"])
    bob.wait_media_growing(bob.stats()["bytesReceived"])


def test_unanswered_call_is_missed(app_server, new_context):
    # ring_timeout shortens the 30 s default so the test stays quick.
    alice = Phone(new_context, app_server, "Alice", "?ring_timeout=3")
    bob = Phone(new_context, app_server, "Bob", "?ring_timeout=3")
    alice.dial(bob)
    bob.wait_state("incoming")
    alice.wait_state("idle")
    bob.wait_state("idle")
    assert alice.notice_reason() == "no-answer"
    assert bob.notice_reason() == "missed"
    bob.page.wait_for_selector('#missed button[data-peer-id="%s"]' % alice.number, timeout=WAIT)
    assert "Alice" in bob.page.text_content("#missed")


DENY_MIC = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
"""


def test_microphone_denied_and_offline_peer(app_server, new_context):
    # Chromium here auto-grants (fake media UI), so denial is simulated by a getUserMedia that refuses.
    alice = Phone(new_context, app_server, "Alice", init_script=DENY_MIC)
    bob = Phone(new_context, app_server, "Bob")
    alice.dial(bob)
    alice.wait_state("idle")
    assert alice.notice_reason() == "mic-denied"
    assert bob.state == "idle"

    # Bob dials Alice from a stale list: her session ended before the invite gets there.
    # (Through the app's dial(): the live list would drop her button before a click lands.)
    alice.js("() => window.phone.client.leave()")
    bob.js("([peer, name]) => window.phone.ui.dial(peer, name)", [alice.number, alice.name])
    bob.wait_state("idle")
    assert bob.notice_reason() == "offline"
