-- Takes every stanza from a user's offline queue, oldest first, and empties it and its quota.
-- KEYS[1]  the user's offline list
-- KEYS[2]  the user's offline quota hash (see offline-push-2.lua)
-- Returns  the stanzas (possibly empty).
local all = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2])
return all
