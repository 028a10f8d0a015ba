-- Read a session and record the heartbeat of a waiting one (polling is the heartbeat).
-- The heartbeat is rewritten only once it is `heartbeat_ms` old: most polls only read.
-- Returns the session's place (see `place` in common.lua), or false for an unknown
-- session.
local stale = stale_number(K.meta, A.event_number)
if stale then
  return stale
end
local now = now_ms()
local s = load(K.sessions, tonumber(A.q), A.tag)
if not s then
  return false
end
if s.st == 'W' and now - s.seen >= tonumber(A.heartbeat_ms) then
  s.seen = now
  save(K.sessions, s)
end
return place(K.meta, K.left, K.ranks, s, now)
