-- Drops the registry entry of an event whose keys were deleted (an event nobody configured,
-- idle past the retention: see `unconfigured` in grant.lua), and gives its number back.
-- The caller marked the event at least `grace` ms ago, right after the pass that deleted its
-- keys, and has just seen its meta still without a number. Anything that writes the number
-- back (a join, an operator) asks register.lua first, which takes the mark away; one that
-- asked before the mark wrote the number within a request's deadline, shorter than `grace`,
-- so the caller saw it. So the entry goes only if the mark is still there and old enough.
-- Keys: the events registry, the events to drop, the free numbers; `marked_before`: the
-- mark's latest time (ms).
-- Returns the number given back, or false if the entry stays.
local events, closing, free = K.events, K.closing, K.free
local marked = tonumber(redis.call('ZSCORE', closing, A.event))
if not marked or marked > tonumber(A.marked_before) then
  return false
end
redis.call('ZREM', closing, A.event)
local n = redis.call('HGET', events, A.event)
if not n then
  return false
end
redis.call('HDEL', events, A.event, '#' .. n)
redis.call('SADD', free, n)
return tonumber(n)
