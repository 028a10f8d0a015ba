-- Gives an event its number, once: the number is part of its session ids. Every path that
-- writes an event's number into its meta asks here first, which takes the event off the
-- list of events whose entry is to be dropped (see lua/unregister.lua).
-- KEYS: the events registry, the events to drop (sorted set: eventId -> marked at), the
--       free numbers (set)
-- ARGV: eventId, largest number allowed, create ('1': number an unknown event; '0': only
--       look it up)
-- Returns the event's number, or false for an unknown event not created.
local events, closing, free = KEYS[1], KEYS[2], KEYS[3]
local n = redis.call('HGET', events, ARGV[1])
if n then
  redis.call('ZREM', closing, ARGV[1])
  return tonumber(n)
end
if ARGV[3] ~= '1' then
  return false
end
-- A number given back by a dropped event first: its old session ids find no session in the
-- new event (each id's tag is checked against the stored session).
n = redis.call('SPOP', free)
if not n then
  n = redis.call('HINCRBY', events, '#', 1)
  if n > tonumber(ARGV[2]) then
    redis.call('HINCRBY', events, '#', -1)
    return redis.error_reply('EVENTSFULL every event number is taken')
  end
end
redis.call('HSET', events, ARGV[1], n, '#' .. n, ARGV[1])
return tonumber(n)
