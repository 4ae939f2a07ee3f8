-- Takes over the reap of a gateway whose reaper died (its lock expired before the reap ended).
-- KEYS[1]  the set of gateways whose reap has not finished
-- KEYS[2]  the reaper lock of the dead gateway
-- KEYS[3]  the gateways sorted set
-- KEYS[4]  the cluster's liveness hash (pauseUntil)
-- ARGV[1]  dead gateway id
-- ARGV[2]  the new reaper's gateway id
-- ARGV[3]  lock TTL, ms
-- Returns  1 taken over, the gateway is still out of the live set (redo the whole reap);
--          2 taken over, the gateway registered again since (only its set-aside stream is left);
--          0 reaping is paused; -1 the reap already ended; -3 a reaper holds the lock;
--          -4 the dead gateway is the caller and it has not registered again yet.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = tonumber(redis.call('HGET', KEYS[4], 'pauseUntil') or '0')
if now < pause then return 0 end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end
local live = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not live and ARGV[1] == ARGV[2] then return -4 end
if not redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3], 'NX') then return -3 end
if live then return 2 end
return 1
