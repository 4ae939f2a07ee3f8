-- One gateway heartbeat, fenced by the gateway's registration token and timed by the Redis
-- server clock, so gateways on hosts with skewed clocks judge each other fairly.
-- KEYS[1]  the gateways sorted set (gateway id -> last heartbeat, ms by the Redis clock)
-- KEYS[2]  the gateway's token key (deleted by the reaper when it takes the gateway for dead)
-- KEYS[3]  the cluster's liveness hash (lastBeat, pauseUntil)
-- ARGV[1]  gateway id
-- ARGV[2]  the token this gateway registered with
-- ARGV[3]  gap, ms: when no gateway at all has beaten for longer than this, the cluster (or
--          Redis) was unavailable, and reaping pauses for ARGV[4] ms: nobody is to blame
-- ARGV[4]  deadAfterMs
-- Returns  {1, now} after a heartbeat, {-1, now} when the token is not ours (we were reaped).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {-1, now} end
redis.call('ZADD', KEYS[1], now, ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[3], 'lastBeat') or '0')
if last > 0 and now - last > tonumber(ARGV[3]) then
  local pause = now + tonumber(ARGV[4])
  local current = tonumber(redis.call('HGET', KEYS[3], 'pauseUntil') or '0')
  if pause > current then redis.call('HSET', KEYS[3], 'pauseUntil', pause) end
end
if now > last then redis.call('HSET', KEYS[3], 'lastBeat', now) end
return {1, now}
