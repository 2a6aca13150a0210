"""The name/room/search rules: derived from Unicode data, and stated verbatim by openapi.yaml."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest

from signaling import textrules
from tests.unit.spec_check import spec_dict


def _members(ranges) -> set[int]:
    return {cp for a, b in ranges for cp in range(a, b + 1)}


def test_the_unsafe_class_is_cc_cf_and_bmp_co_of_this_unicode():
    assert unicodedata.unidata_version == "14.0.0", "new Unicode data: re-derive signaling/textrules.py"
    expected = {
        cp
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in ("Cc", "Cf") or (unicodedata.category(chr(cp)) == "Co" and cp <= 0xFFFF)
    }
    assert _members(textrules.UNSAFE) == expected


def test_the_space_class_is_what_strip_removes():
    assert _members(textrules.SPACE) == {cp for cp in range(sys.maxunicode + 1) if chr(cp).isspace()}


def test_no_allowed_room_character_turns_into_a_refused_one_under_nfc():
    refused = _members(textrules.ROOM_PUNCTUATION) | _members(textrules.SPACE) | _members(textrules.UNSAFE)
    for cp in range(sys.maxunicode + 1):
        if cp not in refused and not 0xD800 <= cp <= 0xDFFF:
            assert not any(ord(c) in refused for c in unicodedata.normalize("NFC", chr(cp))), hex(cp)


def test_openapi_states_the_server_patterns():
    schemas = spec_dict()["components"]["schemas"]
    assert schemas["DisplayName"]["pattern"] == textrules.NAME_PATTERN
    assert schemas["RoomName"]["pattern"] == textrules.ROOM_PATTERN
    (q,) = [p for p in spec_dict()["paths"]["/v1/peers"]["get"]["parameters"] if p["name"] == "q"]
    assert q["schema"]["pattern"] == textrules.SEARCH_PATTERN


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Ren", True),
        ("  山田 花子 ", True),
        ("Zoë", True),
        ("x" * 64, True),
        (" " + "x" * 64 + "\n", True),
        ("x" * 65, False),
        ("   ", False),
        ("a\u202eb", False),
        ("a\tb", False),
        ("\u200b", False),
        ("a\ue000", False),
    ],
)
def test_display_names(name, ok):
    assert bool(textrules.NAME.fullmatch(name)) is ok


def test_the_browser_checks_rooms_with_the_server_pattern():
    """static/js/room-name.js refuses exactly what the server refuses (it once refused emoji rooms the server took)."""
    source = (Path(__file__).resolve().parents[2] / "static" / "js" / "room-name.js").read_text(encoding="utf-8")
    assert f"new RegExp(String.raw`{textrules.ROOM_PATTERN}`, 'u')" in source
