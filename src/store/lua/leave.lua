-- Leave the line or give the slot back. Idempotent: a final session stays as it is.
-- KEYS: meta, sessions, users, active, left, done
-- ARGV: sessionId
-- Returns {freedSlot (1|0), view}, or false for an unknown session.
local sid, now = ARGV[1], now_ms()
local s = load(KEYS[2], sid)
if not s then
  return false
end
local freed = 0
if s.st == 'A' and s.untl > now then
  redis.call('ZREM', KEYS[4], sid)
  finish(KEYS[2], KEYS[3], KEYS[6], sid, s, 'L', now)
  freed = 1
elseif s.st == 'W' then
  -- Still in the stream: the granter skips it when it gets there. Until then it is
  -- counted out of the positions behind it.
  redis.call('ZADD', KEYS[5], s.q, sid)
  finish(KEYS[2], KEYS[3], KEYS[6], sid, s, 'L', now)
end
return { freed, view(KEYS[1], KEYS[5], s, now) }
