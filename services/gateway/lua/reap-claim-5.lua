-- Claims a gateway for reaping, atomically with the check that it is (still) dead. Every key
-- is in the slot of the gateways set (packages/bus keys.ts), so this is one script on Redis
-- Cluster too; the dead gateway's delivery stream (its own slot) is set aside by the next
-- step, lua/reap-set-aside-2.lua, which every reap (a fresh one or a resumed one) starts with.
-- Crash safety of the split: once this script has run, the id is in KEYS[5] under the lock;
-- if the reaper dies before (or during) the set-aside, the lock expires and a survivor's
-- lua/reap-resume-4.lua takes the whole reap over, which sets the stream aside again (the
-- set-aside is idempotent: it appends to what an earlier one left). Entries appended to the
-- stream between the claim and the set-aside are set aside with the rest, as entries
-- appended after it are swept by the reap (liveness.ts).
-- KEYS[1]  the gateways sorted set (gateway id -> last heartbeat, ms by the Redis clock)
-- KEYS[2]  the cluster's liveness hash (pauseUntil)
-- KEYS[3]  the dead gateway's token key (deleted: its next heartbeat learns it was reaped)
-- KEYS[4]  the reaper lock of the dead gateway
-- KEYS[5]  the set of gateways whose reap has not finished (the dead id is added; the
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
if not redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4], 'NX') then return {-3, now} end
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[1])
return {1, now}
