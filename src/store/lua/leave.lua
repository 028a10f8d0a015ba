-- Leave the line or give the slot back. Idempotent: a final session stays as it is.
-- An ACTIVE session that ends here still holds an unexpired pass: it is added to the
-- revoked set (which the gates read) until the pass would have expired, and the meta's
-- `due` says a pass is due now (the caller wakes the granter: the slot goes to the next
-- person). A WAITING one not yet passed by the granter is counted out of the positions
-- behind it (`left`, and `leftlog` for the processes' memory: see snapshot.lua); one of a
-- draw is skipped by its record when the draw reaches it.
-- Returns the session's place with `freed` (1 when a slot was given back), or false for
-- an unknown session.
local stale = stale_number(K.meta, string.sub(A.session_id, 1, 6))
if stale then
  return stale
end
local now = now_ms()
local s = load(K.sessions, tonumber(A.q), A.tag, K.stream)
if not s then
  return false
end
local freed = 0
if s.st == 'A' and s.until_ms > now then
  redis.call('ZREM', K.active, A.session_id)
  finish(K.sessions, K.users, K.done, s, 'L', now)
  redis.call('ZREMRANGEBYSCORE', K.revoked, '-inf', now)
  redis.call('ZADD', K.revoked, s.until_ms, A.session_id)
  redis.call('HINCRBY', K.meta, 'revoked', 1)
  redis.call('HSET', K.meta, 'due', now)
  freed = 1
elseif s.st == 'W' then
  -- Still in the stream: the granter skips it when it gets there.
  if s.q > tonumber(redis.call('HGET', K.meta, 'head') or '0') then
    redis.call('ZADD', K.left, s.q, s.q)
    redis.call('ZADD', K.leftlog, redis.call('HINCRBY', K.meta, 'left_n', 1), s.q)
  end
  finish(K.sessions, K.users, K.done, s, 'L', now)
elseif s.st == 'R' then
  -- Back within its grace: out of those the granter admits first.
  redis.call('HINCRBY', K.meta, 'back_n', -redis.call('ZREM', K.back, s.q))
  finish(K.sessions, K.users, K.done, s, 'L', now)
end
local reply = place(K.meta, K, s, now)
put(reply, 'freed', freed)
return reply
