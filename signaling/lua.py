"""Lua sources for the store's atomic steps.

Each script touches keys of a single hash slot (one peer's ``{peer:...}``
keys, one room's ``{room:...}`` keys or the directory's ``{dir}`` keys), so
they run unchanged on Redis Cluster. Times are milliseconds passed in by the
caller; scores in the sorted sets are expiry times.
"""

# KEYS: session, mailbox, rooms-of-peer.  ARGV: sid, name, now, ttl, listed ('1'/'0')
REGISTER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'sid', ARGV[1], 'name', ARGV[2], 'created', ARGV[3], 'seen', ARGV[3],
  'listed', ARGV[5], 'act', 0, 'conn', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

# Checks the session id, refreshes the TTLs, counts the request (departure
# checks compare 'act'), charges the send-rate bucket and tells the caller
# whether the (cross-slot) directory/room scores are due for a refresh.
# K: session, mailbox, rooms-of-peer.
# A: sid, ttl, now, cost, rate per ms, burst, refresh every (ms)
# Returns {0} for an unknown session, else {1, name, due, retry_ms, rooms, listed}.
_TOUCH = """
local function touch(K, A)
  local h = redis.call('HMGET', K[1], 'sid', 'name', 'seen', 'tokens', 'tts', 'listed')
  if not h[1] or h[1] ~= A[1] then return {0} end
  local ttl, now, cost = A[2], tonumber(A[3]), tonumber(A[4])
  local retry = 0
  if cost > 0 then
    local rate, burst = tonumber(A[5]), tonumber(A[6])
    local tokens = tonumber(h[4]) or burst
    local since = now - (tonumber(h[5]) or now)
    if since < 0 then since = 0 end
    tokens = math.min(burst, tokens + since * rate)
    if tokens < cost then
      retry = math.ceil((cost - tokens) / rate)
    else
      tokens = tokens - cost
    end
    redis.call('HSET', K[1], 'tokens', tostring(tokens), 'tts', tostring(now))
  end
  redis.call('HINCRBY', K[1], 'act', 1)
  redis.call('PEXPIRE', K[1], ttl)
  redis.call('PEXPIRE', K[2], ttl)
  redis.call('PEXPIRE', K[3], ttl)
  local due, rooms = 0, {}
  if now - (tonumber(h[3]) or 0) >= tonumber(A[7]) then
    due = 1
    redis.call('HSET', K[1], 'seen', tostring(now))
    rooms = redis.call('SMEMBERS', K[3])
  end
  return {1, h[2], due, retry, rooms, h[6] or '0'}
end
"""
TOUCH = _TOUCH + "return touch(KEYS, ARGV)\n"

# Refuses offline recipients, full mailboxes and senders over their share,
# else appends the new envelopes and publishes one wake-up. A message whose
# (sender, client id) was stored within the window is not stored again: its
# original id is returned (exactly once per client id, decided here, in the
# same round trip as the append).
# K: recipient session, mailbox, client-id expiries (zset), client-id ->
# "sid id" (hash), the sender's unread ids in this mailbox (list).
# A: maxlen, ttl, channel, now, window, id cap, share, then
# (client id or '', envelope) pairs. With ``tail`` (TOUCH_SEND) each
# envelope is a prefix that still lacks ``tail`` (the sender's name and the
# closing brace), which only the sender's session knows.
# Returns ids, 0 (offline), -1 (mailbox full) or -2 (sender's share used up).
# The wake-up carries the new entries when they are small (a "note", see
# signaling/notes.py): lines '1', the first 8 characters of the recipient's
# sid (which session it was for; Redis holds the whole sid anyway), its
# 'act' and 'conn' marks, the id of the entry before the new ones ('-' =
# none), then id and envelope per new entry. Envelopes are JSON without raw
# newlines. Larger sends wake with just the last id (the reader reads).
# The wake-up goes out with SPUBLISH on the peer's {peer:ID}:w channel (same
# slot as its keys), PUBLISH where SPUBLISH is unknown (Redis < 7).
NOTE_MAX = 16384  # bytes of envelopes a wake-up carries at most

_SEND = """
local NOTE_MAX = {note_max}
local function send(K, A, tail)
  local session = redis.call('HMGET', K[1], 'sid', 'act', 'conn')
  local sid = session[1]
  if not sid then return 0 end
  local now, window, cap = tonumber(A[4]), tonumber(A[5]), tonumber(A[6])
  local old = redis.call('ZRANGEBYSCORE', K[3], '-inf', now, 'LIMIT', 0, 256)
  if #old > 0 then
    redis.call('ZREM', K[3], unpack(old))
    redis.call('HDEL', K[4], unpack(old))
  end
  local ids, fresh, seen, alias = {}, {}, {}, {}
  for i = 8, #A, 2 do
    local cid, slot = A[i], #ids + 1
    ids[slot] = ''
    if cid ~= '' and seen[cid] then
      alias[slot] = seen[cid]
    else
      local known = nil
      if cid ~= '' then
        local v = redis.call('HGET', K[4], cid)
        if v then
          local owner, id = string.match(v, '^(%S+) (%S+)$')
          if owner == sid then known = id end
        end
      end
      if known then
        ids[slot] = known
      else
        fresh[#fresh + 1] = i
        if cid ~= '' then seen[cid] = slot end
      end
    end
  end
  local n = #fresh
  if n == 0 then return ids end
  if redis.call('XLEN', K[2]) + n > tonumber(A[1]) then return -1 end
  local share = tonumber(A[7])
  if redis.call('LLEN', K[5]) + n > share then
    local function order(id)
      local ms, seq = string.match(id, '^(%d+)-(%d+)$')
      return tonumber(ms), tonumber(seq)
    end
    local first = redis.call('XRANGE', K[2], '-', '+', 'COUNT', 1)[1]
    if not first then
      redis.call('DEL', K[5])
    else
      local fms, fseq = order(first[1])
      while true do
        local head = redis.call('LINDEX', K[5], 0)
        if not head then break end
        local ms, seq = order(head)
        if ms > fms or (ms == fms and seq >= fseq) then break end
        redis.call('LPOP', K[5])
      end
    end
    if redis.call('LLEN', K[5]) + n > share then return -2 end
  end
  local before = redis.call('XREVRANGE', K[2], '+', '-', 'COUNT', 1)[1]
  local note = {'1', string.sub(sid, 1, 8), session[2] or '0', session[3] or '0', before and before[1] or '-'}
  local size = 0
  local expiry = now + window
  for _, i in ipairs(fresh) do
    local body = A[i + 1]
    if tail then body = body .. tail end
    local id = redis.call('XADD', K[2], '*', 'e', body)
    local slot = (i - 6) / 2
    ids[slot] = id
    size = size + #body
    note[#note + 1] = id
    note[#note + 1] = body
    redis.call('RPUSH', K[5], id)
    if A[i] ~= '' then
      redis.call('ZADD', K[3], expiry, A[i])
      redis.call('HSET', K[4], A[i], sid .. ' ' .. id)
    end
  end
  for slot, first in pairs(alias) do ids[slot] = ids[first] end
  local extra = redis.call('ZCARD', K[3]) - cap
  if extra > 0 then
    local dropped = redis.call('ZPOPMIN', K[3], extra)
    for j = 1, #dropped, 2 do redis.call('HDEL', K[4], dropped[j]) end
  end
  local keep = math.max(tonumber(A[2]), window)
  redis.call('PEXPIRE', K[2], A[2])
  redis.call('PEXPIRE', K[5], A[2])
  redis.call('PEXPIRE', K[3], keep)
  redis.call('PEXPIRE', K[4], keep)
  local wake = ids[#ids]
  if size <= NOTE_MAX then wake = table.concat(note, '\\n') end
  if type(redis.pcall('SPUBLISH', A[3], wake)) == 'table' then redis.call('PUBLISH', A[3], wake) end
  return ids
end
"""
_SEND = _SEND.replace("{note_max}", str(NOTE_MAX))
SEND = _SEND + "return send(KEYS, ARGV)\n"

# The sender's TOUCH and SEND to one recipient in one round trip, for a
# single Redis only: the two peers' keys live in different slots, which a
# cluster would refuse (there the store keeps the two steps). Same checks
# in the same order: an unknown session or a refused rate charge sends nothing.
# KEYS: TOUCH's three, then SEND's five.  ARGV: TOUCH's seven, then SEND's
# (whose envelopes are prefixes, completed here with the sender's name).
# Returns TOUCH's reply, with SEND's result appended when it ran.
TOUCH_SEND = (
    _TOUCH
    + _SEND
    + """
local t = touch({KEYS[1], KEYS[2], KEYS[3]}, {ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]})
if t[1] == 0 or t[4] > 0 then return t end
local A = {}
for i = 8, #ARGV do A[#A + 1] = ARGV[i] end
local tail = ',"from_name":' .. cjson.encode(t[2]) .. '}'
t[7] = send({KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]}, A, tail)
return t
"""
)

# Acknowledges everything up to a cursor and reads what follows another, for
# a live session only (so a reader learns at once that its session ended).
# Reading does not refresh presence: only the client's own requests do.
# KEYS: mailbox, session.  ARGV: read after ('0' = from the start), first id
# to keep ('' = trim nothing), count, sid, opening ('1': a new stream or poll,
# counted in 'conn' so a departure check can tell that the peer came back)
# Returns {0} when the session is not live, else {1, act, conn, entries}.
_READ = """
local function read(K, A)
  local s = redis.call('HMGET', K[2], 'sid', 'act', 'conn')
  if s[1] ~= A[4] then return {0} end
  local conn = s[3] or '0'
  if A[5] == '1' then conn = redis.call('HINCRBY', K[2], 'conn', 1) end
  if A[2] ~= '' then redis.call('XTRIM', K[1], 'MINID', A[2]) end
  local start = '-'
  if A[1] ~= '0' then start = '(' .. A[1] end
  return {1, s[2] or '0', conn, redis.call('XRANGE', K[1], start, '+', 'COUNT', A[3])}
end
"""
READ = _READ + "return read(KEYS, ARGV)\n"

# A poll's authentication and its first read in one round trip: TOUCH, then
# (for a live session) READ, in the same order as the two calls. All keys are
# the polling peer's own ({peer:ID}), so this works on a cluster too.
# KEYS: TOUCH's three (session, mailbox, rooms-of-peer).  ARGV: TOUCH's seven,
# then READ's five.  Returns TOUCH's reply with READ's appended when it ran.
TOUCH_READ = (
    _TOUCH
    + _READ
    + """
local t = touch(KEYS, {ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]})
if t[1] == 0 then return t end
t[7] = read({KEYS[2], KEYS[1]}, {ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]})
return t
"""
)

# Ends a session atomically, returning what the caller must still announce.
# With a departure mark it ends the session only if the peer made no request
# ('act') and opened no stream or poll ('conn') since the mark was taken.
# KEYS: session, mailbox, rooms-of-peer.  ARGV: sid, act mark ('' = any), conn mark
# Returns {0} when nothing ended, else {1, name, listed, rooms}.
END = """
local s = redis.call('HMGET', KEYS[1], 'sid', 'act', 'conn', 'name', 'listed')
if s[1] ~= ARGV[1] then return {0} end
if ARGV[2] ~= '' and ((s[2] or '0') ~= ARGV[2] or (s[3] or '0') ~= ARGV[3]) then return {0} end
local rooms = redis.call('SMEMBERS', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return {1, s[4] or '', s[5] or '0', rooms}
"""

# Rooms. A room holds at most ROOM_CAPACITY members, so these scripts may
# list and prune a whole room; the directory (signaling/directory.py) may not.
# Shared by the room scripts: drops members whose expiry has passed
# (KEYS[1] scores, KEYS[2] names) and returns them as {id, name, ...}.
_PRUNE = """
local function prune(now)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
  local out = {}
  for i = 1, #gone, 500 do
    local chunk = {unpack(gone, i, math.min(i + 499, #gone))}
    local names = redis.call('HMGET', KEYS[2], unpack(chunk))
    redis.call('ZREM', KEYS[1], unpack(chunk))
    redis.call('HDEL', KEYS[2], unpack(chunk))
    for j = 1, #chunk do
      out[#out + 1] = chunk[j]
      out[#out + 1] = names[j] or ''
    end
  end
  return out
end
local function members()
  local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
  local out = {}
  if #ids == 0 then return out end
  local names = redis.call('HMGET', KEYS[2], unpack(ids))
  for j = 1, #ids do
    out[#out + 1] = ids[j]
    out[#out + 1] = names[j] or ''
  end
  return out
end
"""

# Adds or refreshes one member (directory or room). KEYS: scores, names.
# ARGV: now, peer, name, expiry, capacity (0 = unlimited), only-if-present,
# list members ('1': when someone joined or was pruned).
# Returns {status, was_member, members, gone}; status 0 = full, 2 = absent.
UPSERT = (
    _PRUNE
    + """
local gone = prune(ARGV[1])
local was = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not was and ARGV[6] == '1' then
  local listed = {}
  if #gone > 0 then listed = members() end
  return {2, 0, listed, gone}
end
local cap = tonumber(ARGV[5])
if not was and cap > 0 and redis.call('ZCARD', KEYS[1]) >= cap then
  return {0, 0, members(), gone}
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
if not was then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
local listed = {}
if ARGV[7] == '1' and (not was or #gone > 0) then listed = members() end
return {1, was and 1 or 0, listed, gone}
"""
)

# Removes one member. KEYS: scores, names.  ARGV: now, peer
# Returns {removed, members, gone}.
REMOVE = (
    _PRUNE
    + """
local removed = redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
local gone = prune(ARGV[1])
return {removed, members(), gone}
"""
)

# Lists the live members. KEYS: scores, names.  ARGV: now
# Returns {members, gone}.
MEMBERS = (
    _PRUNE
    + """
local gone = prune(ARGV[1])
return {members(), gone}
"""
)
