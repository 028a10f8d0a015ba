-- Read a session and record the heartbeat of a waiting one (polling is the heartbeat).
-- The heartbeat is rewritten only once it is `heartbeat` ms old: most polls only read.
-- KEYS: meta, sessions prefix, left
-- ARGV: join number, tag, heartbeat (ms)
-- Returns the view, or false for an unknown session.
local now = now_ms()
local s = load(KEYS[2], tonumber(ARGV[1]), ARGV[2])
if not s then
  return false
end
if s.st == 'W' and now - s.seen >= tonumber(ARGV[3]) then
  s.seen = now
  save(KEYS[2], s)
end
return view(KEYS[1], KEYS[3], s, now)
