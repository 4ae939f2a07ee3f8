-- Binds a resource in the session registry, returning the record it replaces.
-- KEYS[1]  the user's sessions hash (resource -> JSON SessionRecord)
-- ARGV[1]  resource
-- ARGV[2]  the new JSON SessionRecord
-- Returns  the previous JSON record, or false when the resource was free.
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return old
