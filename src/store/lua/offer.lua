-- An offer to move waiting session q (tag `A.tag`) to another device (README, "Take your
-- place with you"; spent by move.lua): `offer` becomes "token|tag|expires", expiring
-- `A.offer_ms` from now on the scripts' clock (its key a minute later), replacing any
-- earlier offer of the place. Only for a place that is waiting (W, or R: back within its
-- grace) under this tag. Returns 1, or 0 when there is none (nothing written).
local stale = stale_number(K.meta, A.event_number)
if stale then
  return stale
end
local s = load(K.sessions, tonumber(A.q), A.tag, K.stream)
if not s or (s.st ~= 'W' and s.st ~= 'R') then
  return 0
end
local ms = tonumber(A.offer_ms)
redis.call('SET', K.offer, A.token .. '|' .. A.tag .. '|' .. (now_ms() + ms), 'PX', ms + 60000)
return 1
