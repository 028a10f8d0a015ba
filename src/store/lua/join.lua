-- Joins of one or more events' lines, written together (store/joins.rs), in order: each
-- is atomic and makes at most one live session per (event, user).
-- KEYS: per event: stream, meta, sessions prefix, users prefix, left
-- ARGV: the number of events m; per event: its number (6 hex digits) and eventId; then
--       per join: its event (1..m), tag ("TTTT-TTTTTTTTTTTT"), userId, create ('1': join;
--       '0': only look up the user's live session)
-- Returns, per join in order: {created (1|0), sessionId, view, wake (1|0)}; false when
-- only looking up and there is no live session; 'STALE' when the event's meta does not
-- carry the number given (see stale_number in common.lua: nothing was written for it);
-- 'LINEFULL' once the event has had 2^36 joins. wake: the event had no work (no `live`
-- mark in its meta, which the granter keeps while it has any), so the caller must add it
-- to the events with work before acknowledging the join.
local now = now_ms()
local m = tonumber(ARGV[1])
local events = {}
for e = 1, m do
  local k = (e - 1) * 5
  local meta, hex = KEYS[k + 2], ARGV[2 * e]
  events[e] = { stream = KEYS[k + 1], meta = meta, sessions = KEYS[k + 3], users = KEYS[k + 4],
    left = KEYS[k + 5], hex = hex, id = ARGV[2 * e + 1],
    stale = redis.call('HGET', meta, 'number') ~= hex }
end

local function join(ev, tag, user, create_place)
  if ev.stale then
    return 'STALE'
  end
  local ub = user_bucket(ev.users, user)
  local existing = tonumber(redis.call('HGET', ub, user))
  if existing then
    local s = load(ev.sessions, existing)
    if s and (s.st == 'W' or (s.st == 'A' and s.untl > now)) then
      if s.st == 'W' then
        s.seen = now
        save(ev.sessions, s)
      end
      return { 0, session_id(ev.hex, s.q, s.tag), view(ev.meta, ev.left, s, now), 0 }
    end
  end
  if create_place ~= '1' then
    return false
  end
  -- The group reads from the very first entry; creating it with the stream means no join
  -- can ever be added before the group exists.
  if redis.call('EXISTS', ev.stream) == 0 then
    redis.call('XGROUP', 'CREATE', ev.stream, GROUP, '0', 'MKSTREAM')
  end
  -- The join number and the stream entry are written together, so stream order is
  -- join order and `head` (entries granted so far) can be compared with `seq`.
  local q = redis.call('HINCRBY', ev.meta, 'seq', 1)
  if q >= 2 ^ 36 then
    redis.call('HINCRBY', ev.meta, 'seq', -1)
    return 'LINEFULL'
  end
  local s = { st = 'W', q = q, seen = now, untl = 0, tag = tag, user = user }
  create(ev.sessions, s)
  redis.call('HSET', ub, user, q)
  local sid = session_id(ev.hex, q, tag)
  redis.call('XADD', ev.stream, '*', 'sessionId', sid, 'eventId', ev.id, 'userId', user)
  local wake = redis.call('HGET', ev.meta, 'live') == false and 1 or 0
  return { 1, sid, view(ev.meta, ev.left, s, now), wake }
end

local replies = {}
for i = 2 + 2 * m, #ARGV, 4 do
  replies[#replies + 1] = join(events[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
end
return replies
