"""Input checks shared by the endpoints; each failure is a 400 problem naming the field."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from flask import Request

from .directory import decode_cursor
from .envelope import SERVER_EVENTS
from .errors import Problem, bad_request

PEER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TYPE = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{0,63}")
CURSOR = re.compile(r"0|[0-9]{1,20}-[0-9]{1,20}")
CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
STREAM_ID_MAX = 2**64 - 1
NAME_MAX = 64


def json_content(request: Request) -> None:
    """Refuse a body that is not declared JSON (415).

    A cross-site form or ``fetch`` without preflight may send only
    ``text/plain``, form or multipart bodies; requiring ``application/json``
    keeps any web page from registering sessions or sending in a user's name.
    """
    if not request.is_json:
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "The body must be JSON, sent with 'Content-Type: application/json'",
        )


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 415 unless declared JSON, 400 unless a JSON object.

    Python's parser also takes NaN/Infinity and lone surrogates, which would
    be relayed as envelopes no client can parse (or fail to encode for Redis),
    and raises RecursionError on deep nesting: all of those are 400s too.
    """
    json_content(request)
    try:
        data = request.get_json(force=True, silent=True)
        json.dumps(data, ensure_ascii=False, allow_nan=False).encode()
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise bad_request("The body must be a JSON object")
    return data


def flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"'{field}' must be true or false", field=field)
    return value


def directory_cursor(value: str) -> str:
    """A ``next`` cursor from a directory page, back as the index entry it stands for."""
    if not value:
        return ""
    entry = decode_cursor(value) if len(value) <= 512 else None
    if entry is None:
        raise bad_request("'after' must be the 'next' value of a previous page", field="after")
    return entry


def search_prefix(value: str) -> str:
    """A directory search: the start of a name or peer id, 1-64 printable characters."""
    value = value.strip()
    if len(value) > NAME_MAX or any(unicodedata.category(c)[0] == "C" for c in value):
        raise bad_request("'q' must be up to 64 printable characters", field="q")
    return value


def display_name(value: object) -> str:
    """A display name: 1-64 printable characters, surrounding space trimmed."""
    if not isinstance(value, str):
        raise bad_request("'name' must be a string", field="name")
    name = value.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise bad_request(f"'name' must be 1 to {NAME_MAX} characters", field="name")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise bad_request("'name' contains control or unassigned characters", field="name")
    return name


def matching(pattern: re.Pattern[str], value: object, field: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise bad_request(f"'{field}' must be {what}", field=field)
    return value


def peer_id(value: object, field: str = "peer_id") -> str:
    return matching(PEER_ID, value, field, "1-64 letters, digits, '-' or '_'")


ROOM_MAX = 64
ROOM_PUNCTUATION = frozenset("-_")


def _room_char(ch: str, first: bool) -> bool:
    """A letter or decimal digit of any script, '-' or '_'; combining marks after a base character."""
    category = unicodedata.category(ch)
    return ch in ROOM_PUNCTUATION or category[0] == "L" or category == "Nd" or (category[0] == "M" and not first)


def room_name(value: object, field: str = "room") -> str:
    """A room name: 1-64 Unicode letters, digits, '-' or '_', in NFC.

    Any script works (会議室, Zürich); NFC is required so one name is one room
    whatever the sender's keyboard composed (the browser apps normalize first).
    """
    what = f"1-{ROOM_MAX} letters, digits, '-' or '_' (any script, NFC)"
    if not (
        isinstance(value, str)
        and 1 <= len(value) <= ROOM_MAX
        and all(_room_char(ch, i == 0) for i, ch in enumerate(value))
        and unicodedata.is_normalized("NFC", value)
    ):
        raise bad_request(f"'{field}' must be {what}", field=field)
    return value


def message_type(value: object) -> str:
    kind = matching(TYPE, value, "type", "a name like 'offer' (letters, digits, . _ : -; max 64)")
    if kind in SERVER_EVENTS:
        raise bad_request(f"'{kind}' is sent by the server only", field="type")
    return kind


def cursor(value: str | None, field: str = "cursor") -> str:
    if value is None or value == "":
        return "0"
    what = "a message id like '1700000000000-0' or '0'"
    matching(CURSOR, value, field, what)
    # Redis refuses ids past 64 bits, and reading after the largest id, with
    # an error that would read as an outage (503, and an SSE reconnect loop).
    parts = [int(part) for part in value.split("-")] if value != "0" else [0, 0]
    if any(part > STREAM_ID_MAX for part in parts) or parts == [STREAM_ID_MAX, STREAM_ID_MAX]:
        raise bad_request(f"'{field}' must be {what}", field=field)
    return value


def client_id(value: object) -> str:
    """A client message id (``cid``): 1-64 of letters, digits and ``. _ : -``; '' when absent."""
    if value is None:
        return ""
    return matching(CLIENT_ID, value, "cid", "1-64 letters, digits, '.', '_', ':' or '-'")


def bounded_number(value: str | None, field: str, default: float, maximum: float) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise bad_request(f"'{field}' must be a number", field=field) from None
    if not 0 <= number <= maximum or number != number:
        raise bad_request(f"'{field}' must be between 0 and {maximum:g}", field=field)
    return number


def whole_number(value: str | None, field: str, default: int, minimum: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    # isdigit() alone takes '²' and 5000-digit strings, which int() refuses.
    if not re.fullmatch(r"[0-9]{1,9}", value) or not minimum <= int(value) <= maximum:
        raise bad_request(f"'{field}' must be a whole number from {minimum} to {maximum}", field=field)
    return int(value)
