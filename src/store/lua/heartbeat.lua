-- The heartbeats of waiting sessions whose polls a process answered from memory
-- (store/polls.rs), written together: each session's `seen` becomes the time of its poll
-- (the script's clock less the poll's age, so the hosts' clocks do not matter). One HMGET
-- and at most one HSET per bucket of 64 sessions (and an XRANGE per session with no record
-- yet, whose first record this writes). Items: BEAT_ARGS (join number, tag, age
-- of its poll in ms).
-- Returns how many records were written: none if the event's epoch is not `epoch` (Redis
-- lost the event since, and its sessions with it), nor for a session no longer waiting.
if redis.call('HGET', K.meta, 'epoch') ~= A.epoch then
  return 0
end
local now = now_ms()
local beats = {}
for i = 1, (#ARGV - A_FIXED) / #BEAT_ARGS do
  beats[i] = item(ARGV, A_FIXED, BEAT_ARGS, i)
  beats[i].q = tonumber(beats[i].q)
end
local groups, order = {}, {}
for i, beat in ipairs(beats) do
  group_by_bucket(groups, order, beat.q, i)
end
local written = 0
for _, b in ipairs(order) do
  local key, list, fields = K.sessions .. b, groups[b], {}
  for j, i in ipairs(list) do
    fields[j] = beats[i].q % BUCKET
  end
  local records = redis.call('HMGET', key, unpack(fields))
  local out = {}
  for j, i in ipairs(list) do
    local beat = beats[i]
    -- A session with no record yet (see common.lua) gets its first here, with its user.
    local s = records[j] and unpack_record(beat.q, records[j]) or implied(K.stream, beat.q)
    if s then
      local seen = now - tonumber(beat.age)
      if s.st == 'W' and s.tag == beat.tag and seen > s.seen then
        s.seen = seen
        out[#out + 1] = fields[j]
        out[#out + 1] = pack(s)
        written = written + 1
        if s.implied then
          out[#out + 1] = 'u' .. fields[j]
          out[#out + 1] = s.user
        end
      end
    end
  end
  if #out > 0 then
    redis.call('HSET', key, unpack(out))
  end
end
return written
