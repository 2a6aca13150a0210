"""Room names in any script (会議室), refused punctuation and space, NFC, and the room page for bad addresses."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import pytest

from tests.unit.conftest import checked_client

GOOD = ["lobby", "team-7", "a_b", "会議室", "Zürich", "नमस्ते", "١٢٣", "🙂", "x" * 64]
BAD = ["bad name!", "a.b", "x" * 65, "a{b}", "タブ\t", "a\u3000b", "a\u202eb", "\u037e", "%41"]


@pytest.mark.parametrize("room", GOOD)
def test_unicode_letters_and_digits_join(make_app, room):
    client = checked_client(make_app())
    token = client.post("/v1/sessions", json={"name": "Ren"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(f"/v1/rooms/{quote(room)}/members", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["room"] == room
    assert [m["name"] for m in client.get(f"/v1/rooms/{quote(room)}", headers=headers).get_json()["members"]] == ["Ren"]


def test_a_decomposed_name_is_the_same_room(make_app):
    """NFD "Zürich" (u + combining diaeresis) joins the NFC room, so one name is one room."""
    client = checked_client(make_app())
    token = client.post("/v1/sessions", json={"name": "Ren"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    decomposed = unicodedata.normalize("NFD", "Zürich")
    response = client.post(f"/v1/rooms/{quote(decomposed)}/members", headers=headers)
    assert response.status_code == 200 and response.get_json()["room"] == "Zürich"
    assert [m["name"] for m in client.get(f"/v1/rooms/{quote('Zürich')}", headers=headers).get_json()["members"]] == [
        "Ren"
    ]


@pytest.mark.parametrize("room", BAD)
def test_other_names_are_400_naming_the_field(make_app, room):
    client = checked_client(make_app())
    token = client.post("/v1/sessions", json={"name": "Ren"}).get_json()["token"]
    response = client.post(f"/v1/rooms/{quote(room, safe='')}/members", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "room"


@pytest.mark.parametrize("path", ["/room/会議室", "/room/team-7"])
def test_room_page_for_good_names(make_app, path):
    response = make_app().test_client().get(quote(path))
    assert response.status_code == 200 and response.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/room/bad%20name!", "/room/", "/room", "/room/a/b", "/room/%E0%A4"])
def test_room_page_for_bad_addresses_is_html_not_json(make_app, path):
    """The room page explains the problem itself (404, HTML), never raw problem+json."""
    response = make_app().test_client().get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b'id="join-screen"' in response.data
