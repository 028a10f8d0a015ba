-- Takes the events whose time has come from the granter's schedule, for one pass: each is
-- leased to the caller (its score moved `lease` ms ahead, with a fresh stamp: the fraction
-- is this call's microseconds) so that other processes' passes leave it alone meanwhile; a
-- process that dies holding a lease leaves the event due again when the lease ends. (Two
-- passes that get one stamp both pass the event: harmless, the grant script is atomic.)
-- Key: the schedule (sorted set: eventId -> when it next needs a pass); `most` events are
-- taken, each leased for `lease_ms`.
-- Returns {now, oldest (the earliest time among those taken that was not a wake, or -1),
--          eventId, stamp, eventId, stamp, ...}: the stamps the caller's reschedule.lua
--          compares.
local now = now_ms()
-- Unique enough per call: the microseconds of Redis's clock.
local micros = tonumber(redis.call('TIME')[2])
local taken = redis.call('ZRANGEBYSCORE', K.due, '-inf', now, 'WITHSCORES', 'LIMIT', 0,
  tonumber(A.most))
local reply, oldest = { now, -1 }, -1
local lease = now + tonumber(A.lease_ms)
for i = 1, #taken, 2 do
  local at = tonumber(taken[i + 1])
  -- Wakes are scores below 1 (due at once), not times.
  if at >= 1 and (oldest < 0 or at < oldest) then
    oldest = at
  end
  redis.call('ZADD', K.due, string.format('%d.%06d', lease, micros), taken[i])
  reply[#reply + 1] = taken[i]
  -- As Redis writes the score, which is how reschedule.lua reads it back.
  reply[#reply + 1] = redis.call('ZSCORE', K.due, taken[i])
end
reply[2] = oldest
return reply
