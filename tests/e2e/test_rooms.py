"""Multi-party rooms: three real Chromium contexts in one mesh over real gunicorn + redis-server.

The tests in this module run in order on one room: join, media, chat, camera,
mic, device switch, screen share, leave, crash. Media is proven by inbound-rtp
bytes growing on every connection, never by sleeping.
"""

from __future__ import annotations

import pytest

from tests.conftest import SECRET
from tests.support.browser import artifact_path
from tests.support.processes import AppServer

ROOM = "e2e-room"
NAMES = ("Ada", "Björn", "千尋")
PRESENCE_TTL = "6"  # a crashed tab's member disappears within seconds, not 45 s

# every connection on this page: video bytes grow past the snapshot taken before
GROWING = """async ([before, kind]) => {
  const now = await window.room.session.receivedBytes();
  const ids = Object.keys(before);
  return ids.length > 0 && ids.every(id => now[id] && now[id][kind] > before[id][kind]);
}"""
SNAPSHOT = "() => window.room.session.receivedBytes()"


def remote_tiles(page):
    return page.locator(".tile:not(.local)")


def tile_of(page, name):
    return page.locator(".tile:not(.local)", has=page.locator(".name", has_text=name))


def join(page, base, name, camera=True, mic=True, room=ROOM, query="video=low"):
    page.goto(f"{base}/room/{room}?{query}")
    page.fill("#join-name", name)
    page.set_checked("#join-camera", camera)
    page.set_checked("#join-mic", mic)
    page.click("#join-button")


def wait_media(page, kind="video", peers=None):
    before = page.evaluate(SNAPSHOT)
    if peers is not None:
        before = {k: v for k, v in before.items() if k in peers}
    page.wait_for_function(GROWING, arg=[before, kind], polling=250, timeout=30000)


def peer_id(page):
    return page.evaluate("window.room.session.peerId")


@pytest.fixture(scope="module")
def room_server(redis_server):
    server = AppServer(
        {"REDIS_URL": redis_server.url, "SECRET_KEY": SECRET, "KEY_PREFIX": "rooms:", "PRESENCE_TTL": PRESENCE_TTL}
    )
    yield server
    server.discard()


@pytest.fixture(scope="module")
def members(chromium, room_server):
    """Three people in the room: Ada and Björn on desktops, 千尋 on a phone-sized screen."""
    contexts = [
        chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 720}),
        chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 720}),
        chromium.new_context(locale="ja-JP", viewport={"width": 390, "height": 780}),
    ]
    pages = [c.new_page() for c in contexts]
    for page in pages:
        page.on("pageerror", lambda e: print("pageerror:", e))
    for page, name in zip(pages, NAMES, strict=True):
        join(page, room_server.base, name)
        page.wait_for_selector("#room-shell:not([hidden])")
    yield pages
    for context in contexts:
        context.close()


def test_three_members_see_two_remote_tiles_with_video(members):
    for page, name in zip(members, NAMES, strict=True):
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 2")
        others = sorted(n for n in NAMES if n != name)
        assert sorted(remote_tiles(page).locator(".name").all_inner_texts()) == others
        assert page.locator("#tiles").get_attribute("data-count") == "3"
    for page in members:
        wait_media(page, "video")
        wait_media(page, "audio")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.tile:not(.local)')].every(t => !t.classList.contains('camera-off'))"
        )
    # mesh: each of the two uploads is capped for a three-person room
    for page in members:
        page.wait_for_function(
            """() => [...window.room.session.members.values()].every(m =>
                 m.call.transceiver('video').sender.getParameters().encodings[0]?.maxBitrate === 900000)"""
        )
    assert "3 of 6 people" in members[0].locator("#people").inner_text()
    assert "3 / 6 人" in members[2].locator("#people").inner_text()
    for page, name in zip(members, ("ada", "bjorn", "chihiro-phone"), strict=True):
        page.screenshot(path=str(artifact_path(f"room-3-{name}.png")))


def test_chat_reaches_the_other_two(members):
    ada, bjorn, chihiro = members
    ada.fill("#chat-input", "hello <i>everyone</i>")
    ada.press("#chat-input", "Enter")
    for page in (bjorn, chihiro):
        page.wait_for_function("() => window.room.chatReceived.length === 1")
        message = page.evaluate("window.room.chatReceived[0]")
        assert message["name"] == "Ada" and message["text"] == "hello <i>everyone</i>"
        line = page.locator("#chat-log li:not(.system)").last
        assert line.locator(".who").inner_text() == "Ada"
        assert line.locator(".text").inner_text() == "hello <i>everyone</i>"
        assert page.locator("#chat-log i").count() == 0
        assert line.locator("time").get_attribute("datetime")


def test_camera_off_shows_placeholder_then_frames_again(members):
    ada, bjorn, chihiro = members
    ada_id = peer_id(ada)
    ada.click("#ctl-camera")
    assert ada.locator("#ctl-camera").get_attribute("aria-pressed") == "false"
    for page in (bjorn, chihiro):
        tile = tile_of(page, "Ada")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.tile.camera-off .name')].some(n => n.textContent === 'Ada')"
        )
        assert tile.locator(".placeholder").is_visible()
        assert tile.locator(".avatar").inner_text() == "A"
    assert ada.evaluate("window.room.media.cameraTrack") is None  # the camera is released
    ada.click("#ctl-camera")
    for page in (bjorn, chihiro):
        page.wait_for_function(
            "() => ![...document.querySelectorAll('.tile.camera-off .name')].some(n => n.textContent === 'Ada')"
        )
        wait_media(page, "video", peers=[ada_id])
        assert not tile_of(page, "Ada").locator(".placeholder").is_visible()


def test_mic_off_shows_mute_badge(members):
    ada, bjorn, chihiro = members
    bjorn.click("#ctl-mic")
    for page in (ada, chihiro):
        page.wait_for_function(
            "() => [...document.querySelectorAll('.tile.mic-muted .name')].some(n => n.textContent === 'Björn')"
        )
        assert tile_of(page, "Björn").locator("img.mic-off").is_visible()
    bjorn.click("#ctl-mic")
    ada.wait_for_function(
        "() => ![...document.querySelectorAll('.tile.mic-muted .name')].some(n => n.textContent === 'Björn')"
    )


def test_speaking_indicator_from_audio_levels(members):
    # Chromium's fake microphone beeps: every tile lights up now and then
    ada = members[0]
    ada.wait_for_function(
        "() => { window.__spoke = window.__spoke || new Set();"
        " document.querySelectorAll('.tile.speaking .name').forEach(n => window.__spoke.add(n.textContent));"
        " return window.__spoke.size >= 2; }",
        polling=50,
        timeout=20000,
    )


def test_switching_camera_replaces_the_track_and_keeps_streaming(members):
    ada, bjorn, chihiro = members
    ada_id = peer_id(ada)
    before = ada.evaluate("window.room.media.cameraTrack.id")
    ada.click("#ctl-settings")
    ada.wait_for_function("() => document.querySelectorAll('#camera-device option').length > 0")
    ada.select_option("#camera-device", index=0)
    ada.dispatch_event("#camera-device", "change")
    ada.wait_for_function(f"() => window.room.media.cameraTrack.id !== '{before}'")
    # replaceTrack resolves asynchronously: every call's video sender carries the new camera
    ada.wait_for_function(
        """() => [...window.room.session.members.values()].every(m =>
             m.call.transceiver('video').sender.track?.id === window.room.media.cameraTrack.id)"""
    )
    for page in (bjorn, chihiro):
        wait_media(page, "video", peers=[ada_id])


def test_screen_share_replaces_video_and_ends_cleanly(members):
    ada, bjorn, chihiro = members
    ada_id = peer_id(ada)
    ada.click("#ctl-screen")
    ada.wait_for_function("() => window.room.media.screen")
    ada.wait_for_function(
        """() => [...window.room.session.members.values()].every(m =>
             (m.call.transceiver('video').sender.track?.label || '').startsWith('screen'))"""
    )
    for page in (bjorn, chihiro):
        page.wait_for_function(
            "() => [...document.querySelectorAll('.tile.screen .name')].some(n => n.textContent === 'Ada')"
        )
        wait_media(page, "video", peers=[ada_id])
    # the remote picture is the 16:9 screen now, not the 4:3 camera
    bjorn.wait_for_function(
        """() => { const v = [...document.querySelectorAll('.tile.screen')][0].querySelector('video');
                   return v.videoWidth > 0 && Math.abs(v.videoWidth / v.videoHeight - 16 / 9) < 0.05; }"""
    )
    ada.screenshot(path=str(artifact_path("room-3-ada-sharing.png")))
    bjorn.screenshot(path=str(artifact_path("room-3-bjorn-sees-screen.png")))
    # what the browser's own "Stop sharing" does: the track ends (stop() alone fires no event)
    ada.evaluate("() => { const t = window.room.media.screenTrack; t.stop(); t.dispatchEvent(new Event('ended')); }")
    ada.wait_for_function("() => !window.room.media.screen")
    ada.wait_for_function(
        """() => [...window.room.session.members.values()].every(m =>
             m.call.transceiver('video').sender.track === window.room.media.cameraTrack)"""
    )
    assert ada.locator("#ctl-screen").get_attribute("aria-pressed") == "false"
    for page in (bjorn, chihiro):
        page.wait_for_function("() => document.querySelectorAll('.tile.screen').length === 0")
        wait_media(page, "video", peers=[ada_id])


def test_member_whose_session_ended_comes_back_with_fresh_connections(members):
    ada, bjorn, chihiro = members
    bjorn_id = peer_id(bjorn)
    # the server forgets Björn's session (as after a long network outage); his client registers
    # again with the same peer id and re-joins; everybody builds new connections to him
    status = bjorn.evaluate(
        """async () => (await fetch('/v1/sessions/me', {method: 'DELETE',
             headers: {Authorization: 'Bearer ' + window.room.session.client.token}})).status"""
    )
    assert status == 204
    bjorn.wait_for_function("() => window.room.session.restarts === 1", timeout=20000)
    assert peer_id(bjorn) == bjorn_id
    for page in members:
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 2")
    for page in members:
        wait_media(page, "video")
    ada.wait_for_function("() => [...window.room.session.members.values()].every(m => m.connection === 'connected')")


def test_leaving_removes_the_tile_at_once(members):
    ada, bjorn, chihiro = members
    chihiro.click("#ctl-leave")
    chihiro.wait_for_selector("#left-actions:not([hidden])")
    for page in (ada, bjorn):
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 1")
        page.wait_for_function("() => document.querySelector('#chat-log').textContent.includes('千尋 left')")
        assert page.locator("#tiles").get_attribute("data-count") == "2"


def test_crashed_tab_disappears_after_presence_timeout(members):
    ada, bjorn, _ = members
    crashed = []
    bjorn.on("crash", lambda: crashed.append(True))
    try:  # a real renderer crash: no pagehide, no goodbye, no keepalive DELETE
        bjorn.goto("chrome://crash", timeout=5000)
    except Exception:  # noqa: BLE001 - the navigation dies with the renderer
        pass
    ada.wait_for_function(
        "() => document.querySelectorAll('.tile:not(.local)').length === 0", timeout=int(PRESENCE_TTL) * 4000
    )
    assert crashed
    assert "Björn lost the connection" in ada.locator("#chat-log").inner_text()


def test_room_full_refuses_the_fourth(app_server_factory, new_context):
    server = app_server_factory(env={"ROOM_CAPACITY": "3"})
    pages = []
    for name in ("One", "Two", "Three"):
        page = new_context(locale="en-US").new_page()
        join(page, server.base, name, camera=False, mic=False, room="small")
        page.wait_for_selector("#room-shell:not([hidden])")
        pages.append(page)
    fourth = new_context(locale="en-US").new_page()
    join(fourth, server.base, "Four", camera=False, mic=False, room="small")
    fourth.wait_for_selector("#join-error:not([hidden])")
    assert fourth.locator("#join-error").inner_text() == (
        "This room is full: it holds at most 3 people. Try again later or pick another room."
    )
    assert fourth.locator("#room-shell").is_hidden()
    assert "3 of 3 people" in pages[0].locator("#people").inner_text()
    # in Japanese too
    fourth.click(".lang-button[data-lang=ja]")
    assert fourth.locator("#join-error").inner_text().startswith("このルームは満員です (最大 3 人)")
    # closing a tab (pagehide: goodbye + keepalive DELETE) frees the place at once
    pages[2].close()
    for page in pages[:2]:
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 1")
        page.wait_for_function("() => document.querySelector('#chat-log').textContent.includes('Three left')")
    fourth.reload()
    join(fourth, server.base, "Four", camera=False, mic=False, room="small")
    fourth.wait_for_selector("#room-shell:not([hidden])")
    for page in (*pages[:2], fourth):
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 2")
    # everyone joined with camera and mic off; turning them on later still reaches everyone
    four_id = peer_id(fourth)
    fourth.click("#ctl-camera")
    fourth.click("#ctl-mic")
    fourth.wait_for_function("() => window.room.media.state().camera && window.room.media.state().mic")
    for page in pages[:2]:
        page.wait_for_function(
            "() => [...document.querySelectorAll('.tile:not(.camera-off) .name')].some(n => n.textContent === 'Four')"
        )
        wait_media(page, "video", peers=[four_id])
        wait_media(page, "audio", peers=[four_id])


DENY_MEDIA = "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', 'NotAllowedError'));"


def test_long_poll_member_and_denied_devices(app_server, new_context):
    """One member receives by long-poll (as behind a buffering proxy), the other has no camera/mic permission."""
    polling = new_context(locale="en-US").new_page()
    denied_context = new_context(locale="en-US")
    denied_context.add_init_script(DENY_MEDIA)
    denied = denied_context.new_page()
    join(polling, app_server.base, "Poll", room="lp", query="video=low&transport=longpoll")
    polling.wait_for_selector("#room-shell:not([hidden])")
    assert polling.evaluate("window.room.session.client.transport") == "longpoll"
    join(denied, app_server.base, "NoDevices", room="lp")
    denied.wait_for_selector("#room-shell:not([hidden])")
    assert (
        "permission to use the camera or microphone was denied" in denied.locator("#room-notice").inner_text().lower()
    )
    # the member without devices still sees and hears the other one
    wait_media(denied, "video")
    polling.wait_for_function(
        "() => [...document.querySelectorAll('.tile.camera-off .name')].some(n => n.textContent === 'NoDevices')"
    )
    denied.fill("#chat-input", "I can read you")
    denied.press("#chat-input", "Enter")
    polling.wait_for_function("() => window.room.chatReceived.some(m => m.text === 'I can read you')")


ADD_TILES = """async (count) => {
  const { Tile } = await import('/static/js/room-tiles.js');
  const names = ['Ana', 'Bo', 'Chen', 'Dara', 'Eli'];
  for (const name of names.slice(0, count)) window.room.grid.add(new Tile({ id: 'fake-' + name, name }));
}"""
CLEAR_FAKES = (
    "() => { for (const id of [...window.room.grid.tiles.keys()]) if (id !== 'local') window.room.grid.remove(id); }"
)
TILE_BOXES = """() => {
  const area = document.getElementById('tiles').getBoundingClientRect();
  return [...document.querySelectorAll('.tile')].map(t => {
    const r = t.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height, inside: r.left >= area.left - 1 && r.right <= area.right + 1
            && r.top >= area.top - 1 && r.bottom <= area.bottom + 1};
  });
}"""


@pytest.mark.parametrize("viewport", [(1280, 720), (390, 780)], ids=["desktop", "phone"])
def test_layout_fits_one_to_six_tiles(app_server, new_context, viewport):
    """The grid's layout for 1-6 people, checked with placeholder tiles (no media needed)."""
    width, height = viewport
    context = new_context(
        locale="en-US", viewport={"width": width, "height": height}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    join(page, app_server.base, "Me", camera=False, mic=False, room=f"layout{width}")
    page.wait_for_selector("#room-shell:not([hidden])")
    # the invite link and its copy button
    page.click("#copy-link")
    page.wait_for_function("() => document.querySelector('#copy-link span').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == f"{app_server.base}/room/layout{width}"
    assert page.locator("#room-notice").inner_text() == "Waiting for others: share the invite link."
    page.evaluate("() => window.room.notice(null)")
    for count in range(1, 7):
        page.evaluate(CLEAR_FAKES)
        page.evaluate(ADD_TILES, count - 1)
        assert page.locator("#tiles").get_attribute("data-count") == str(count)
        boxes = page.evaluate(TILE_BOXES)
        assert len(boxes) == count
        assert all(b["inside"] for b in boxes), (count, boxes)
        assert min(b["w"] for b in boxes) >= min(150, width / 3 - 20), (count, boxes)
        for i, a in enumerate(boxes):  # no two tiles overlap
            for b in boxes[i + 1 :]:
                apart_x = a["x"] + a["w"] <= b["x"] + 1 or b["x"] + b["w"] <= a["x"] + 1
                apart_y = a["y"] + a["h"] <= b["y"] + 1 or b["y"] + b["h"] <= a["y"] + 1
                assert apart_x or apart_y, (count, a, b)
        if count in (3, 6):
            page.screenshot(path=str(artifact_path(f"layout-{count}-{'phone' if width < 500 else 'desktop'}.png")))
