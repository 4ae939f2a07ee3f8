-- Grants a shard lease to a worker when nobody holds it, with a new fencing token.
-- KEYS[1]  the shard's lease (string "<worker id> <token>", with a TTL)
-- KEYS[2]  the shard's fencing counter (INCR on every grant, never reset)
-- ARGV[1]  worker id
-- ARGV[2]  lease TTL, ms
-- Returns  the new token (integer), or false when the lease is held by anyone (even the caller).
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token, 'PX', ARGV[2])
return token
