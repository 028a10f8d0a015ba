-- The heartbeats of waiting sessions whose polls a process answered from memory
-- (store/polls.rs), written together: each session's `seen` becomes the time of its poll
-- (the script's clock less the poll's age, so the hosts' clocks do not matter). One HMGET
-- and at most one HSET per bucket of 64 sessions. Items: BEAT_ARGS (join number, tag, age
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
    if records[j] then
      local beat = beats[i]
      local s = unpack_record(beat.q, records[j])
      local seen = now - tonumber(beat.age)
      if s.st == 'W' and s.tag == beat.tag and seen > s.seen then
        s.seen = seen
        out[#out + 1] = fields[j]
        out[#out + 1] = pack(s)
      end
    end
  end
  if #out > 0 then
    redis.call('HSET', key, unpack(out))
    written = written + #out / 2
  end
end
return written
