-- Joins of one or more events' lines, written together (store/joins.rs), in order: each
-- is atomic and makes at most one live session per (event, user).
-- Contract (src/store/scripts.rs, Join): `events` (m) events, each with EVENT_KEYS
-- (stream, meta, sessions prefix, users prefix, left, ranks prefix, active, spent
-- challenges prefix, back) and EVENT_ARGS (its number, 6 hex digits, and its id); then the
-- joins, each with JOIN_ARGS: its event (1..m), tag ("TTTT-TTTTTTTTTTTT"), user, its
-- bucket (the caller's SHA-1 of it, store/keys.rs: Redis spends none per join), create
-- ('1': join; '0': only look up the user's live session; 's': join only if admitted at
-- once), deadline (unix ms on the script's clock; 0: none), nonce (of the solved challenge
-- that pays for it, README "Bots and accounts"; '': none) and nonce_ms (how long it is kept
-- once spent). `default_capacity` and `session_ms` are the room's defaults, for events
-- without their own.
-- Returns {now, states, tails, replies}: `states`, per distinct event of the call, its
-- state as the call left it (STATE_FIELDS by position, then what the call read besides;
-- none for a stale event); `tails`, per distinct
-- event, two numbers: `gone` (those who left ahead of the call's new waiting joins: the
-- same for all of them, as no join is admitted at once after one waits) and `wake` (1|0:
-- see below); `replies`, per join in order: for a new waiting join, only its number (an
-- integer: the rest of its place is known to the caller: its user, tag and event, `now`,
-- and its event's tail); for any other place, the session's part of its place (see
-- `put_session` in common.lua) with `ev` (its event's index in `states`), `created` (1|0),
-- `sid` and, for one admitted at once, `due` (the end of its slot); false when only
-- looking up and there is no live session; 'STALE' when the
-- event's meta does not carry the number given (see stale_number in common.lua: nothing
-- was written for it); 'LATE' when Redis runs it after its deadline (the caller has
-- answered "failed", or is about to: nothing was written, so a retry makes the place
-- anew); 'CLOSED:<reason>' when the sale is over (sold_out, closed, ended) and
-- 'SUSPENDED' while it is suspended (nothing written); 'LINEFULL' once the event has had
-- 2^36 joins; 'TOKEN' when the event takes only accounts vouched for by an enqueue token
-- (its meta's `entry` is 'token': README, "Bots and accounts") and the user is not one
-- (nothing written; only looking up is allowed); 'SPENT' when its nonce was spent before
-- (nothing written). A join's nonce is spent (`SET NX PX` in the event's slot) in the same
-- step as the join, unless the sale is over or suspended.
--
-- Standby (README, "Always on"): a join to an event with a free slot, nobody waiting (nor
-- come back within a grace), no draw to work through, open and not paused (nor
-- rate-limited) is admitted here, at once: the same atomic step as the join, so capacity
-- stays exact with any number of instances and the moment the event fills the next join
-- waits in line as usual. Its stream entry is written (the record of arrival) and the
-- group moved past it.
-- wake: a join that waits and may be admitted at once (its event is not `blocked`, and no
-- pass is due there already) asks the caller to put the event in the granter's schedule;
-- the meta's `due` says a pass is due now. A wake more than STALE_WAKE_MS old that no pass
-- answered (its process died between this script and the schedule) is made again.
--
-- What every join of an event shares is read once per call: the meta (one HMGET of the
-- state and what every join needs; the standby fields only when the line is empty) and
-- those who left ahead of the newest join; the join counter `seq` is counted here and
-- written once at the end.
local STALE_WAKE_MS = 2000
-- The user ids of accounts (src/entry.rs, ACCOUNT_PREFIX).
local ACCOUNT_PREFIX = 'account:'
local EXTRA_FIELDS = { 'number', 'seq', 'due', 'blocked', 'entry', 'qids' }
-- Read only for a standby admission (the line is empty).
local STANDBY_FIELDS = { 'capacity', 'paused', 'rate_per_min', 'win_start', 'win_n', 'session_ms',
  'admitted', 'rate', 'rate_ts' }
local JOIN_FIELDS = { unpack(STATE_FIELDS) }
for _, field in ipairs(EXTRA_FIELDS) do
  JOIN_FIELDS[#JOIN_FIELDS + 1] = field
end
local now = now_ms()
-- Its text, made once (see `int`).
local now_text = int(now)
local m = tonumber(A.events)
-- Where each extra field is in the HMGET's answer, and each key and argument in an
-- event's or a join's part of KEYS and ARGV (the contract's order): read by position,
-- with no table made per event or join for them.
local X = {}
for i, field in ipairs(EXTRA_FIELDS) do
  X[field] = #STATE_FIELDS + i
end
local KI, EK, EA = positions(EVENT_KEYS), #EVENT_KEYS, #EVENT_ARGS
local EI = positions(EVENT_ARGS)
local keys, argv = KEYS, ARGV
-- One entry per (meta, number), however often the batch names it: one count of `seq`, or
-- two joins would get one number. (Two numbers for one meta: at most one is not stale.)
local events, entries, distinct = {}, {}, {}
for e = 1, m do
  local kb, ab = (e - 1) * EK, A_FIXED + (e - 1) * EA
  local meta, hex = keys[kb + KI.meta], argv[ab + EI.number]
  local ev = entries[meta .. '|' .. hex]
  if not ev then
    local f = redis.call('HMGET', meta, unpack(JOIN_FIELDS))
    local seq, head = tonumber(f[X.seq]) or 0, tonumber(f[1]) or 0
    -- `e`: its index among the call's distinct events (its state is `states[e]`).
    ev = { stream = keys[kb + KI.stream], meta = meta, sessions = keys[kb + KI.sessions],
      users = keys[kb + KI.users], left = keys[kb + KI.left], ranks = keys[kb + KI.ranks],
      active = keys[kb + KI.active], pow = keys[kb + KI.pow], back = keys[kb + KI.back],
      hex = hex, id = argv[ab + EI.id], e = #distinct + 1, fields = f, stale = f[X.number] ~= hex,
      seq0 = seq, seq = seq, head0 = head, head = head, due = tonumber(f[X.due]),
      blocked = f[X.blocked] == '1', closed = closed_reason(f[14], f[15], now),
      suspended = f[14] == 'suspended', token = f[X.entry] == 'token', qids = f[X.qids] == '1' }
    distinct[ev.e] = ev
    entries[meta .. '|' .. hex] = ev
  end
  events[e] = ev
end

-- The standby fields of an event's meta by name (for a standby admission and its
-- counts), on first need.
local function extras(ev)
  if not ev.x then
    local f, x = redis.call('HMGET', ev.meta, unpack(STANDBY_FIELDS)), {}
    for i, field in ipairs(STANDBY_FIELDS) do
      x[field] = f[i]
    end
    ev.x = x
  end
  return ev.x
end

-- Those who left ahead of every new join, on first need.
local function gone(ev)
  if not ev.gone then
    ev.gone = redis.call('ZCOUNT', ev.left, '(' .. (ev.fields[1] or '0'), '+inf')
  end
  return ev.gone
end

-- Whether the event needs a pass for a new join (see the header); at most once a call.
local function wake(ev)
  if ev.blocked or ev.woken then
    return 0
  end
  ev.woken = true
  if ev.due and ev.due <= now and ev.due > now - STALE_WAKE_MS then
    return 0
  end
  redis.call('HSET', ev.meta, 'due', now)
  ev.woke = 1
  return 1
end

-- Whether a new join is admitted at once (standby: see the header), and if so its slot's
-- end. Counts the slot (the event's active set is read once a call).
local function standby(ev)
  local f = ev.fields
  if ev.seq ~= ev.head or ev.suspended or ev.closed then
    return nil
  end
  local x = extras(ev)
  if x.paused == '1' then
    return nil
  end
  local opens_at = tonumber(f[5])
  if opens_at and now < opens_at then
    return nil
  end
  -- A draw not worked through yet (or whose order is not written): its people come first.
  if (tonumber(f[10]) or 0) > (tonumber(f[11]) or 0) then
    return nil
  end
  if not ev.active_n then
    ev.active_n = redis.call('ZCARD', ev.active)
    ev.admitted_n = 0
  end
  -- Those who came back within their grace go first.
  if (tonumber(f[18]) or 0) > 0 then
    return nil
  end
  local capacity = tonumber(x.capacity) or tonumber(A.default_capacity)
  if ev.active_n >= capacity then
    return nil
  end
  local rate_per_min = tonumber(x.rate_per_min)
  if rate_per_min then
    local win_start, win_n = tonumber(x.win_start) or 0, tonumber(x.win_n) or 0
    if now - win_start >= 60000 then
      win_start, win_n = now, 0
    end
    if win_n >= rate_per_min then
      return nil
    end
    x.win_start, x.win_n, ev.windowed = win_start, win_n + 1, true
  end
  ev.active_n = ev.active_n + 1
  ev.admitted_n = ev.admitted_n + 1
  return now + (tonumber(x.session_ms) or tonumber(A.session_ms))
end

-- A join's reply: its event's index in `states` and the session's part of its place.
local function answer(ev, s, gone)
  local reply = { 'ev', ev.e }
  put_session(reply, ev, s, ev.fields, gone)
  return reply
end

-- Appends join q (`q_text`, its text) to the event's stream; returns the entry's id. In a
-- line numbered by joins (see common.lua) the id is "<q>-<now>"; one whose last id is above
-- that (a line made before, or an entry added by hand) takes a time as before, and the join
-- writes its record. The group reads from the very first entry; creating it with the
-- stream means no join can ever be added before the group exists, and a new stream is
-- numbered by joins.
local function append(ev, q_text, sid, user)
  local qid = q_text .. '-' .. now_text
  if ev.qids then
    local id = redis.pcall('XADD', ev.stream, 'NOMKSTREAM', qid, 'sessionId', sid, 'eventId', ev.id,
      'userId', user)
    if type(id) == 'string' then
      return id, true
    end
    if id then
      -- Refused: the stream's last id is above join q's.
      return redis.call('XADD', ev.stream, '*', 'sessionId', sid, 'eventId', ev.id, 'userId', user),
        false
    end
  else
    local id = redis.call('XADD', ev.stream, 'NOMKSTREAM', '*', 'sessionId', sid, 'eventId', ev.id,
      'userId', user)
    if id then
      return id, false
    end
  end
  redis.call('XGROUP', 'CREATE', ev.stream, GROUP, '0', 'MKSTREAM')
  if not ev.qids then
    redis.call('HSET', ev.meta, 'qids', '1')
    ev.qids = true
  end
  return redis.call('XADD', ev.stream, qid, 'sessionId', sid, 'eventId', ev.id, 'userId', user), true
end

local function join(ev, tag, user, bucket, create_place, deadline, nonce, nonce_ms)
  if ev.stale then
    return 'STALE'
  end
  if deadline > 0 and now > deadline then
    return 'LATE'
  end
  if ev.token and create_place ~= '0' and string.sub(user, 1, #ACCOUNT_PREFIX) ~= ACCOUNT_PREFIX then
    -- Standby's join ('s') is only ever a visitor's: the page, which asks for a token.
    if create_place == 's' then
      return false
    end
    return 'TOKEN'
  end
  if nonce ~= '' and create_place ~= '0' and not ev.closed and not ev.suspended then
    if not redis.call('SET', ev.pow .. nonce, '1', 'NX', 'PX', nonce_ms) then
      return 'SPENT'
    end
  end
  local ub = ev.users .. bucket
  -- A join that makes a place unless the user has one (create '1', the sale open, a number
  -- left) claims the user's entry for its number in the same step as the look-up: one
  -- HSETNX for the common case, a user's first join. Nothing below returns before that
  -- place is made. Otherwise, and when the user has an entry, it is read.
  -- `q_text`: the text of the number it claims (made once).
  local claimed, existing, q_text = false, nil, nil
  if create_place == '1' and not ev.closed and not ev.suspended and ev.seq + 1 < 2 ^ 36 then
    q_text = int(ev.seq + 1)
    claimed = redis.call('HSETNX', ub, user, q_text) == 1
  end
  if not claimed then
    existing = tonumber(redis.call('HGET', ub, user))
  end
  if existing then
    local s = load(ev.sessions, existing, nil, ev.stream)
    if s and (s.st == 'W' or s.st == 'R' or (s.st == 'A' and s.until_ms > now)) then
      if s.st ~= 'A' then
        s.seen = now
        save(ev.sessions, s)
      end
      local reply = answer(ev, s)
      put(reply, 'created', 0)
      put(reply, 'sid', session_id(ev.hex, s.q, s.tag))
      return reply
    end
  end
  if create_place == '0' then
    return false
  end
  if ev.closed then
    return 'CLOSED:' .. ev.closed
  end
  if ev.suspended then
    return 'SUSPENDED'
  end
  -- The join number and the stream entry are written together, so stream order is
  -- join order and `head` (entries granted so far) can be compared with `seq`.
  if ev.seq + 1 >= 2 ^ 36 then
    return 'LINEFULL'
  end
  local until_ms = standby(ev)
  if create_place == 's' and not until_ms then
    -- Only if admitted at once (the page of a visitor sent by the gate): nothing else.
    return false
  end
  ev.seq = ev.seq + 1
  local q = ev.seq
  q_text = q_text or int(q)
  if not claimed then
    redis.call('HSET', ub, user, q_text)
  end
  local sid = session_id(ev.hex, q, tag)
  local id, numbered = append(ev, q_text, sid, user)
  if not until_ms then
    -- A waiting session's record is its entry (see common.lua), unless the entry's id is
    -- not its number. Its answer: as put_session gives a waiting one behind every draw.
    if not numbered then
      create(ev.sessions, { st = 'W', q = q, seen = now, until_ms = 0, tag = tag, user = user })
    end
    gone(ev)
    wake(ev)
    return q
  end
  local s = { st = 'A', q = q, seen = now, until_ms = until_ms, tag = tag, user = user }
  create(ev.sessions, s)
  -- Admitted: the granter has nothing to read up to here.
  redis.call('XGROUP', 'SETID', ev.stream, GROUP, id)
  redis.call('ZADD', ev.active, until_ms, sid)
  -- Later joins of this call count their places from here (`head` in the view).
  ev.head, ev.fields[1], ev.gone = q, tostring(q), nil
  local reply = answer(ev, s)
  put(reply, 'due', until_ms)
  put(reply, 'created', 1)
  put(reply, 'sid', sid)
  return reply
end

local replies = {}
local offset, JA, JI = A_FIXED + m * EA, #JOIN_ARGS, positions(JOIN_ARGS)
for j = 1, (#ARGV - offset) / JA do
  local b = offset + (j - 1) * JA
  replies[j] = join(events[tonumber(argv[b + JI.event])], argv[b + JI.tag], argv[b + JI.user],
    argv[b + JI.bucket], argv[b + JI.create], tonumber(argv[b + JI.deadline]), argv[b + JI.nonce],
    argv[b + JI.nonce_ms])
end
for _, ev in pairs(entries) do
  if ev.seq ~= ev.seq0 then
    redis.call('HSET', ev.meta, 'seq', ev.seq)
  end
  if ev.head ~= ev.head0 then
    redis.call('HSET', ev.meta, 'head', ev.head)
  end
  if ev.admitted_n and ev.admitted_n > 0 then
    -- As the granter counts its admissions (grant.lua, record_progress).
    local x = ev.x
    redis.call('HINCRBY', ev.meta, 'admitted', ev.admitted_n)
    local rate = (tonumber(x.rate) or 0) * math.exp(-(now - (tonumber(x.rate_ts) or now)) / 60000)
    redis.call('HSET', ev.meta, 'rate', tostring(rate + ev.admitted_n), 'rate_ts', now)
    if ev.windowed then
      redis.call('HSET', ev.meta, 'win_start', x.win_start, 'win_n', x.win_n)
    end
  end
end
-- Each distinct event's state once (as the call left it: what every reply of it shares),
-- instead of once per join.
local states, tails = {}, {}
for e, ev in ipairs(distinct) do
  states[e] = ev.stale and {} or ev.fields
  tails[2 * e - 1], tails[2 * e] = ev.gone or 0, ev.woke or 0
end
return { now, states, tails, replies }
