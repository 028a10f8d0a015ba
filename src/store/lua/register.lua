-- Gives an event its number, once: the number is part of its session ids. Every path that
-- writes an event's number into its meta asks here first, which takes the event off the
-- list of events whose entry is to be dropped (see lua/unregister.lua).
-- Keys: the events registry, the events to drop (sorted set: eventId -> marked at), the
-- free numbers (set). `create`: '1' numbers an unknown event, '0' only looks it up.
-- Returns the event's number, or false for an unknown event not created.
local events, closing, free = K.events, K.closing, K.free
local n = redis.call('HGET', events, A.event)
if n then
  redis.call('ZREM', closing, A.event)
  return tonumber(n)
end
if A.create ~= '1' then
  return false
end
-- A number given back by a dropped event first: its old session ids find no session in the
-- new event (each id's tag is checked against the stored session).
n = redis.call('SPOP', free)
if not n then
  n = redis.call('HINCRBY', events, '#', 1)
  if n > tonumber(A.max_number) then
    redis.call('HINCRBY', events, '#', -1)
    return redis.error_reply('EVENTSFULL every event number is taken')
  end
end
redis.call('HSET', events, A.event, n, '#' .. n, A.event)
return tonumber(n)
