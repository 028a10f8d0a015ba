-- Sets when each event of a pass next needs a pass, or takes it out of the granter's
-- schedule (nothing due), unless it was woken (or taken by another pass) since the caller
-- took it: its score is then no longer the stamp the caller holds, and stays as it is. With
-- no stamp (the sweep, which took nothing), an event is only brought forward (ZADD LT).
-- Key: the schedule. Items: UPDATE_ARGS (eventId, the stamp taken ('' for none), the next
-- time in ms, -1 for none).
-- Returns {now, the earliest time in the schedule (-1 when empty), then per event 1 if its
--          update was made (0: it was woken or taken meanwhile)}.
local due = K.due
local now = now_ms()
local reply = { now, -1 }
for i = 1, (#ARGV - A_FIXED) / #UPDATE_ARGS do
  local u = item(ARGV, A_FIXED, UPDATE_ARGS, i)
  local event, stamp, at = u.event, u.stamp, tonumber(u.at)
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
