-- Shared by every script: prepended to each one by store/scripts.rs.
--
-- A session is one field of the event's `sessions` hash, its value packed as
-- "S|seq|seen|until|user": status letter (W waiting, A active, E expired, L left,
-- B abandoned), join number within the event, last heartbeat (unix ms), end of the
-- active period (unix ms, 0 while waiting) and the user id. One field instead of one
-- key per session keeps Redis memory per waiting session small.

-- Redis's clock, in ms: every instance's scripts share it, so expiry and admission order
-- do not depend on the clocks of the server hosts.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function pack(s)
  return string.format('%s|%d|%d|%d|%s', s.st, s.q, s.seen, s.untl, s.user)
end

local function unpack_record(rec)
  local st, q, seen, untl, user = string.match(rec, '^(%u)|(%d+)|(%d+)|(%d+)|(.*)$')
  return { st = st, q = tonumber(q), seen = tonumber(seen), untl = tonumber(untl), user = user }
end

local function load(sessions, sid)
  local rec = redis.call('HGET', sessions, sid)
  if not rec then
    return nil
  end
  return unpack_record(rec)
end

local function save(sessions, sid, s)
  redis.call('HSET', sessions, sid, pack(s))
end

-- Moves a session to a final status: frees the user for a new join and schedules the
-- record for purging after the retention period.
local function finish(sessions, users, done, sid, s, st, now)
  s.st = st
  save(sessions, sid, s)
  if redis.call('HGET', users, s.user) == sid then
    redis.call('HDEL', users, s.user)
  end
  redis.call('ZADD', done, now, sid)
end

-- What the owner of a session is told: {status, position, until, user, rate, rateTs}.
-- Position is the join number minus the granter's head, less those ahead who left:
-- O(log n) whatever the length of the line. Rate is the decayed admission count (about
-- the admissions of the last minute), returned as a string to keep its fraction.
local function view(meta, left, s, now)
  local st, pos = s.st, 0
  if st == 'A' and s.untl <= now then
    st = 'E'
  end
  local m = redis.call('HMGET', meta, 'head', 'rate', 'rate_ts')
  if st == 'W' then
    local head = tonumber(m[1] or '0')
    local gone = redis.call('ZCOUNT', left, '(' .. head, '(' .. s.q)
    pos = s.q - head - gone
  end
  return { st, pos, s.untl, s.user, m[2] or '0', m[3] or '0' }
end
