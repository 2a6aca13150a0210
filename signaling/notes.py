"""Wake-ups that carry the new mail, so a waiting reader can skip its mailbox read.

SEND publishes a *note* (format in signaling/lua.py): for which session it
was, the session's activity marks, the id of the entry that preceded the new
ones and the new entries themselves. A reader at ``cursor`` may take them
instead of reading its stream only when that read would have returned exactly
them: same session, and nothing in the mailbox between ``cursor`` and the
first new entry (the entry before them is at or below ``cursor``). Anything
else (a plain wake-up, a note for another session, a gap, a note lost to a
full queue, a wake-up without a note) means: read the stream, which stays the
source of truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from .envelope import delivered


class Carried:
    """What a reader got from its notes: entries after its cursor and whether it must still read."""

    __slots__ = ("entries", "cursor", "need_read", "activity", "connection")

    def __init__(self, cursor: str, need_read: bool = False) -> None:
        self.entries: list[tuple[str, str]] = []
        self.cursor = cursor
        self.need_read = need_read
        self.activity = "0"
        self.connection = "0"


class Note(NamedTuple):
    sid: str
    activity: str
    connection: str
    before: str
    entries: list[tuple[str, str]]


def order(stream_id: str) -> tuple[int, int]:
    """A stream id as a comparable pair (milliseconds, sequence)."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def parse(data: bytes | str | None) -> Note | None:
    """A note from a wake-up's payload, or None for a plain wake-up or anything malformed."""
    if not data:
        return None
    text = data.decode() if isinstance(data, bytes) else str(data)
    lines = text.split("\n")
    if len(lines) < 7 or lines[0] != "1" or len(lines) % 2 == 0:
        return None
    try:
        entries = [(lines[i], delivered(lines[i], lines[i + 1])) for i in range(5, len(lines), 2)]
        for stream_id, _ in entries:
            order(stream_id)
        if lines[4] != "-":
            order(lines[4])
    except ValueError:
        return None
    return Note(lines[1], lines[2], lines[3], lines[4], entries)


def follow(pending: Iterable[bytes | str | None], cursor: str, sid: str) -> Carried:
    """Take the entries of ``pending`` notes that continue ``cursor`` without a gap.

    Notes whose entries the reader already has (at or below its cursor) are
    skipped. At the first note that cannot be taken, or with no note at all,
    ``need_read`` is set: the entries taken so far are good, and a read from
    the returned cursor covers everything published before it.
    """
    carried = Carried(cursor)
    seen = False
    for data in pending:
        seen = True
        note = parse(data)
        if note is None or note.sid != sid[:8]:
            carried.need_read = True
            break
        at = order(carried.cursor)
        if order(note.entries[-1][0]) <= at:
            continue
        if order(note.entries[0][0]) <= at or (note.before != "-" and order(note.before) > at):
            carried.need_read = True
            break
        carried.entries += note.entries
        carried.cursor = note.entries[-1][0]
        carried.activity, carried.connection = note.activity, note.connection
    if not seen:
        carried.need_read = True
    return carried
