-- Join the line of one event, atomically: at most one live session per (event, user).
-- KEYS: stream, meta, sessions prefix, users prefix, left
-- ARGV: event number (6 hex digits), tag ("TTTT-TTTTTTTTTTTT"), eventId, userId,
--       create ('1': join; '0': only look up the user's live session)
-- Returns {created (1|0), sessionId, view}, or false when only looking up and there is
-- no live session.
local now = now_ms()
local event_hex, tag, user = ARGV[1], ARGV[2], ARGV[4]
local ub = user_bucket(KEYS[4], user)

local existing = tonumber(redis.call('HGET', ub, user))
if existing then
  local s = load(KEYS[3], existing)
  if s and (s.st == 'W' or (s.st == 'A' and s.untl > now)) then
    if s.st == 'W' then
      s.seen = now
      save(KEYS[3], s)
    end
    return { 0, session_id(event_hex, s.q, s.tag), view(KEYS[2], KEYS[5], s, now) }
  end
end
if ARGV[5] ~= '1' then
  return false
end

-- The group reads from the very first entry; creating it with the stream means no join
-- can ever be added before the group exists.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], 'granter', '0', 'MKSTREAM')
end
-- The join number and the stream entry are written together, so stream order is
-- join order and `head` (entries granted so far) can be compared with `seq`.
local q = redis.call('HINCRBY', KEYS[2], 'seq', 1)
if q >= 2 ^ 36 then
  return redis.error_reply('LINEFULL this event has had 2^36 joins')
end
local s = { st = 'W', q = q, seen = now, untl = 0, tag = tag, user = user }
create(KEYS[3], s)
redis.call('HSET', ub, user, q)
local sid = session_id(event_hex, q, tag)
redis.call('XADD', KEYS[1], '*', 'sessionId', sid, 'eventId', ARGV[3], 'userId', user)
return { 1, sid, view(KEYS[2], KEYS[5], s, now) }
