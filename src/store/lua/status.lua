-- Read a session and record the heartbeat of a waiting one (polling is the heartbeat);
-- a waiting session with no record yet gets it here.
-- The heartbeat is rewritten only once it is `heartbeat_ms` old: most polls only read.
-- A session skipped for not polling that is polled again within its grace (its record's
-- `until`: README, "Your turn, in the background") comes back: it waits again (R), ahead of
-- the line, for the next free slot, and its user holds it again, unless the user has
-- another live place (a join made meanwhile: that one stays, this one stays skipped). Its
-- grace is used: skipped again, it has none. The meta's `due` says a pass is due now (the
-- caller wakes the granter).
-- An id whose place moved to another device (its tag is one the place had before: see
-- move.lua) is answered with the place as MOVED (status letter M) and the user who held it
-- then; nothing else of it.
-- Returns the session's place (see `place` in common.lua) with `returned` (1 when it came
-- back here), or false for an unknown session.
local stale = stale_number(K.meta, A.event_number)
if stale then
  return stale
end
local now = now_ms()
local s = load(K.sessions, tonumber(A.q), A.tag, K.stream)
if not s then
  local was = redis.call('HGET', K.moved, A.tag)
  local q, user = nil, nil
  if was then
    q, user = string.match(was, '^(%d+)|(.+)$')
  end
  s = q and tonumber(q) == tonumber(A.q) and load(K.sessions, tonumber(q))
  if not s then
    return false
  end
  s.st, s.user, s.tag, s.until_ms = 'M', user, A.tag, 0
  return place(K.meta, K, s, now)
end
local returned = 0
if s.st == 'B' and s.until_ms > now then
  local ub = user_bucket(K.users, s.user)
  if not redis.call('HGET', ub, s.user) then
    redis.call('HSET', ub, s.user, s.q)
    redis.call('ZREM', K.done, s.q)
    redis.call('HINCRBY', K.meta, 'back_n', redis.call('ZADD', K.back, now, s.q))
    s.st, s.seen, s.until_ms = 'R', now, 0
    save(K.sessions, s)
    redis.call('HSET', K.meta, 'due', now)
    returned = 1
  end
elseif (s.st == 'W' or s.st == 'R') and now - s.seen >= tonumber(A.heartbeat_ms) then
  s.seen = now
  save(K.sessions, s)
elseif s.implied then
  -- Its first read through Redis writes its record (see common.lua): the next one reads
  -- one field, not the stream.
  save(K.sessions, s)
end
local reply = place(K.meta, K, s, now)
put(reply, 'returned', returned)
return reply
