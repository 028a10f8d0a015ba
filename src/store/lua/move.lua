-- A place taken to another device (README, "Take your place with you"): the offer
-- `offer` ("token|tag|expires", made by the place's page: see store/moves.rs) is spent by
-- the one who brings its token before it expires (unix ms, on the scripts' clock). The
-- place keeps its join number and its turn (its heartbeat is now); it gets a new tag (`A.tag`),
-- so the old session id is dead for polls, leaves and passes, and, for a place of a
-- visitor (a user id starting with `A.visitor_prefix`), the new browser's visitor `A.user`
-- as its user (the user index moves with it). A place of a shop's account stays the
-- account's. The old tag is kept in `moved` (the granter admits the place by its stream
-- entry's tag; a poll with an old tag is answered MOVED), and the place in `movelog` by
-- the move's count (`moved_n`) until the granter passes it: the processes read the moves
-- since their last read, and polls answered from their memory read Redis for those places
-- (snapshot.lua).
-- Only a waiting place moves (W, or R: back within its grace), at most `A.max_moves`
-- times. Refusals write nothing but the spent offer of a place that can no longer move.
-- Returns {'refused', why} (why: 'expired' no such offer, not this token, or past its
-- end; 'gone' the place is no longer waiting; 'held' the new visitor holds a place in this
-- line; 'same' the offer was opened by the browser that holds the place; 'most' moved too
-- often), or the place (see `place` in common.lua) with `sid`, its new session id.
local stale = stale_number(K.meta, A.event_number)
if stale then
  return stale
end
local offer = redis.call('GET', K.offer)
local token, old_tag, expires = nil, nil, nil
if offer then
  token, old_tag, expires = string.match(offer, '^(%x+)|([%x%-]+)|(%d+)$')
end
local now = now_ms()
if not token or token ~= A.token or now >= tonumber(expires) then
  return { 'refused', 'expired' }
end
local q = tonumber(A.q)
local s = load(K.sessions, q, old_tag, K.stream)
if not s or (s.st ~= 'W' and s.st ~= 'R') then
  redis.call('DEL', K.offer)
  return { 'refused', 'gone' }
end
local visitor = string.sub(s.user, 1, #A.visitor_prefix) == A.visitor_prefix
if visitor and s.user == A.user then
  return { 'refused', 'same' }
end
local before = redis.call('HGET', K.moved, q)
local moves = 0
if before then
  for _ in string.gmatch(before, '%S+') do
    moves = moves + 1
  end
end
if moves >= tonumber(A.max_moves) then
  redis.call('DEL', K.offer)
  return { 'refused', 'most' }
end
if visitor then
  local ub = user_bucket(K.users, A.user)
  if redis.call('HEXISTS', ub, A.user) == 1 then
    return { 'refused', 'held' }
  end
  local old = user_bucket(K.users, s.user)
  if tonumber(redis.call('HGET', old, s.user)) == q then
    redis.call('HDEL', old, s.user)
  end
  redis.call('HSET', ub, A.user, q)
end
redis.call('DEL', K.offer)
redis.call('HSET', K.moved, q, before and (before .. ' ' .. old_tag) or old_tag,
  old_tag, q .. '|' .. s.user)
redis.call('ZADD', K.movelog, redis.call('HINCRBY', K.meta, 'moved_n', 1), q)
if visitor then
  s.user = A.user
end
-- The new browser is there now: that is its heartbeat.
s.tag, s.seen = A.tag, now
create(K.sessions, s)
local reply = place(K.meta, K, s, now)
put(reply, 'sid', session_id(A.event_number, q, s.tag))
return reply
