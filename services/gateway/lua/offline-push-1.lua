-- Appends a stanza to a user's offline queue unless the queue is full.
-- KEYS[1]  the user's offline list
-- ARGV[1]  the largest number of stored stanzas
-- ARGV[2]  the serialised stanza
-- Returns  the new length, or 0 when the queue was full (nothing stored).
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
return redis.call('RPUSH', KEYS[1], ARGV[2])
