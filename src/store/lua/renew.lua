-- Renews an ACTIVE session while its buyer keeps using the shop (README, "Sessions that
-- follow the buyer"): once less than half of its event's session length is left, its slot
-- is extended to a whole length from now, but never past its admission plus the event's
-- longest session (`session_cap_ms`), and not at all once the sale is over (its buyers
-- finish on the passes they hold) or for a pass given back.
-- Returns {now, until, since (its admission), length} (`until` unchanged when nothing was
-- renewed), or false when the session holds no slot.
local stale = stale_number(K.meta, string.sub(A.session_id, 1, 6))
if stale then
  return stale
end
local now = now_ms()
local s = load(K.sessions, tonumber(A.q), A.tag)
if not s or s.st ~= 'A' or s.until_ms <= now then
  return false
end
if redis.call('ZSCORE', K.revoked, A.session_id) then
  return false
end
local m = redis.call('HMGET', K.meta, 'session_ms', 'session_cap_ms', 'state', 'ends_at')
local length = tonumber(m[1]) or tonumber(A.session_ms)
-- Due from the pass's `rnw` on (the second in which half of the length is left, as
-- src/service/visitors.rs writes it): the door asks from then, and is answered.
local due_ms = math.floor((s.until_ms - math.floor(length / 2)) / 1000) * 1000
if now >= due_ms and not closed_reason(m[3], m[4], now) then
  local wanted = now + length
  local cap = tonumber(m[2])
  if cap then
    wanted = math.min(wanted, s.seen + cap)
  end
  if wanted > s.until_ms then
    s.until_ms = wanted
    save(K.sessions, s)
    redis.call('ZADD', K.active, wanted, A.session_id)
  end
end
return { 'now', now, 'until', s.until_ms, 'since', s.seen, 'length', length }
