-- Sets when each event of a pass next needs a pass, or takes it out of the granter's
-- schedule (nothing due), unless it was woken (or taken by another pass) since the caller
-- took it: its score is then no longer the stamp the caller holds, and stays as it is. With
-- no stamp (the sweep, which took nothing), an event is only brought forward (ZADD LT).
-- KEYS: the schedule
-- ARGV: per event: eventId, the stamp taken ('' for none), the next time (ms; -1: none)
-- Returns {now, the earliest time in the schedule (-1 when empty), then per event 1 if its
--          update was made (0: it was woken or taken meanwhile)}.
local due = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reply = { now, -1 }
for i = 1, #ARGV, 3 do
  local event, stamp, at = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local made = 1
  if stamp == '' then
    if at >= 0 then
      redis.call('ZADD', due, 'LT', at, event)
    end
  elseif redis.call('ZSCORE', due, event) == stamp then
    if at >= 0 then
      redis.call('ZADD', due, at, event)
    else
      redis.call('ZREM', due, event)
    end
  else
    made = 0
  end
  reply[#reply + 1] = made
end
local first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
if first[2] then
  reply[2] = math.floor(tonumber(first[2]))
end
return reply
