"""Input checks shared by the endpoints; each failure is a 400 problem naming the field."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from werkzeug.wrappers import Request

from . import textrules
from .directory import decode_cursor
from .envelope import SERVER_EVENTS
from .errors import Problem, bad_request

PEER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TYPE = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{0,63}")
CURSOR = re.compile(r"0|[0-9]{1,19}-[0-9]{1,19}")
CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
NAME_MAX = textrules.NAME_MAX
# One encoder for the check below (json.dumps with options builds one per call).
_strict_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


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
        _strict_json(data).encode()
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise bad_request("The body must be a JSON object")
    return data


def flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"'{field}' must be true or false", field=field)
    return value


def directory_cursor(value: str) -> bytes:
    """A ``next`` cursor from a directory page (unpadded base64url), back as the index position it stands for."""
    position = decode_cursor(value) if len(value) <= 512 else None
    if position is None:
        raise bad_request("'after' must be the 'next' value of a previous page", field="after")
    return position


def search_prefix(value: str) -> str:
    """A directory search: the start of a name or peer id, up to 64 characters, none unsafe."""
    if not textrules.SEARCH.fullmatch(value):
        raise bad_request("'q' must be up to 64 printable characters", field="q")
    return value.strip()


def display_name(value: object) -> str:
    """A display name: 1-64 characters once surrounding space is trimmed, none unsafe.

    Unsafe are controls, format characters (bidi overrides, zero-width),
    surrogates and private use, listed in :mod:`signaling.textrules` so that
    openapi.yaml states the same rule as a pattern.
    """
    if not isinstance(value, str):
        raise bad_request("'name' must be a string", field="name")
    if not textrules.NAME.fullmatch(value):
        raise bad_request(
            f"'name' must be 1 to {NAME_MAX} characters, without control or format characters", field="name"
        )
    return value.strip()


def matching(pattern: re.Pattern[str], value: object, field: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise bad_request(f"'{field}' must be {what}", field=field)
    return value


def peer_id(value: object, field: str = "peer_id") -> str:
    return matching(PEER_ID, value, field, "1-64 letters, digits, '-' or '_'")


def room_name(value: object, field: str = "room") -> str:
    """A room name: 1-64 characters, none of them ASCII punctuation, space or unsafe; returned in NFC.

    Any script works (会議室, Zürich, 🎉). The name comes back NFC-normalized,
    so one name is one room whatever the sender's keyboard composed.
    """
    if not isinstance(value, str) or not textrules.ROOM.fullmatch(value):
        raise bad_request(
            f"'{field}' must be 1-64 characters without spaces or ASCII punctuation but - and _", field=field
        )
    return unicodedata.normalize("NFC", value)


def message_type(value: object) -> str:
    kind = matching(TYPE, value, "type", "a name like 'offer' (letters, digits, . _ : -; max 64)")
    if kind in SERVER_EVENTS:
        raise bad_request(f"'{kind}' is sent by the server only", field="type")
    return kind


def cursor(value: str | None, field: str = "cursor") -> str:
    """A message id or '0'. Each part has at most 19 digits: always under Redis's 64-bit limit
    (a larger one would be refused by Redis and read as an outage, 503), and exactly what the
    spec's pattern says. Real ids are millisecond timestamps, 13 digits."""
    if value is None or value == "":
        return "0"
    return matching(CURSOR, value, field, "a message id like '1700000000000-0' or '0'")


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
