-- Read a session and record the heartbeat of a waiting one (polling is the heartbeat).
-- The heartbeat is rewritten only once it is `heartbeat` ms old: most polls only read.
-- KEYS: meta, sessions prefix, left, ranks prefix
-- ARGV: join number, tag, heartbeat (ms), event number (6 hex digits)
-- Returns the view, or false for an unknown session.
local meta, sessions, left, ranks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local q, tag, heartbeat_ms = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local stale = stale_number(meta, ARGV[4])
if stale then
  return stale
end
local now = now_ms()
local s = load(sessions, q, tag)
if not s then
  return false
end
if s.st == 'W' and now - s.seen >= heartbeat_ms then
  s.seen = now
  save(sessions, s)
end
return view(meta, left, ranks, s, now)
