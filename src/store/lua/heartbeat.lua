-- The heartbeats of waiting sessions whose polls a process answered from memory
-- (store/polls.rs), written together: each session's `seen` becomes the time of its poll
-- (Redis's clock less the poll's age, so the hosts' clocks do not matter). One HMGET and
-- at most one HSET per bucket of 64 sessions.
-- KEYS: meta, sessions prefix
-- ARGV: epoch, then per session: join number, tag, age of its poll (ms)
-- Returns how many records were written: none if the event's epoch is not `epoch` (Redis
-- lost the event since, and its sessions with it), nor for a session no longer waiting.
local meta, sessions = KEYS[1], KEYS[2]
if redis.call('HGET', meta, 'epoch') ~= ARGV[1] then
  return 0
end
local now = now_ms()
local groups, order = {}, {}
for i = 2, #ARGV, 3 do
  group_by_bucket(groups, order, tonumber(ARGV[i]), i)
end
local written = 0
for _, b in ipairs(order) do
  local key, list, fields = sessions .. b, groups[b], {}
  for j, i in ipairs(list) do
    fields[j] = tonumber(ARGV[i]) % BUCKET
  end
  local records = redis.call('HMGET', key, unpack(fields))
  local out = {}
  for j, i in ipairs(list) do
    if records[j] then
      local s = unpack_record(tonumber(ARGV[i]), records[j])
      local seen = now - tonumber(ARGV[i + 2])
      if s.st == 'W' and s.tag == ARGV[i + 1] and seen > s.seen then
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
