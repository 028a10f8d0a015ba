-- Completes the writing of a draw's order (store/grant.rs wrote its two strings, see
-- draw_entry in common.lua): the draw `round` of the event is ready to admit from, and its
-- digest is published with it. A round that is no longer the event's current one (a
-- slow writer's), or whose draw is used up, has its strings deleted instead.
-- Returns 1 when the draw is ready (now or before), else 0.
local meta, orders, ranks, draws = K.meta, K.orders, K.ranks, K.draws
local round, n, digest = tonumber(A.round), tonumber(A.n), A.digest
local m = redis.call('HMGET', meta, 'draw_round', 'draw_n', 'draw_next', 'draw_ready')
local current, drawn, next = tonumber(m[1]), tonumber(m[2]) or 0, tonumber(m[3]) or 0
if current ~= round or drawn ~= n or next >= drawn then
  redis.call('DEL', orders .. round, ranks .. round)
  return 0
end
if tonumber(m[4]) == round then
  return 1
end
if redis.call('STRLEN', orders .. round) ~= 4 * n or redis.call('STRLEN', ranks .. round) ~= 4 * n then
  return 0
end
redis.call('HSET', meta, 'draw_ready', round)
redis.call('HDEL', meta, 'placing_until')
redis.call('HSETNX', draws, 'digest:' .. round, digest)
return 1
