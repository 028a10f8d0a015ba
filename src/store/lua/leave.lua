-- Leave the line or give the slot back. Idempotent: a final session stays as it is.
-- An ACTIVE session that ends here still holds an unexpired pass: it is added to the
-- revoked set (which the gates read) until the pass would have expired.
-- KEYS: meta, sessions prefix, users prefix, active, left, done, revoked
-- ARGV: sessionId, join number, tag
-- Returns {freedSlot (1|0), view}, or false for an unknown session.
local meta, sessions, users, active, left, done, revoked =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local sid, q, tag = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local stale = stale_number(meta, string.sub(sid, 1, 6))
if stale then
  return stale
end
local now = now_ms()
local s = load(sessions, q, tag)
if not s then
  return false
end
local freed = 0
if s.st == 'A' and s.untl > now then
  redis.call('ZREM', active, sid)
  finish(sessions, users, done, s, 'L', now)
  redis.call('ZREMRANGEBYSCORE', revoked, '-inf', now)
  redis.call('ZADD', revoked, s.untl, sid)
  redis.call('HINCRBY', meta, 'revoked', 1)
  freed = 1
elseif s.st == 'W' then
  -- Still in the stream: the granter skips it when it gets there. Until then it is
  -- counted out of the positions behind it.
  redis.call('ZADD', left, s.q, s.q)
  finish(sessions, users, done, s, 'L', now)
end
return { freed, view(meta, left, s, now) }
