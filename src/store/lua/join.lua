-- Join the line of one event, atomically: at most one live session per (event, user).
-- KEYS: stream, meta, sessions prefix, users prefix, left
-- ARGV: event number (6 hex digits), tag ("TTTT-TTTTTTTTTTTT"), eventId, userId,
--       create ('1': join; '0': only look up the user's live session)
-- Returns {created (1|0), sessionId, view, wake (1|0)}, or false when only looking up
-- and there is no live session. wake: the event had no work (no `live` mark in its meta,
-- which the granter keeps while it has any), so the caller must add it to the events with
-- work before acknowledging the join.
local stream, meta, sessions, users, left = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = now_ms()
local event_hex, tag, event_id, user, create_place = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local stale = stale_number(meta, event_hex)
if stale then
  return stale
end
local ub = user_bucket(users, user)

local existing = tonumber(redis.call('HGET', ub, user))
if existing then
  local s = load(sessions, existing)
  if s and (s.st == 'W' or (s.st == 'A' and s.untl > now)) then
    if s.st == 'W' then
      s.seen = now
      save(sessions, s)
    end
    return { 0, session_id(event_hex, s.q, s.tag), view(meta, left, s, now), 0 }
  end
end
if create_place ~= '1' then
  return false
end

-- The group reads from the very first entry; creating it with the stream means no join
-- can ever be added before the group exists.
if redis.call('EXISTS', stream) == 0 then
  redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
end
-- The join number and the stream entry are written together, so stream order is
-- join order and `head` (entries granted so far) can be compared with `seq`.
local q = redis.call('HINCRBY', meta, 'seq', 1)
if q >= 2 ^ 36 then
  return redis.error_reply('LINEFULL this event has had 2^36 joins')
end
local s = { st = 'W', q = q, seen = now, untl = 0, tag = tag, user = user }
create(sessions, s)
redis.call('HSET', ub, user, q)
local sid = session_id(event_hex, q, tag)
redis.call('XADD', stream, '*', 'sessionId', sid, 'eventId', event_id, 'userId', user)
local wake = redis.call('HGET', meta, 'live') == false and 1 or 0
return { 1, sid, view(meta, left, s, now), wake }
