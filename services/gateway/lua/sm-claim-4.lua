-- XEP-0198 §5, a resumption of an orphaned session (its gateway died): the resuming gateway
-- takes the session, its registry record and its queue in one step.
-- KEYS[1]  the user's sessions hash (registry)
-- KEYS[2]  the session's SM hash
-- KEYS[3]  its queue list
-- KEYS[4]  its rooms set
-- ARGV[1]  resource
-- ARGV[2]  the registry record as read (compare-and-set)
-- ARGV[3]  the new registry record (gateway = claimer, not detached)
-- ARGV[4]  the adopting gateway the SM hash must name
-- ARGV[5]  the claiming gateway id
-- Returns  {h, acked, win, {queue items}, {rooms}}, or false when it is not (or no longer) a
--          claimable orphan (claimed, ended, or a reaper still queues its entries).
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return false end
local s = redis.call('HMGET', KEYS[2], 'gw', 'orphan', 'reaping', 'h', 'acked', 'win')
if s[1] ~= ARGV[4] or s[2] ~= '1' or s[3] == '1' then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], 'gw', ARGV[5], 'det', '')
redis.call('HDEL', KEYS[2], 'orphan')
return {s[4] or '0', s[5] or '0', s[6] or '0', redis.call('LRANGE', KEYS[3], 0, -1), redis.call('SMEMBERS', KEYS[4])}
