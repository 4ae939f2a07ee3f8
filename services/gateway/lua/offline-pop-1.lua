-- Takes every stanza from a user's offline queue, oldest first, and empties it.
-- KEYS[1]  the user's offline list
-- Returns  the stanzas (possibly empty).
local all = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return all
