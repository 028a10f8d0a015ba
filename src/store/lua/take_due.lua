-- Takes the events whose time has come from the granter's schedule, for one pass: each is
-- leased to the caller (its score moved `lease` ms ahead, with a fresh stamp: the fraction
-- is this call's microseconds) so that other processes' passes leave it alone meanwhile; a
-- process that dies holding a lease leaves the event due again when the lease ends. (Two
-- passes that get one stamp both pass the event: harmless, the grant script is atomic.)
-- KEYS: the schedule (sorted set: eventId -> when it next needs a pass)
-- ARGV: most events to take, lease (ms)
-- Returns {now, oldest (the earliest time among those taken that was not a wake, or -1),
--          eventId, stamp, eventId, stamp, ...}: the stamps the caller's reschedule.lua
--          compares.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local taken = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0,
  tonumber(ARGV[1]))
local reply, oldest = { now, -1 }, -1
local lease = now + tonumber(ARGV[2])
for i = 1, #taken, 2 do
  local at = tonumber(taken[i + 1])
  -- Wakes are scores below 1 (due at once), not times.
  if at >= 1 and (oldest < 0 or at < oldest) then
    oldest = at
  end
  redis.call('ZADD', KEYS[1], string.format('%d.%06d', lease, tonumber(t[2])), taken[i])
  reply[#reply + 1] = taken[i]
  -- As Redis writes the score, which is how reschedule.lua reads it back.
  reply[#reply + 1] = redis.call('ZSCORE', KEYS[1], taken[i])
end
reply[2] = oldest
return reply
