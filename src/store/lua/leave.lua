-- Leave the line or give the slot back. Idempotent: a final session stays as it is.
-- An ACTIVE session that ends here still holds an unexpired pass: it is added to the
-- revoked set (which the gates read) until the pass would have expired.
-- KEYS: meta, sessions prefix, users prefix, active, left, done, revoked
-- ARGV: sessionId, join number, tag
-- Returns {freedSlot (1|0), view}, or false for an unknown session.
local now = now_ms()
local s = load(KEYS[2], tonumber(ARGV[2]), ARGV[3])
if not s then
  return false
end
local freed = 0
if s.st == 'A' and s.untl > now then
  redis.call('ZREM', KEYS[4], ARGV[1])
  finish(KEYS[2], KEYS[3], KEYS[6], s, 'L', now)
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now)
  redis.call('ZADD', KEYS[7], s.untl, ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'revoked', 1)
  freed = 1
elseif s.st == 'W' then
  -- Still in the stream: the granter skips it when it gets there. Until then it is
  -- counted out of the positions behind it.
  redis.call('ZADD', KEYS[5], s.q, s.q)
  finish(KEYS[2], KEYS[3], KEYS[6], s, 'L', now)
end
return { freed, view(KEYS[1], KEYS[5], s, now) }
