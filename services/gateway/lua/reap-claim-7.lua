-- Claims a gateway for reaping, atomically with the check that it is (still) dead.
-- KEYS[1]  the gateways sorted set (gateway id -> last heartbeat, ms by the Redis clock)
-- KEYS[2]  the cluster's liveness hash (pauseUntil)
-- KEYS[3]  the dead gateway's token key (deleted: its next heartbeat learns it was reaped)
-- KEYS[4]  the dead gateway's delivery stream
-- KEYS[5]  where that stream is renamed to while the reaper re-routes its entries
-- KEYS[6]  the reaper lock of the dead gateway
-- KEYS[7]  the set of gateways whose reap has not finished (the dead id is added; the
--          reap removes it when it ends, and lua/reap-resume-4.lua lets a survivor finish
--          the reap of a reaper that died)
-- ARGV[1]  dead gateway id
-- ARGV[2]  deadAfterMs
-- ARGV[3]  the reaper's gateway id
-- ARGV[4]  lock TTL, ms
-- Returns  {status, now}: 1 claimed; 0 reaping is paused; -1 not registered; -2 its
--          heartbeat is recent; -3 another reaper holds the lock.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = tonumber(redis.call('HGET', KEYS[2], 'pauseUntil') or '0')
if now < pause then return {0, now} end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return {-1, now} end
if tonumber(score) > now - tonumber(ARGV[2]) then return {-2, now} end
if not redis.call('SET', KEYS[6], ARGV[3], 'PX', ARGV[4], 'NX') then return {-3, now} end
redis.call('SADD', KEYS[7], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[4]) == 1 then
  if redis.call('EXISTS', KEYS[5]) == 1 then
    -- A reap of the same gateway was interrupted: keep its entries, append the newer ones.
    local entries = redis.call('XRANGE', KEYS[4], '-', '+')
    for _, e in ipairs(entries) do redis.call('XADD', KEYS[5], '*', unpack(e[2])) end
    redis.call('DEL', KEYS[4])
  else
    redis.call('RENAME', KEYS[4], KEYS[5])
  end
end
return {1, now}
