-- Join the line of one event, atomically: at most one live session per (event, user).
-- KEYS: stream, meta, sessions, users, left
-- ARGV: sessionId, eventId, userId
-- Returns {created (1|0), sessionId, view}.
local sid, now = ARGV[1], now_ms()

local existing = redis.call('HGET', KEYS[4], ARGV[3])
if existing then
  local s = load(KEYS[3], existing)
  if s and (s.st == 'W' or (s.st == 'A' and s.untl > now)) then
    if s.st == 'W' then
      s.seen = now
      save(KEYS[3], existing, s)
    end
    return { 0, existing, view(KEYS[2], KEYS[5], s, now) }
  end
end

-- The group reads from the very first entry; creating it with the stream means no join
-- can ever be added before the group exists.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], 'granter', '0', 'MKSTREAM')
end
-- The join number and the stream entry are written together, so stream order is
-- join order and `head` (entries granted so far) can be compared with `seq`.
local q = redis.call('HINCRBY', KEYS[2], 'seq', 1)
local s = { st = 'W', q = q, seen = now, untl = 0, user = ARGV[3] }
save(KEYS[3], sid, s)
redis.call('HSET', KEYS[4], ARGV[3], sid)
redis.call('XADD', KEYS[1], '*', 'sessionId', sid, 'eventId', ARGV[2], 'userId', ARGV[3])
return { 1, sid, view(KEYS[2], KEYS[5], s, now) }
