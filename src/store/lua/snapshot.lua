-- What every waiting session of an event shares in its answer, for polls answered from a
-- process's memory (store/polls.rs): the event's state (STATE_FIELDS), and the people who
-- left while waiting since the process's last read (it keeps the rest, and forgets those
-- the granter passed): their count in `leftlog` is above `since`, at most `cap` of them a
-- call (the caller reads again for the rest). Also tells whether the event lost a wake
-- (people wait whom a pass could admit, yet no pass was due within STALE_WAKE_MS: the
-- process that woke it died between its join and the schedule), so that the caller wakes
-- it again. Likewise the places moved to another device (`movelog`, by the move's count
-- `moved_n`) since `moved_since`, at most `cap` of them: polls of those read Redis (an old
-- id of a moved place is answered MOVED there).
-- Returns name/value pairs: now, the state, left_n (leaves counted so far), leaves (join
-- number, count, join number, count, ... in the order they happened), wake (1|0),
-- moved_n (moves counted so far), moves (join number, count, ... in the order they
-- happened).
local STALE_WAKE_MS = 2000
local since, cap = tonumber(A.since), tonumber(A.cap)
local fields = { unpack(STATE_FIELDS) }
for _, field in ipairs({ 'left_n', 'seq', 'due', 'blocked', 'moved_n' }) do
  fields[#fields + 1] = field
end
local f = redis.call('HMGET', K.meta, unpack(fields))
local n = #STATE_FIELDS
local left_n = tonumber(f[n + 1]) or 0
local gone = {}
if left_n > since then
  gone = redis.call('ZRANGEBYSCORE', K.leftlog, '(' .. since, '+inf', 'WITHSCORES', 'LIMIT', 0, cap)
end
local now = now_ms()
local waiting = (tonumber(f[n + 2]) or 0) > (tonumber(f[1]) or 0)
local due = tonumber(f[n + 3])
local wake = 0
if waiting and f[n + 4] ~= '1' and (not due or due < now - STALE_WAKE_MS) then
  wake = 1
end
local reply = { 'now', now }
put_state(reply, f)
put(reply, 'left_n', left_n)
put(reply, 'leaves', gone)
put(reply, 'wake', wake)
local moved_n = tonumber(f[n + 5]) or 0
put(reply, 'moved_n', moved_n)
if moved_n > tonumber(A.moved_since) then
  put(reply, 'moves',
    redis.call('ZRANGEBYSCORE', K.movelog, '(' .. A.moved_since, '+inf', 'WITHSCORES', 'LIMIT', 0, cap))
end
return reply
