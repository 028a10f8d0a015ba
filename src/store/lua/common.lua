-- Shared by every script: prepended to each one by store/scripts.rs, after the script's
-- contract (`K`, its keys by name; `A`, its arguments by name; `A_FIXED`, how many
-- arguments come before the items of a batch).
--
-- Sessions live in buckets of 64 (hashes small enough for Redis's compact listpack
-- encoding): session number q of an event is in the hash `<sessions prefix><q // 64>`,
-- its record in field `<q % 64>` packed as "S|seen|until|tag" and its user id in field
-- `u<q % 64>`. S is the status letter (W waiting, A active, E expired, L left,
-- B abandoned, C closed: the sale ended before its turn, R back: skipped for not polling,
-- it came back within its grace and waits for the next free slot, ahead of the line), seen
-- the last heartbeat (unix ms; once admitted, the time of its admission), until the end of
-- the active period (unix ms; 0 while waiting; for B, the end of its grace, 0 when it has
-- none: a session skipped a second time has none), tag the random part of the session id:
-- its last 17 characters, "TTTT-TTTTTTTTTTTT".
-- Users live in 4,096 buckets `<users prefix><first 3 hex digits of SHA-1(user)>`:
-- `user → q` of the user's live session.
-- A join writes no record (README, "What a join writes"): in a line whose stream is
-- numbered by joins (the meta's `qids` is '1'; every line made since), join q's stream
-- entry has the id "<q>-<joined at, ms>" and carries the session id and the user, so a
-- waiting session that nothing but its join touched is its entry: W, seen at its join,
-- until 0 (`implied` reads it). The first step that writes the session (a heartbeat, a
-- leave, a move, the granter's turn) writes its record and user id; the granter trims an
-- entry only once its session has a record (see grant.lua, trim_passed). A line made
-- before (its ids are times, far above any join number) writes a record with each join.

local BUCKET = 64

-- The script's time, in ms: the caller's `now` when it gives one (a test's clock), else
-- Redis's clock, which every instance's scripts share, so expiry and admission order do
-- not depend on the clocks of the server hosts.
local function now_ms()
  if A.now and A.now ~= '' then
    return tonumber(A.now)
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Item i (from 1) of a batch: the fields `names` of `list` (KEYS or ARGV) after `offset`
-- entries, as a table by name.
local function item(list, offset, names, i)
  local t, base = {}, offset + (i - 1) * #names
  for j, name in ipairs(names) do
    t[name] = list[base + j]
  end
  return t
end

-- Where each of `names` is in an item of a batch (from 1): the field `name` of item i is
-- `list[offset + (i - 1) * #names + at[name]]`. For the hottest batch (join.lua), read by
-- name with no table made per item.
local function positions(names)
  local at = {}
  for i, name in ipairs(names) do
    at[name] = i
  end
  return at
end

-- The session id of join q (store/ids.rs has the layout): event number (6 hex digits),
-- join number (9 hex digits) around the version digit 8, then the tag (with its hyphen).
-- One format, its three parts of q by arithmetic (q < 2^36: exact in a Lua number).
local function session_id(event_hex, q, tag)
  return string.format('%s%02x-%04x-8%03x-%s', event_hex, math.floor(q / 268435456),
    math.floor(q / 4096) % 65536, q % 4096, tag)
end

-- A whole number's text, as Redis writes it: '%d' (a Lua number given to redis.call or
-- joined to a string is written with '%.14g', which costs several times more).
local function int(n)
  return string.format('%d', n)
end

-- Join number and tag of a session id, or nil for an id not made by session_id().
-- Positions in "EEEEEEQQ-QQQQ-8QQQ-TTTT-TTTTTTTTTTTT" (the granter parses every entry).
local function parse_session_id(sid)
  if not sid or #sid ~= 36 or string.byte(sid, 15) ~= 56 then -- 56 = '8'
    return nil
  end
  local q = tonumber(string.sub(sid, 7, 8) .. string.sub(sid, 10, 13) .. string.sub(sid, 16, 18), 16)
  return q, string.sub(sid, 20)
end

-- An error reply when the event's meta does not carry the number the caller used (its
-- `number` field, written when the event is registered): the caller's mapping of event
-- numbers is stale, because Redis lost data (FLUSHALL, a restore, a failover to a replica
-- that lagged) and the event was numbered again. The caller forgets its mapping and asks
-- the registry again; nothing was written.
local function stale_number(meta, event_hex)
  if redis.call('HGET', meta, 'number') ~= event_hex then
    return redis.error_reply('STALEEVENT event number ' .. event_hex .. ' is not this event')
  end
  return nil
end

local function bucket(prefix, q)
  return prefix .. math.floor(q / BUCKET), q % BUCKET
end

-- Appends v1 (and v2) to the list of q's bucket in `groups`; `order` keeps the buckets in
-- the order first seen. For one command per bucket over a run of sessions.
local function group_by_bucket(groups, order, q, v1, v2)
  local b = math.floor(q / BUCKET)
  local list = groups[b]
  if not list then
    list = {}
    groups[b] = list
    order[#order + 1] = b
  end
  list[#list + 1] = v1
  if v2 then
    list[#list + 1] = v2
  end
end

local function user_bucket(prefix, user)
  return prefix .. string.sub(redis.sha1hex(user), 1, 3)
end

local function pack(s)
  return string.format('%s|%d|%d|%s', s.st, s.seen, s.until_ms, s.tag)
end

local function unpack_record(q, rec, user)
  local st, seen, until_ms, tag = string.match(rec, '^(%u)|(%d+)|(%d+)|([%x%-]+)$')
  return { st = st, q = q, seen = tonumber(seen), until_ms = tonumber(until_ms), tag = tag, user = user }
end

-- The record implied by join q's stream entry (see the header), or nil when the stream
-- has no entry numbered q (a line whose ids are times, or one trimmed: its session has a
-- record). Marked `implied`: its first save writes the user id too.
local function implied(stream, q)
  local e = redis.call('XRANGE', stream, q, q, 'COUNT', 1)[1]
  if not e then
    return nil
  end
  local f, sid, user = e[2], nil, nil
  for i = 1, #f, 2 do
    if f[i] == 'sessionId' then
      sid = f[i + 1]
    elseif f[i] == 'userId' then
      user = f[i + 1]
    end
  end
  local eq, tag = parse_session_id(sid)
  if eq ~= q or not user then
    return nil
  end
  local seen = tonumber(string.match(e[1], '^%d+%-(%d+)$'))
  return { st = 'W', q = q, seen = seen, until_ms = 0, tag = tag, user = user, implied = true }
end

-- Session q, or nil if there is none (or its tag is not `tag`, when given). With the
-- event's `stream`, a waiting session with no record yet is read from its entry.
local function load(prefix, q, tag, stream)
  local key, f = bucket(prefix, q)
  local r = redis.call('HMGET', key, f, 'u' .. f)
  local s
  if r[1] then
    s = unpack_record(q, r[1], r[2])
  elseif stream then
    s = implied(stream, q)
  end
  if not s or (tag and s.tag ~= tag) then
    return nil
  end
  return s
end

-- Fills in the user id of a session read without it.
local function load_user(prefix, s)
  if not s.user then
    local key, f = bucket(prefix, s.q)
    s.user = redis.call('HGET', key, 'u' .. f)
  end
end

local function create(prefix, s)
  local key, f = bucket(prefix, s.q)
  redis.call('HSET', key, f, pack(s), 'u' .. f, s.user)
  s.implied = nil
end

-- Writes the record (the user id never changes once created; an implied session's first
-- record writes it).
local function save(prefix, s)
  if s.implied then
    return create(prefix, s)
  end
  local key, f = bucket(prefix, s.q)
  redis.call('HSET', key, f, pack(s))
end

-- Moves a session to a final status: frees the user for a new join and schedules the
-- record for purging after the retention period.
local function finish(prefix, users, done, s, st, now)
  s.st = st
  save(prefix, s)
  local ub = user_bucket(users, s.user)
  if tonumber(redis.call('HGET', ub, s.user)) == s.q then
    redis.call('HDEL', ub, s.user)
  end
  redis.call('ZADD', done, now, s.q)
end

-- The draw (README, "A fair start", and src/draw.rs): the order of a draw over joins
-- lo+1..lo+n is a shuffle the granter computes once and writes beside the draw, as two
-- strings of 4-byte big-endian numbers: `<orders prefix><round>` gives the offset (join
-- lo+1+offset) drawn at each rank, `<ranks prefix><round>` the rank of each offset. The
-- meta's `draw_ready` names the round whose strings are complete. A rank or a position
-- is one GETRANGE.
local function draw_entry(key, i)
  return struct.unpack('>I4', redis.call('GETRANGE', key, 4 * i, 4 * i + 3))
end

-- The event's queueing: 'fifo', 'draw-at-open' (the default when an opening is set) or
-- 'random', from the meta fields `queueing` and `opens_at`.
local function queueing_of(queueing, opens_at)
  return queueing or (opens_at and 'draw-at-open' or 'fifo')
end

-- The meta fields of an event's state that every waiting session's answer shares (the
-- granter's head, the admission rate, settings, the current draw, the operator's message,
-- the epoch): read by status, join and leave for one session, and by snapshot.lua for a
-- process's memory. Rust computes the answer from them (src/store/view.rs). `STATE_FIELDS`
-- is in every script's generated head, from `view::STATE_FIELDS`: a reply may give them by
-- position.

-- Why an event takes no one any more, or nil while it is open (README, "A sale that has a
-- state"): the operator's `state` ('sold_out', 'closed'), or 'ended' once its `ends_at`
-- (ms) has passed. ('suspended' is not closed: the line is kept.)
local function closed_reason(state, ends_at, now)
  if state == 'sold_out' or state == 'closed' then
    return state
  end
  if ends_at and now >= tonumber(ends_at) then
    return 'ended'
  end
  return nil
end

-- Appends `name, value` to a name/value reply unless the value is nil or false.
local function put(reply, name, value)
  if value then
    reply[#reply + 1] = name
    reply[#reply + 1] = value
  end
end

-- Appends the event's state (STATE_FIELDS, as HMGET read them into `m`) to a reply.
local function put_state(reply, m)
  for i, field in ipairs(STATE_FIELDS) do
    put(reply, field, m[i])
  end
end

-- A session's own part of its answer, appended to `reply` as name/value pairs: its record
-- (status letter, join number, end of its slot, user, last heartbeat) and what only Redis
-- can tell of its place: those ahead of it who left (`gone`), its rank in a draw
-- (`rank`, when the draw's order is written), or for one that came back, how many came
-- back before it (`back`). `keys` holds the event's keys `left`, `ranks` and `back`; `m` is
-- the event's state (STATE_FIELDS); `gone` is read here unless given (a batch of joins
-- reads it once per event).
local function put_session(reply, keys, s, m, gone)
  local left, ranks, back = keys.left, keys.ranks, keys.back
  local k = #reply
  reply[k + 1], reply[k + 2], reply[k + 3], reply[k + 4] = 'st', s.st, 'q', s.q
  reply[k + 5], reply[k + 6], reply[k + 7], reply[k + 8] = 'until', s.until_ms, 'user', s.user
  reply[k + 9], reply[k + 10] = 'seen', s.seen
  if s.st == 'W' then
    local round = tonumber(m[7]) or 0
    local lo, n = tonumber(m[9]) or 0, tonumber(m[10]) or 0
    if s.q > lo and s.q <= lo + n then
      if round > 0 and tonumber(m[8]) == round then
        put(reply, 'rank', draw_entry(ranks .. round, s.q - lo - 1))
      end
    else
      local head = tonumber(m[1] or '0')
      put(reply, 'gone', gone or redis.call('ZCOUNT', left, '(' .. head, '(' .. s.q))
    end
  elseif s.st == 'R' then
    put(reply, 'back', redis.call('ZRANK', back, s.q) or 0)
  end
end

-- A session's whole answer, as name/value pairs: the script's time, the event's state
-- and the session's own part (put_session; `keys` as there).
local function place(meta, keys, s, now)
  local m = redis.call('HMGET', meta, unpack(STATE_FIELDS))
  local reply = { 'now', now }
  put_state(reply, m)
  put_session(reply, keys, s, m)
  return reply
end
