"""The public directory: who is listed, paged and searched at O(log N + page).

Only sessions that asked to be listed are here (the phone does; rooms do
not). Every operation is one script on the directory's ``{dir}`` slot and
costs O(log N) plus the page it returns, however many peers are listed:

* ``<p>{dir}:z``  sorted set, peer -> expiry (ms): who is listed, and until when
* ``<p>{dir}:n``  hash, peer -> display name
* ``<p>{dir}:k``  hash, peer -> its entry in the index below
* ``<p>{dir}:l``  sorted set, all scores 0, ordered by bytes: ``n:<folded
  name>\\0<peer>`` and ``i:<peer>``, so a page or a prefix search is a
  ``ZRANGEBYLEX`` and a count is a ``ZLEXCOUNT``
* ``<p>{dir}:v``  counter bumped whenever the listing changes (who, or a
  name), served as the ``ETag`` so a client can re-read only on change

Expired listings are pruned a bounded batch at a time by every write and
read, and a page skips any that are still waiting for their turn, so no
script ever scans or returns the whole set.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass

import redis
from redis.cluster import RedisCluster

PRUNE_BATCH = 100

_PRUNE = (
    """
local function prune(now)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, %d)
  if #gone == 0 then return 0 end
  local lex = redis.call('HMGET', KEYS[3], unpack(gone))
  for i = 1, #gone do
    if lex[i] then redis.call('ZREM', KEYS[4], lex[i]) end
    redis.call('ZREM', KEYS[4], 'i:' .. gone[i])
  end
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('HDEL', KEYS[2], unpack(gone))
  redis.call('HDEL', KEYS[3], unpack(gone))
  redis.call('INCR', KEYS[5])
  return #gone
end
"""
    % PRUNE_BATCH
)

# KEYS: z, n, k, l, v.  ARGV: now, peer, name, index entry, expiry
UPSERT = (
    _PRUNE
    + """
prune(ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[2])
local old = redis.call('HGET', KEYS[3], ARGV[2])
if old == ARGV[4] and redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[3] then return 0 end
if old then redis.call('ZREM', KEYS[4], old) end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[4], 0, ARGV[4], 0, 'i:' .. ARGV[2])
redis.call('INCR', KEYS[5])
return 1
"""
)

# KEYS: z, n, k, l, v.  ARGV: now, peer.  Returns 1 if the peer was listed.
REMOVE = (
    _PRUNE
    + """
local old = redis.call('HGET', KEYS[3], ARGV[2])
local removed = redis.call('ZREM', KEYS[1], ARGV[2])
if old then redis.call('ZREM', KEYS[4], old) end
redis.call('ZREM', KEYS[4], 'i:' .. ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
if removed == 1 or old then redis.call('INCR', KEYS[5]) end
prune(ARGV[1])
return removed
"""
)

# One page of one or more index ranges, in order. KEYS: z, n, k, l, v.
# ARGV: now, limit, then per range: count from, count to, read from ('' =
# skip the range: the cursor is past it), read to (ZRANGEBYLEX bounds; the
# caller compares the cursor with the bounds, as bytes).
# Returns {total, version, last entry read ('' = no more), {peer, name, ...}}.
PAGE = (
    _PRUNE
    + """
prune(ARGV[1])
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local total, fetched, last = 0, 0, ''
local peers, seen = {}, {}
for r = 3, #ARGV, 4 do
  total = total + redis.call('ZLEXCOUNT', KEYS[4], ARGV[r], ARGV[r + 1])
  if fetched < limit and ARGV[r + 2] ~= '' then
    local got = redis.call('ZRANGEBYLEX', KEYS[4], ARGV[r + 2], ARGV[r + 3], 'LIMIT', 0, limit - fetched)
    for i = 1, #got do
      fetched = fetched + 1
      last = got[i]
      local peer
      if string.sub(got[i], 1, 2) == 'i:' then peer = string.sub(got[i], 3)
      else peer = string.match(got[i], '%z(.*)$') end
      if peer and not seen[peer] then
        seen[peer] = true
        local expiry = redis.call('ZSCORE', KEYS[1], peer)
        if expiry and tonumber(expiry) > now then peers[#peers + 1] = peer end
      end
    end
  end
end
local out = {}
if #peers > 0 then
  local names = redis.call('HMGET', KEYS[2], unpack(peers))
  for i = 1, #peers do
    out[#out + 1] = peers[i]
    out[#out + 1] = names[i] or ''
  end
end
if fetched < limit then last = '' end
return {total, tonumber(redis.call('GET', KEYS[5]) or '0'), last, out}
"""
)

# KEYS: v.  The listing's version, for a conditional read that costs one GET.
VERSION = "return tonumber(redis.call('GET', KEYS[1]) or '0')"


@dataclass
class Page:
    peers: list[tuple[str, str]]
    total: int
    version: int
    next: str | None  # an opaque cursor for the next page, None at the end


def fold(text: str) -> str:
    """The form names and queries are compared in: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def encode_cursor(entry: bytes) -> str:
    return base64.urlsafe_b64encode(entry).decode().rstrip("=")


CURSOR = re.compile(r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?")


def decode_cursor(cursor: str) -> bytes | None:
    """The index position behind a cursor, or None if it is not unpadded base64url.

    Any bytes are a position in the index's byte order (the page starts
    after it), so every well-formed cursor is answered, and a forged one
    reveals nothing that paging from the start would not.
    """
    if not CURSOR.fullmatch(cursor):
        return None
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


class Directory:
    """The listed sessions; see the module docstring for the keys."""

    def __init__(self, client: redis.Redis | RedisCluster, prefix: str) -> None:
        tag = f"{prefix}{{dir}}"
        self.keys = [f"{tag}:z", f"{tag}:n", f"{tag}:k", f"{tag}:l", f"{tag}:v"]
        self._upsert = client.register_script(UPSERT)
        self._remove = client.register_script(REMOVE)
        self._page = client.register_script(PAGE)
        self._version = client.register_script(VERSION)

    def upsert(self, now: int, peer: str, name: str, expiry: int) -> None:
        """List ``peer`` until ``expiry`` (ms), or move its expiry on."""
        entry = f"n:{fold(name)}\0{peer}"
        self._upsert(keys=self.keys, args=[now, peer, name, entry, expiry])

    def remove(self, now: int, peer: str) -> bool:
        return bool(self._remove(keys=self.keys, args=[now, peer]))

    def version(self) -> int:
        return int(self._version(keys=self.keys[4:]))

    def page(self, now: int, after: bytes | str, limit: int, query: str = "") -> Page:
        """Listed peers by name (case-insensitive), then id; ``query`` matches a prefix of either.

        ``after`` is a position in the index (see :func:`decode_cursor`), b'' for the first page.
        """
        if query:
            q = fold(query).encode()
            # Ids first ('i:' sorts before 'n:'); the byte 0xff never occurs in UTF-8.
            ranges = [(b"i:" + q, b"i:" + q + b"\xff"), (b"n:" + q, b"n:" + q + b"\xff")]
        else:
            ranges = [(b"n:", b"n:\xff")]
        cursor = after.encode() if isinstance(after, str) else after
        args: list[bytes | int] = [now, limit]
        for low, high in ranges:
            start = b""
            if not cursor or cursor < low:
                start = b"[" + low
            elif cursor < high:
                start = b"(" + cursor
            args += [b"[" + low, b"[" + high, start, b"[" + high]
        total, version, last, flat = self._page(keys=self.keys, args=args)
        peers = [(_text(flat[i]), _text(flat[i + 1])) for i in range(0, len(flat), 2)]
        next_cursor = encode_cursor(last if isinstance(last, bytes) else last.encode()) if last else None
        return Page(peers, int(total), int(version), next_cursor)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
