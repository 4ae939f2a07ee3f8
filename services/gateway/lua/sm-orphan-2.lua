-- XEP-0198, reaper: a dead gateway's resumable session becomes an orphan adopted by a live
-- gateway (which queues what arrives for it) instead of being removed from the registry.
-- KEYS[1]  the user's sessions hash (registry)
-- KEYS[2]  the session's SM hash
-- ARGV[1]  resource
-- ARGV[2]  the registry record as read (compare-and-set)
-- ARGV[3]  the new registry record (gateway = adopter, detached set)
-- ARGV[4]  the dead gateway id (the SM hash must still name it)
-- ARGV[5]  the adopting gateway id
-- ARGV[6]  ms since epoch the session counts as detached from
-- Returns  1 when adopted, 0 when anything changed meanwhile.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[2], 'gw') ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], 'gw', ARGV[5], 'orphan', '1', 'reaping', '1', 'det', ARGV[6])
return 1
