-- Takes an event out of the events with work, unless it was woken since it was read.
-- KEYS: the events with work (sorted set: eventId -> stamp of its last wake)
-- ARGV: eventId, the stamp read
-- Returns 1 if taken out.
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
