-- Joins of one or more events' lines, written together (store/joins.rs), in order: each
-- is atomic and makes at most one live session per (event, user).
-- Contract (src/store/scripts.rs, Join): `events` (m) events, each with EVENT_KEYS
-- (stream, meta, sessions prefix, users prefix, left, ranks prefix) and EVENT_ARGS (its
-- number, 6 hex digits, and its id); then the joins, each with JOIN_ARGS: its event
-- (1..m), tag ("TTTT-TTTTTTTTTTTT"), user, create ('1': join; '0': only look up the user's
-- live session), deadline (unix ms on the script's clock; 0: none).
-- Returns {now, replies}: per join in order, the place (see `place` in common.lua) with
-- `created` (1|0), `sid` and `wake` (1|0); false when
-- only looking up and there is no live session; 'STALE' when the event's meta does not
-- carry the number given (see stale_number in common.lua: nothing was written for it);
-- 'LATE' when Redis runs it after its deadline (the caller has answered "failed", or is
-- about to: nothing was written, so a retry makes the place anew); 'LINEFULL' once the
-- event has had 2^36 joins. wake: the join may be admitted at once (its event is not
-- `blocked`, and no pass is due there already), so the caller puts the event in the
-- granter's schedule; the meta's `due` says a pass is due now. A wake more than
-- STALE_WAKE_MS old that no pass answered (its process died between this script and the
-- schedule) is made again.
--
-- What every join of an event shares is read once per call: the meta (the number check,
-- the view's fields, `seq`, `due` and `blocked`, one HMGET) and those who left ahead of
-- the newest join; the join counter `seq` is counted here and written once at the end. A
-- new join then costs four commands: the user's bucket read, the session, the user's entry
-- and the stream entry (`NOMKSTREAM`: the stream and its group are made when it is
-- missing).
local STALE_WAKE_MS = 2000
local JOIN_FIELDS = { unpack(STATE_FIELDS) }
for _, field in ipairs({ 'number', 'seq', 'due', 'blocked' }) do
  JOIN_FIELDS[#JOIN_FIELDS + 1] = field
end
local now = now_ms()
local m = tonumber(A.events)
-- One entry per (meta, number), however often the batch names it: one count of `seq`, or
-- two joins would get one number. (Two numbers for one meta: at most one is not stale.)
local events, entries = {}, {}
for e = 1, m do
  local keys, args = item(KEYS, 0, EVENT_KEYS, e), item(ARGV, A_FIXED, EVENT_ARGS, e)
  local meta, hex = keys.meta, args.number
  local ev = entries[meta .. '|' .. hex]
  if not ev then
    ev = keys
    ev.hex, ev.id = hex, args.id
    -- The view's fields, then number, seq, due and blocked.
    local f = redis.call('HMGET', meta, unpack(JOIN_FIELDS))
    local n = #STATE_FIELDS
    ev.stale = f[n + 1] ~= hex
    ev.seq0 = tonumber(f[n + 2]) or 0
    ev.seq = ev.seq0
    ev.due, ev.blocked = tonumber(f[n + 3]), f[n + 4] == '1'
    ev.fields = f
    entries[meta .. '|' .. hex] = ev
  end
  events[e] = ev
end

-- Those who left ahead of every new join, on first need.
local function gone(ev)
  if not ev.gone then
    ev.gone = redis.call('ZCOUNT', ev.left, '(' .. (ev.fields[1] or '0'), '+inf')
  end
  return ev.gone
end

-- Whether the event needs a pass for a new join (see the header); at most once a call.
local function wake(ev)
  if ev.blocked or ev.woken then
    return 0
  end
  ev.woken = true
  if ev.due and ev.due <= now and ev.due > now - STALE_WAKE_MS then
    return 0
  end
  redis.call('HSET', ev.meta, 'due', now)
  return 1
end

local function join(ev, tag, user, create_place, deadline)
  if ev.stale then
    return 'STALE'
  end
  if deadline > 0 and now > deadline then
    return 'LATE'
  end
  local ub = user_bucket(ev.users, user)
  local existing = tonumber(redis.call('HGET', ub, user))
  if existing then
    local s = load(ev.sessions, existing)
    if s and (s.st == 'W' or (s.st == 'A' and s.until_ms > now)) then
      if s.st == 'W' then
        s.seen = now
        save(ev.sessions, s)
      end
      local reply = place(ev.meta, ev.left, ev.ranks, s, now, ev.fields)
      put(reply, 'created', 0)
      put(reply, 'sid', session_id(ev.hex, s.q, s.tag))
      return reply
    end
  end
  if create_place ~= '1' then
    return false
  end
  -- The join number and the stream entry are written together, so stream order is
  -- join order and `head` (entries granted so far) can be compared with `seq`.
  if ev.seq + 1 >= 2 ^ 36 then
    return 'LINEFULL'
  end
  ev.seq = ev.seq + 1
  local q = ev.seq
  local s = { st = 'W', q = q, seen = now, until_ms = 0, tag = tag, user = user }
  create(ev.sessions, s)
  redis.call('HSET', ub, user, q)
  local sid = session_id(ev.hex, q, tag)
  -- The group reads from the very first entry; creating it with the stream means no join
  -- can ever be added before the group exists.
  if not redis.call('XADD', ev.stream, 'NOMKSTREAM', '*', 'sessionId', sid, 'eventId', ev.id,
      'userId', user) then
    redis.call('XGROUP', 'CREATE', ev.stream, GROUP, '0', 'MKSTREAM')
    redis.call('XADD', ev.stream, '*', 'sessionId', sid, 'eventId', ev.id, 'userId', user)
  end
  local reply = place(ev.meta, ev.left, ev.ranks, s, now, ev.fields, gone(ev))
  put(reply, 'created', 1)
  put(reply, 'sid', sid)
  put(reply, 'wake', wake(ev))
  return reply
end

local replies = {}
local offset = A_FIXED + m * #EVENT_ARGS
for j = 1, (#ARGV - offset) / #JOIN_ARGS do
  local a = item(ARGV, offset, JOIN_ARGS, j)
  replies[j] = join(events[tonumber(a.event)], a.tag, a.user, a.create, tonumber(a.deadline))
end
for _, ev in pairs(entries) do
  if ev.seq ~= ev.seq0 then
    redis.call('HSET', ev.meta, 'seq', ev.seq)
  end
end
return { now, replies }
