-- Replaces a registry record if it still belongs to the given session.
-- KEYS[1]  the user's sessions hash
-- ARGV[1]  resource
-- ARGV[2]  sessionId
-- ARGV[3]  the new JSON SessionRecord
-- Returns  1 when updated, 0 when the resource is gone or owned by another session.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, rec = pcall(cjson.decode, raw)
if ok and rec.sessionId == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
