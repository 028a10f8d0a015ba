-- One granter pass over one event, as a single atomic step:
--   1. expire ACTIVE sessions whose time is up, freeing their slots;
--   2. while the event has a free slot (capacity - active, within its admission rate)
--      and is not paused, admit first those who came back within their grace (`back`),
--      then read the next joins with XREADGROUP, admit each waiting session (skip those
--      that left or stopped polling) and XACK the entry.
-- The grace (README, "Your turn, in the background"): a session skipped for not polling
-- keeps the end of its grace (`grace_ms` after the skip: the meta's, else the caller's) in
-- its record; polled again before then, it comes back (status.lua) and is admitted here
-- at the next free slot, ahead of the line and of any draw. Skipped again, it has none.
-- Read, grant and ack happen inside one script, so no entry is ever left pending: a
-- granter that dies mid-pass dies before or after the script, never inside it. That is
-- why there is no XAUTOCLAIM recovery: the pending list of the group is always empty.
-- Scripts are serialised by Redis, so capacity and order hold across server instances.
--
-- An event configured before its first join has no stream (and no group) yet: it has
-- nothing to read.
-- A fair start (README): before the event's opening (`opens_at`) nobody is admitted; at
-- the opening everyone waiting is drawn into a random order and admitted in that order,
-- ahead of later joins, which the stream then gives in FIFO order. With queueing
-- 'random', every used-up draw is followed by a draw of everyone waiting then. A draw is
-- made once: the script is atomic, and it records the draw. Its order is computed by the
-- granter outside Redis (src/draw.rs) and written beside it (`draw_entry` in
-- common.lua); until it is (`draw_ready`), nobody of the draw is admitted, and this pass
-- asks for it (`place`, handed to one process at a time for PLACE_LEASE_MS).
-- The console's figures (README, "The operator's console"): while an event an operator
-- configured has work, a pass records a sample of its line every sampleMs (and one as it
-- goes quiet) in the series stream, which keeps historyMs of them.
-- The schedule (README, "Architecture"): the pass reports when the event next needs a
-- pass (`due`: the next expiry, rate window, opening, purge, revocation to forget,
-- placement retry, or for an event an operator configured the next sample; -1 when
-- nothing is due), and keeps it in the meta (`due`) with `blocked` ('1' when people wait
-- whom no pass could admit before something changes): join.lua reads both to decide
-- whether a join needs a pass at once.
-- Contract (src/store/scripts.rs, Grant): `seed` is 64 hex digits fresh from the caller,
-- used only if this pass draws; `unconfigured_retention_ms` caps the retention of an event
-- nobody configured.
-- Returns name/value pairs: granted, expired, abandoned, more (1 if a batch ran out),
-- due, waiting, active, idle (1|0, or 2: idle, and its keys deleted: see unconfigured),
-- and `place` {round, seed, lo, n} when this caller is to write a draw's order.
-- Idle: nobody waiting, nobody active, no ended session left to purge, no revocation left
-- to expire, no order to write. An idle event's last joins leave its stream here, at
-- once, being older than the retention.
local PLACE_LEASE_MS = 10000
local now = now_ms()
local session_ms, abandon_ms = tonumber(A.session_ms), tonumber(A.abandon_ms)
local batch, retention_ms = tonumber(A.batch), tonumber(A.retention_ms)
local stream, meta, sessions, users, active, left, done, revoked, draws, series =
  K.stream, K.meta, K.sessions, K.users, K.active, K.left, K.done, K.revoked, K.draws, K.series
local orders, ranks, leftlog, back, moved, movelog = K.orders, K.ranks, K.leftlog, K.back,
  K.moved, K.movelog
local sample_ms, history_ms = tonumber(A.sample_ms), tonumber(A.history_ms)
-- The number the event was registered under wins over the caller's (which may be stale).
local fresh_seed, event_hex = A.seed, redis.call('HGET', meta, 'number') or A.event_number

-- Ends the ACTIVE sessions whose time is up (at most a batch), freeing their slots;
-- returns how many.
local function expire_ended()
  local count = 0
  for _, sid in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now, 'LIMIT', 0, batch)) do
    redis.call('ZREM', active, sid)
    local q, tag = parse_session_id(sid)
    local s = q and load(sessions, q, tag)
    if s and s.st == 'A' then
      finish(sessions, users, done, s, 'E', now)
      count = count + 1
    end
  end
  return count
end

local expired = expire_ended()

-- Per-event settings (admin API): capacity, paused, and an optional admission rate
-- (most new ACTIVE sessions per minute, counted in fixed one-minute windows).
local cfg = redis.call('HMGET', meta, 'capacity', 'paused', 'rate_per_min', 'win_start', 'win_n',
  'opens_at', 'queueing', 'draw_round', 'draw_seed', 'draw_lo', 'draw_n', 'draw_next', 'seq',
  'admitted', 'sampled_at', 'draw_ready', 'placing_until', 'target', 'message', 'configured',
  'session_ms', 'state', 'ends_at', 'grace_ms', 'qids', 'trim_id', 'trim_at')
local capacity = tonumber(cfg[1]) or tonumber(A.default_capacity)
local free = capacity - redis.call('ZCARD', active)
local rate_per_min, win_start, win_n = tonumber(cfg[3]), tonumber(cfg[4]) or 0, tonumber(cfg[5]) or 0
if rate_per_min then
  if now - win_start >= 60000 then
    win_start, win_n = now, 0
  end
  free = math.min(free, rate_per_min - win_n)
end
local granted, abandoned, read, more, last_id = 0, 0, 0, 0, nil
-- `head` is the join number of the last entry passed. It follows the sessions' own
-- numbers, so an entry delivered twice (a replayed XADD) does not move it.
local head = tonumber(redis.call('HGET', meta, 'head') or '0')

-- No stream yet: configured, never joined.
if redis.call('EXISTS', stream) == 0 then
  free = 0
end

-- Sessions who left while waiting are rare: skip their bookkeeping when there are none.
local any_left = redis.call('EXISTS', left) == 1
-- So are places moved to another device (move.lua).
local any_moved = redis.call('EXISTS', moved) == 1

-- True when `tag` is one that session q had before its place moved to another device.
local function moved_from(q, tag)
  local before = redis.call('HGET', moved, q)
  return before ~= false and string.find(' ' .. before .. ' ', ' ' .. tag .. ' ', 1, true) ~= nil
end

local opens_at = tonumber(cfg[6])
local queueing = queueing_of(cfg[7], opens_at)
local round, seed = tonumber(cfg[8]) or 0, cfg[9]
local lo, n, next = tonumber(cfg[10]) or 0, tonumber(cfg[11]) or 0, tonumber(cfg[12]) or 0
local seq = tonumber(cfg[13]) or 0
local ready = n == 0 or tonumber(cfg[16]) == round
local placing_until = tonumber(cfg[17]) or 0
local opened = not opens_at or now >= opens_at
local paused = cfg[2] == '1'
local configured = cfg[1] or cfg[2] or cfg[3] or cfg[6] or cfg[7] or cfg[18] or cfg[19] or cfg[20]
  or cfg[21] or cfg[22] or cfg[23] or cfg[24]
-- The event's own session length and grace, if it has them.
session_ms = tonumber(cfg[21]) or session_ms
local grace_ms = tonumber(cfg[24]) or tonumber(A.grace_ms)
-- A sale that is over (README, "A sale that has a state") admits nobody: its line is
-- closed, a batch at a time (CLOSED); a suspended one admits nobody and keeps its line.
local closing = closed_reason(cfg[22], cfg[23], now) ~= nil
local suspended = cfg[22] == 'suspended'
local closed_count = 0
if not configured then
  -- A made-up event's leftovers last a bounded time, whatever the retention.
  retention_ms = math.min(retention_ms, tonumber(A.unconfigured_retention_ms))
end
if not opened or suspended then
  free = 0
end
if closing then
  -- Everyone left in line is closed, however many slots are free; nobody is admitted.
  free = redis.call('EXISTS', stream) == 1 and math.huge or 0
end

-- Forgets those who left while waiting, once passed (both of their records).
local function forget_left(...)
  redis.call('ZREM', left, ...)
  redis.call('ZREM', leftlog, ...)
end

-- A line numbered by joins (see common.lua): its waiting sessions may have no record.
local qids = cfg[25] == '1'

-- The turn of waiting session q (its packed record `rec`, ending with `tag`): skipped as
-- abandoned if it stopped polling (written here, with the end of its grace when `grace`),
-- else granted. Returns the end of its slot (nil if abandoned) and its new record; the
-- caller writes a granted one (and `user`, the user of a session with no record yet,
-- read from its entry).
local function take_turn(q, rec, tag, grace, user)
  local seen = string.match(rec, '^%u|(%d+)|')
  local function session()
    local s = unpack_record(q, rec, user)
    s.implied = user ~= nil
    load_user(sessions, s)
    return s
  end
  if closing then
    local s = session()
    finish(sessions, users, done, s, 'C', now)
    closed_count = closed_count + 1
    return nil, pack(s)
  end
  if now - tonumber(seen) > abandon_ms then
    local s = session()
    s.until_ms = (grace and grace_ms > 0) and now + grace_ms or 0
    finish(sessions, users, done, s, 'B', now)
    abandoned = abandoned + 1
    return nil, pack(s)
  end
  local until_ms = now + session_ms
  free = free - 1
  granted = granted + 1
  -- Once admitted, `seen` is the time of the admission (a pass's `iat`, and the start of
  -- the event's longest session).
  return until_ms, 'A|' .. string.format('%d', now) .. '|' .. string.format('%d', until_ms) .. '|' .. tag
end

-- The turn of session q when the granter reaches it outside the stream (in a draw's order,
-- or back within its grace): taken if its record still has the status letter `letter`
-- (its byte), and written when granted. `grace` as for take_turn.
local function turn_of(q, letter, grace)
  local key, f = bucket(sessions, q)
  local rec, user = redis.call('HGET', key, f), nil
  if not rec and qids and letter == 87 then
    local s = implied(stream, q)
    if s then
      rec, user = pack(s), s.user
    end
  end
  if rec and string.byte(rec, 1) == letter then
    local tag = string.sub(rec, -17)
    local until_ms, granted_rec = take_turn(q, rec, tag, grace, user)
    if until_ms then
      if user then
        redis.call('HSET', key, f, granted_rec, 'u' .. f, user)
      else
        redis.call('HSET', key, f, granted_rec)
      end
      redis.call('ZADD', active, until_ms, session_id(event_hex, q, tag))
    end
  end
end

-- Admits those who came back within their grace, in the order they came back, ahead of
-- everyone else (closes them when the sale is over; skips for good one who stopped
-- polling again), while there are free slots.
local function admit_returned()
  while free > 0 and (closing or not paused) and redis.call('EXISTS', back) == 1 do
    if read >= batch then
      more = 1
      return
    end
    local qs = redis.call('ZRANGE', back, 0, math.min(free, batch - read, 1000) - 1)
    redis.call('HINCRBY', meta, 'back_n', -redis.call('ZREM', back, unpack(qs)))
    read = read + #qs
    for _, v in ipairs(qs) do
      turn_of(tonumber(v), 82, false) -- 82 = 'R'
    end
  end
end

-- Whether everyone waiting is to be drawn now: at the opening of a drawn event, and for
-- 'random' whenever the last draw is used up and a slot is free.
local function due_for_draw()
  if closing or not opened or next < n or seq <= head then
    return false
  end
  -- 'random' draws when a slot is free: among everyone waiting at that moment.
  return (queueing == 'draw-at-open' and round == 0 and opens_at ~= nil)
    or (queueing == 'random' and free > 0 and not paused)
end

-- Draws joins head+1..seq: records the draw (published by the draws hash) and moves the
-- group past their stream entries, which stay as the record of arrival. Its order is
-- written by the granter (see the header). Those of the draw who left are skipped when
-- reached: their records say so, and positions behind the draw start from the new head.
local function draw()
  round, seed, lo, n, next = round + 1, fresh_seed, head, seq - head, 0
  head, ready, placing_until = seq, false, 0
  redis.call('HSET', meta, 'draw_round', round, 'draw_seed', seed, 'draw_lo', lo, 'draw_n', n,
    'draw_next', 0, 'head', head)
  redis.call('HDEL', meta, 'draw_ready', 'placing_until')
  redis.call('HSET', draws, round, seed .. '|' .. lo .. '|' .. n .. '|' .. now)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if last[1] then
    redis.call('XGROUP', 'SETID', stream, GROUP, last[1][1])
    if not qids then
      local last_ms = tonumber(string.match(last[1][1], '^(%d+)'))
      redis.call('XTRIM', stream, 'MINID', '~', math.min(last_ms, now - retention_ms))
    end
  end
  if any_left then
    local gone = redis.call('ZRANGEBYSCORE', left, '-inf', head)
    for i = 1, #gone, 1000 do
      forget_left(unpack(gone, i, math.min(i + 999, #gone)))
    end
  end
end

-- Admits the next people of the draw, in its order (skipping those who left; abandoning
-- those who stopped polling), while there are free slots; the order a chunk at a time.
local function admit_drawn()
  while ready and free > 0 and (closing or not paused) and next < n do
    if read >= batch then
      more = 1
      return
    end
    local k = math.min(free, batch - read, n - next, 1000)
    local chunk = redis.call('GETRANGE', orders .. round, 4 * next, 4 * (next + k) - 1)
    local pos = 1
    for _ = 1, k do
      if free <= 0 then
        break
      end
      local offset
      offset, pos = struct.unpack('>I4', chunk, pos)
      next, read = next + 1, read + 1
      turn_of(lo + 1 + offset, 87, true) -- 87 = 'W'
    end
    if next >= n then
      -- Used up: its order is no longer needed.
      redis.call('DEL', orders .. round, ranks .. round)
    end
  end
end

-- Admits the next joins in FIFO order while there are free slots (and no draw to work
-- through first). Entries are handled a chunk at a time (one XREADGROUP), with one call
-- per chunk for reading the records, writing them, adding to `active` and acknowledging.
local function admit_from_stream()
  while free > 0 and (closing or not paused) and next >= n and (closing or queueing ~= 'random') do
    if read >= batch then
      more = 1
      break
    end
    local res = redis.call('XREADGROUP', 'GROUP', GROUP, 'vestibule',
      'COUNT', math.min(free, batch - read, 1000), 'STREAMS', stream, '>')
    if not res then
      break
    end
    local entries = res[1][2]
    read = read + #entries
    last_id = entries[#entries][1]
    -- The chunk's records (without user ids, which only an abandonment needs), read with
    -- one HMGET per bucket: joins in a row share buckets.
    local ids, sids, qs, tags, entry_users = {}, {}, {}, {}, {}
    local fields, order = {}, {}
    for n, entry in ipairs(entries) do
      ids[n] = entry[1]
      local f = entry[2]
      for i = 1, #f, 2 do
        if f[i] == 'sessionId' then
          sids[n] = f[i + 1]
        elseif f[i] == 'userId' then
          entry_users[n] = f[i + 1]
        end
      end
      local q, tag = parse_session_id(sids[n])
      if q then
        qs[n], tags[n] = q, tag
        group_by_bucket(fields, order, q, q % BUCKET)
      end
    end
    -- Records stay packed strings: a grant only reads the status letter, the heartbeat and
    -- the tag, and writes the record anew. An entry delivered twice in a chunk sees the
    -- record the first one wrote.
    local records = {}
    for _, b in ipairs(order) do
      local fs = fields[b]
      local r = redis.call('HMGET', sessions .. b, unpack(fs))
      for i, f in ipairs(fs) do
        if r[i] then
          records[b * BUCKET + f] = r[i]
        end
      end
    end
    local writes, worder, adds, passed = {}, {}, {}, {}
    for n = 1, #entries do
      local q = qs[n]
      local rec = q and records[q]
      -- No record: a waiting session that only its join wrote, if the entry's id is its
      -- number (see common.lua); its user is the entry's.
      local user = nil
      if q and not rec and entry_users[n] then
        local eq, ms = string.match(ids[n], '^(%d+)%-(%d+)$')
        if tonumber(eq) == q then
          rec, user = 'W|' .. ms .. '|0|' .. tags[n], entry_users[n]
        end
      end
      -- The record ends with the tag of the id the entry carries, or it is not this session,
      -- unless its place moved since: then it is, under its new id.
      if rec and string.sub(rec, -17) ~= tags[n] then
        if any_moved and moved_from(q, tags[n]) then
          tags[n] = string.sub(rec, -17)
          sids[n] = session_id(event_hex, q, tags[n])
        else
          rec = nil
        end
      end
      -- An entry that is no join (added by hand) moves nothing.
      if q then
        head = math.max(head, q)
      end
      if q and (any_left or any_moved) then
        passed[#passed + 1] = q
      end
      if rec and string.byte(rec, 1) == 87 then -- 87 = 'W'
        local until_ms, new_rec = take_turn(q, rec, tags[n], true, user)
        -- An entry delivered twice in a chunk sees the record the first one wrote.
        records[q] = new_rec
        if until_ms then
          group_by_bucket(writes, worder, q, q % BUCKET, new_rec)
          if user then
            group_by_bucket(writes, worder, q, 'u' .. (q % BUCKET), user)
          end
          adds[#adds + 1] = until_ms
          adds[#adds + 1] = sids[n]
        end
      end
    end
    if #passed > 0 then
      if any_left then
        forget_left(unpack(passed))
      end
      if any_moved then
        redis.call('ZREM', movelog, unpack(passed))
      end
    end
    for _, b in ipairs(worder) do
      redis.call('HSET', sessions .. b, unpack(writes[b]))
    end
    if #adds > 0 then
      redis.call('ZADD', active, unpack(adds))
    end
    redis.call('XACK', stream, GROUP, unpack(ids))
  end
end

-- The last join passed in a line numbered by joins: `head`, or a draw's `lo` while the
-- draw is being admitted (its people wait in its order, not the stream's). Entries after
-- it may be the only records of their sessions.
local function passed_join()
  return next < n and lo or head
end

-- Trims a line numbered by joins (see common.lua): its entries are kept for the retention
-- as history once passed, and never before (while their sessions wait they are their
-- records). A mark (`trim_id`, `trim_at`) notes the first entry not passed when it was
-- set, and the entries before it go at `trim_at`, a retention later: each is kept between
-- one and two retentions after its pass (or until the event is idle). The mark is the
-- entry after the last join passed, or, outside a draw, the last entry this pass read when
-- its id is a time (an entry added by hand made the line's later joins take time ids:
-- every entry before it was read, and has a record).
local function trim_passed()
  local mark, mark_at = cfg[26], tonumber(cfg[27])
  if mark_at and now >= mark_at then
    redis.call('XTRIM', stream, 'MINID', mark)
    mark_at = nil
  end
  if not mark_at then
    local bound = (passed_join() + 1) .. '-0'
    if next >= n and last_id and tonumber(string.match(last_id, '^(%d+)')) >= 2 ^ 36 then
      bound = last_id
    end
    if bound ~= mark then
      redis.call('HSET', meta, 'trim_id', bound, 'trim_at', now + retention_ms)
    elseif mark then
      redis.call('HDEL', meta, 'trim_id', 'trim_at')
    end
  end
end

-- Writes what the pass moved: the granter's head, the stream's trim, the rate window, the
-- admitted count and the decayed admission rate. Returns everyone admitted so far.
local function record_progress()
  if last_id then
    redis.call('HSET', meta, 'head', head)
    if not qids then
      -- Entries before the last one read are all processed; keep them for the retention
      -- period as history, then trim.
      local last_ms = tonumber(string.match(last_id, '^(%d+)'))
      redis.call('XTRIM', stream, 'MINID', '~', math.min(last_ms, now - retention_ms))
    end
  end
  if qids then
    trim_passed()
  end
  if rate_per_min then
    redis.call('HSET', meta, 'win_start', win_start, 'win_n', win_n + granted)
  end
  -- Everyone ever admitted: the console's admissions per minute are its differences.
  local admitted = tonumber(cfg[14]) or 0
  if granted > 0 then
    admitted = redis.call('HINCRBY', meta, 'admitted', granted)
    local r = redis.call('HMGET', meta, 'rate', 'rate_ts')
    local rate = (tonumber(r[1]) or 0) * math.exp(-(now - (tonumber(r[2]) or now)) / 60000)
    redis.call('HSET', meta, 'rate', tostring(rate + granted), 'rate_ts', now)
  end
  return admitted
end

-- Forgets what is past keeping: revocations of expired passes, and ended sessions older
-- than the retention (at most a batch).
local function purge()
  -- Revocations outlive no pass.
  redis.call('ZREMRANGEBYSCORE', revoked, '-inf', now)

  local ended = redis.call('ZRANGEBYSCORE', done, '-inf', now - retention_ms, 'LIMIT', 0, batch)
  for _, q in ipairs(ended) do
    local key, field = bucket(sessions, tonumber(q))
    -- In a line numbered by joins, a record outlives its session's entry, or the entry
    -- would read as a session waiting (see common.lua): the entry of a passed join goes
    -- with it; one not passed yet (it left while waiting) keeps its record, and is
    -- forgotten a retention after its join is passed.
    local keep = false
    if qids then
      if tonumber(q) > passed_join() then
        keep = true
        redis.call('ZADD', done, now, q)
      else
        local e = redis.call('XRANGE', stream, q, q, 'COUNT', 1)[1]
        if e then
          redis.call('XDEL', stream, e[1])
        end
      end
    end
    local before = not keep and any_moved and redis.call('HGET', moved, q)
    if not keep then
      redis.call('HDEL', key, field, 'u' .. field)
      redis.call('ZREM', done, q)
    end
    if before then
      for tag in string.gmatch(before, '%S+') do
        redis.call('HDEL', moved, tag)
      end
      redis.call('HDEL', moved, q)
      redis.call('ZREM', movelog, q)
    end
  end
  if #ended >= batch then
    more = 1
  end
end

-- The earliest score of a sorted set, or nil when it is empty.
local function first_score(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return first[2] and tonumber(first[2])
end

-- What the pass leaves: the line's size, when the event is next due, whether it is idle,
-- and, for a draw whose order is not written, who writes it.
local function report()
  local waiting = seq - head + (n - next) + redis.call('ZCARD', back)
  local active_now = redis.call('ZCARD', active)
  local due
  local function soon(at)
    if at and (not due or at < due) then
      due = at
    end
  end
  if more == 1 then
    soon(now)
  end
  soon(first_score(active))
  if rate_per_min and waiting > 0 then
    soon(win_start + 60000)
  end
  if not opened and waiting > 0 then
    soon(opens_at)
  end
  -- People waiting when the sale ends have their line closed then.
  if not closing and cfg[23] and waiting > 0 then
    soon(tonumber(cfg[23]))
  end
  local oldest_done = first_score(done)
  soon(oldest_done and oldest_done + retention_ms)
  soon(first_score(revoked))
  local place
  if not ready then
    if placing_until <= now then
      placing_until = now + PLACE_LEASE_MS
      redis.call('HSET', meta, 'placing_until', placing_until)
      place = { round, seed, lo, n }
    end
    soon(placing_until)
  end
  local idle = waiting <= 0 and active_now == 0 and not due and ready
  if configured and not idle then
    soon((tonumber(cfg[15]) or 0) + sample_ms)
  end
  return waiting, active_now, due, idle, place
end

-- An event no operator configured (made by its first join, in the open mode) that is
-- idle: every session it had ended and was purged after the retention. Every key of it
-- goes, stream, group and console samples included (20,000 ended events' samples, an hour
-- each, would keep Redis busy expiring them); the registry keeps its name and number, and
-- its next join starts it anew (a new meta and epoch: see store/registry.rs).
-- Marks the event quiet or busy (`due`, `blocked`: see the header) and takes the
-- console's sample when due. Returns 0, 1 (idle) or 2 (idle and deleted).
local function settle(waiting, active_now, due, idle, admitted)
  local went_quiet = false
  if idle then
    went_quiet = redis.call('HDEL', meta, 'due', 'blocked') > 0
    if redis.call('EXISTS', stream) == 1 then
      redis.call('XTRIM', stream, 'MINID', now - retention_ms)
    end
  else
    if due then
      redis.call('HSET', meta, 'due', due)
    else
      redis.call('HDEL', meta, 'due')
    end
    if waiting > 0 and more == 0 then
      redis.call('HSET', meta, 'blocked', 1)
    else
      redis.call('HDEL', meta, 'blocked')
    end
  end
  local gone = idle and not configured
  -- A sample of the line for the console: waiting, active, capacity, admitted so far. The
  -- samples of a quiet event go with its last hour (the key expires). Only events an
  -- operator configured are sampled: a stream costs Redis some 5 KB, more than everything
  -- else a made-up event holds.
  if configured and (went_quiet or (not idle and now - (tonumber(cfg[15]) or 0) >= sample_ms)) then
    redis.call('XADD', series, 'MINID', '~', now - history_ms, '*',
      'w', math.max(waiting, 0), 'a', active_now, 'c', capacity, 'g', admitted)
    redis.call('PEXPIRE', series, history_ms)
    redis.call('HSET', meta, 'sampled_at', now)
  end
  if gone then
    redis.call('DEL', meta, stream, draws, left, leftlog, done, revoked, active, series, back,
      moved, movelog, orders .. round, ranks .. round)
    return 2
  end
  return idle and 1 or 0
end

-- The pass: expiries are done (above); those who came back within their grace, a draw
-- when one is due, the people of the draw, then the stream in FIFO order; what moved is
-- written, then the purge, the report, and the event marked quiet or busy.
admit_returned()
if due_for_draw() then
  draw()
end
admit_drawn()
while queueing == 'random' and ready and free > 0 and not paused and more == 0
  and due_for_draw() do
  draw()
end
if n > 0 then
  redis.call('HSET', meta, 'draw_next', next)
end
admit_from_stream()
local admitted = record_progress()
purge()
local waiting, active_now, due, idle, place = report()
local idle_mark = settle(waiting, active_now, due, idle, admitted)
local reply = { 'granted', granted, 'expired', expired, 'abandoned', abandoned,
  'closed', closed_count, 'more', more,
  'due', due or -1, 'waiting', waiting, 'active', active_now, 'idle', idle_mark }
if place then
  reply[#reply + 1] = 'place'
  reply[#reply + 1] = place
end
return reply
