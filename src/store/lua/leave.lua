-- Leave the line or give the slot back. Idempotent: a final session stays as it is.
-- An ACTIVE session that ends here still holds an unexpired pass: it is added to the
-- revoked set (which the gates read) until the pass would have expired, and the meta's
-- `due` says a pass is due now (the caller wakes the granter: the slot goes to the next
-- person). A WAITING one not yet passed by the granter is counted out of the positions
-- behind it (`left`, and `leftlog` for the processes' memory: see snapshot.lua); one of a
-- draw is skipped by its record when the draw reaches it.
-- KEYS: meta, sessions prefix, users prefix, active, left, done, revoked, ranks prefix,
--       leftlog
-- ARGV: sessionId, join number, tag
-- Returns {freedSlot (1|0), view}, or false for an unknown session.
local meta, sessions, users, active, left, done, revoked, ranks, leftlog =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
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
  redis.call('HSET', meta, 'due', now)
  freed = 1
elseif s.st == 'W' then
  -- Still in the stream: the granter skips it when it gets there.
  if s.q > tonumber(redis.call('HGET', meta, 'head') or '0') then
    redis.call('ZADD', left, s.q, s.q)
    redis.call('ZADD', leftlog, redis.call('HINCRBY', meta, 'left_n', 1), s.q)
  end
  finish(sessions, users, done, s, 'L', now)
end
return { freed, view(meta, left, ranks, s, now) }
