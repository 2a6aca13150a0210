"""Room addresses: a Japanese room name joins with media; bad addresses get the room page's own error."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.e2e.test_rooms import join, wait_media
from tests.support.browser import artifact_path

WAIT = 30_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def test_japanese_room_name_joins_from_the_landing_form_with_media(app_server, new_context):
    first = new_context(locale="ja-JP", viewport=VIEWPORTS["desktop"]).new_page()
    first.goto(app_server.url("/"))
    first.fill("#room-name", "会議室")
    first.fill("#display-name", "蓮")
    first.click("#room-go")
    first.wait_for_url("**/room/*")
    assert first.evaluate("decodeURIComponent(location.pathname)") == "/room/会議室"
    first.set_checked("#join-camera", True)
    first.click("#join-button")
    first.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    second = new_context(locale="ja-JP", viewport=VIEWPORTS["phone"]).new_page()
    join(second, app_server.base, "Ren", room=quote("会議室"))
    second.wait_for_selector("#room-shell:not([hidden])", timeout=WAIT)
    for page in (first, second):
        page.wait_for_function("() => document.querySelectorAll('.tile:not(.local)').length === 1", timeout=WAIT)
        wait_media(page, "video")
        assert page.title() == "ルーム 会議室"
    assert "/room/%E4%BC%9A%E8%AD%B0%E5%AE%A4" in first.input_value("#share-link")
    first.screenshot(path=str(artifact_path("room-japanese-desktop.png")))
    second.screenshot(path=str(artifact_path("room-japanese-phone.png")))


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize(
    ("path", "title"),
    [("/room/bad%20name!", "This room link does not work"), ("/room/", "No room in this link")],
    ids=["bad-name", "empty"],
)
def test_bad_room_address_shows_a_friendly_page_with_a_way_back(app_server, new_context, viewport, path, title):
    page = new_context(locale="en-US", viewport=VIEWPORTS[viewport]).new_page()
    response = page.goto(app_server.url(path))
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    page.wait_for_function("(t) => document.title === t", arg=title)
    assert page.locator("h1:visible").inner_text() == title
    assert page.locator("#join-form").is_hidden()
    assert "room" in page.locator("#join-error").inner_text().lower()
    home = page.locator("#left-actions a[href='/']")
    assert home.is_visible()
    page.screenshot(
        path=str(
            artifact_path(
                f"room-error-{path.strip('/').replace('/', '-').replace('%20', '_').replace('!', '') or 'empty'}-{viewport}.png"
            )
        )
    )
    home.click()
    page.wait_for_url(app_server.url("/"))
