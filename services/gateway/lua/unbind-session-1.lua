-- Removes a resource from the session registry if it still belongs to the given session
-- (a newer session that replaced it after a resource conflict is left alone).
-- KEYS[1]  the user's sessions hash
-- ARGV[1]  resource
-- ARGV[2]  sessionId
-- Returns  1 when removed, 0 otherwise.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, rec = pcall(cjson.decode, raw)
if ok and rec.sessionId == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
