-- Read a session and record the heartbeat of a waiting one (polling is the heartbeat).
-- KEYS: meta, sessions, left
-- ARGV: sessionId
-- Returns the view, or false for an unknown session.
local sid, now = ARGV[1], now_ms()
local s = load(KEYS[2], sid)
if not s then
  return false
end
if s.st == 'W' then
  s.seen = now
  save(KEYS[2], sid, s)
end
return view(KEYS[1], KEYS[3], s, now)
