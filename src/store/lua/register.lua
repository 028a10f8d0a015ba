-- Gives an event its number, once: the number is part of its session ids.
-- KEYS: the events registry
-- ARGV: eventId, largest number allowed
-- Returns the event's number.
local n = redis.call('HGET', KEYS[1], ARGV[1])
if n then
  return tonumber(n)
end
n = redis.call('HINCRBY', KEYS[1], '#', 1)
if n > tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[1], '#', -1)
  return redis.error_reply('EVENTSFULL every event number is taken')
end
redis.call('HSET', KEYS[1], ARGV[1], n, '#' .. n, ARGV[1])
return n
