-- Removes a resource from the registry if it is held by the given (dead) gateway.
-- KEYS[1]  the user's sessions hash
-- ARGV[1]  resource
-- ARGV[2]  gateway id
-- Returns  the removed JSON record, or false when it is gone or held elsewhere.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local ok, rec = pcall(cjson.decode, raw)
if ok and rec.gateway == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return raw
end
return false
