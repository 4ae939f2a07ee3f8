-- Registers a gateway as live under a fresh token (start-up, or again after it was reaped).
-- KEYS[1]  the gateways sorted set (gateway id -> last heartbeat, ms by the Redis clock)
-- KEYS[2]  the gateway's token key
-- ARGV[1]  gateway id
-- ARGV[2]  the new random token
-- Returns  the Redis server time in ms.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now
