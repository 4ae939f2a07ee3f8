-- XEP-0198 §5: the resumption window of an orphaned session is over: it ends (as a logout).
-- KEYS[1]  the user's sessions hash (registry)
-- KEYS[2]  the session's SM hash
-- KEYS[3]  its queue list
-- KEYS[4]  its rooms set
-- ARGV[1]  resource
-- Returns  {registry record removed or '', adopting gateway, session id, {queue items}, {rooms}},
--          or false when it is no orphan (claimed meanwhile, or ended already).
local s = redis.call('HMGET', KEYS[2], 'gw', 'orphan', 'sid')
if s[2] ~= '1' then return false end
local removed = ''
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local ok, rec = pcall(cjson.decode, raw)
  if ok and rec.sessionId == s[3] then
    redis.call('HDEL', KEYS[1], ARGV[1])
    removed = raw
  end
end
local items = redis.call('LRANGE', KEYS[3], 0, -1)
local rooms = redis.call('SMEMBERS', KEYS[4])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return {removed, s[1] or '', s[3] or '', items, rooms}
