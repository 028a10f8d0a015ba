-- What every waiting session of an event shares in its answer, for polls answered from a
-- process's memory (store/polls.rs): the meta fields view() reads, and the join numbers of
-- those ahead of the head who left, ascending (none and `over` = 1 when there are more
-- than `cap`: then every poll of the event reads Redis).
-- KEYS: meta, left
-- ARGV: cap
-- Returns {fields (as VIEW_FIELDS, nil where unset), left, over (1|0)}.
local meta, left = KEYS[1], KEYS[2]
local cap = tonumber(ARGV[1])
local m = redis.call('HMGET', meta, unpack(VIEW_FIELDS))
local gone = redis.call('ZRANGEBYSCORE', left, '(' .. (m[1] or '0'), '+inf', 'LIMIT', 0, cap + 1)
if #gone > cap then
  return { m, {}, 1 }
end
return { m, gone, 0 }
