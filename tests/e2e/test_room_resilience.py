"""Rooms through a server outage and a crashed tab, in real Chromium over real gunicorn + redis-server.

* Outage: the app server is stopped mid-room. Both members see a warning while it
  is down, media keeps flowing peer to peer (getStats bytes grow), the warning
  goes when it is back, and the chat says "Ren joined" once, not again on recovery.
* Ghost: a member's renderer crashes (no pagehide, no goodbye). With the server's
  presence TTL left at its default (45 s), the others drop the frozen tile once the
  server's departure (peer-left) says so, within seconds, not 45 s.
* Lost path: a pair's connection that stays down while both are still members is shown
  "connection lost" and rebuilt until media flows again; only the server removes a member.
"""

from __future__ import annotations

from tests.e2e.test_rooms import join, wait_media
from tests.support.browser import artifact_path

WAIT = 30_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHAT_TEXT = "() => document.querySelector('#chat-log').textContent"


def _count(page, text: str) -> int:
    return page.evaluate(CHAT_TEXT).count(text)


def _two_members(server, new_context, room: str):
    ada = new_context(locale="en-US", viewport=DESKTOP).new_page()
    ren = new_context(locale="en-US", viewport=PHONE).new_page()
    for page, name in ((ada, "Ada"), (ren, "Ren")):
        join(page, server.base, name, room=room)
        page.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    for page in (ada, ren):
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 1", timeout=WAIT)
        wait_media(page, "video")
    return ada, ren


def test_outage_warns_keeps_media_and_does_not_repeat_joined(app_server_factory, new_context):
    server = app_server_factory()
    ada, ren = _two_members(server, new_context, "outage")
    assert _count(ada, "Ren joined") == 1
    server.stop()
    for page in (ada, ren):
        page.wait_for_selector("#server-warning:not([hidden])", timeout=WAIT)
        assert "server cannot be reached" in page.locator("#server-warning").inner_text()
        wait_media(page, "video")  # the call itself does not need the server
    ada.screenshot(path=str(artifact_path("room-outage-desktop.png")))
    ren.screenshot(path=str(artifact_path("room-outage-phone.png")))
    server.start()
    for page in (ada, ren):
        page.wait_for_selector("#server-warning", state="hidden", timeout=WAIT)
    # a newcomer after recovery: once Ada's chat shows her, every earlier server event reached Ada
    cy = new_context(locale="en-US").new_page()
    join(cy, server.base, "Cy", camera=False, mic=False, room="outage")
    for page in (ada, ren):
        page.wait_for_function("() => document.querySelector('#chat-log').textContent.includes('Cy joined')")
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 2", timeout=WAIT)
    assert _count(ada, "Ren joined") == 1, ada.evaluate(CHAT_TEXT)
    assert _count(ren, "Ada joined") == 0, ren.evaluate(CHAT_TEXT)
    wait_media(ada, "video")


def test_crashed_tab_tile_goes_within_the_client_bound(app_server_factory, new_context):
    server = app_server_factory()  # PRESENCE_TTL at its 45 s default: the server is no help here
    ada, ren = _two_members(server, new_context, "ghost")
    try:  # a real renderer crash: no pagehide, no goodbye, no keepalive DELETE
        ren.goto("chrome://crash", timeout=5000)
    except Exception:  # noqa: BLE001 - the navigation dies with the renderer
        pass
    ren.context.close()
    # whichever comes first: the server's departure (peer-left "disconnected", ~5 s after the
    # stream closed) or the client's own bound (LOST_AFTER_MS = 12 s after the connection drops,
    # which takes ~5 s); on the old server alone it took the presence TTL, 30-45 s
    ada.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 0", timeout=25_000)
    assert "Ren lost the connection" in ada.evaluate(CHAT_TEXT)
    assert ada.evaluate("window.room.session.members.size") == 0
    ada.screenshot(path=str(artifact_path("room-ghost-gone-desktop.png")))


BADGE_SHOWS = "(text) => [...document.querySelectorAll('.tile:not(.local) .state')].some(b => !b.hidden && b.textContent === text)"
BADGE_GONE = "() => [...document.querySelectorAll('.tile:not(.local) .state')].every(b => b.hidden)"


def test_a_connection_that_stays_down_is_shown_lost_then_rebuilt(app_server_factory, new_context):
    """No word from the server (Ren's session stays live): only WebRTC knows the path died.

    Ada shows "Connection lost", asks the server (Ren is still a member) and rebuilds the pair's
    connection; Ren's side, whose RTCPeerConnection died without an event, follows the newer
    generation. The tile comes back with media flowing both ways, and nobody "left".
    """
    server = app_server_factory()
    ada, ren = _two_members(server, new_context, "lost")
    # Ren's side of the media path dies (its RTCPeerConnection closed, no event to the app)
    # while Ren's tab and session live on, so the server never says Ren left
    ren.evaluate("() => { for (const m of window.room.session.members.values()) m.call.pc.close(); }")
    ada.wait_for_function(BADGE_SHOWS, arg="Connection lost", timeout=WAIT, polling=100)
    ada.screenshot(path=str(artifact_path("room-connection-lost-desktop.png")))
    # the path returns (a fresh connection): same tile, no badge, media both ways
    ada.wait_for_function(BADGE_GONE, timeout=45_000, polling=250)
    for page in (ada, ren):
        page.wait_for_function("() => window.room.session.rebuilds >= 1", timeout=WAIT)
        assert page.evaluate("document.querySelectorAll('.tile:not(.local)').length") == 1
        page.wait_for_function(
            "() => [...window.room.session.members.values()].every(m => m.connection === 'connected' && m.gen >= 1)",
            timeout=WAIT,
        )
        wait_media(page, "video")
        wait_media(page, "audio")
    assert "Ren lost the connection" not in ada.evaluate(CHAT_TEXT)
    assert "Ren left" not in ada.evaluate(CHAT_TEXT)
    ada.screenshot(path=str(artifact_path("room-connection-rebuilt-desktop.png")))
    ren.screenshot(path=str(artifact_path("room-connection-rebuilt-phone.png")))


def test_a_lost_member_the_server_no_longer_lists_is_dropped(app_server_factory, new_context):
    """The server's word ends it: once Ren is no longer a member, the lost tile goes for good."""
    server = app_server_factory()
    ada, ren = _two_members(server, new_context, "gone")
    # Ren leaves the room on the server but its data channel "bye" never reaches Ada
    # (channel and connection die first), and the peer-left event is held back from Ada's page:
    # only the roster Ada asks for while recovering can tell her
    ada.evaluate(
        "() => { const s = window.room.session; s._origRemove = s._remove.bind(s);"
        " s._remove = (id, reason, opts) => reason === 'lost' ? s._origRemove(id, reason, opts) : undefined; }"
    )
    ren.evaluate(
        "async () => { const s = window.room.session; for (const m of s.members.values()) m.call.pc.close();"
        " await s.client.leaveRoom(s.room); }"
    )
    ada.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 0", timeout=45_000)
    assert "Ren lost the connection" in ada.evaluate(CHAT_TEXT)
    assert ada.evaluate("window.room.session.rebuilds || 0") == 0
