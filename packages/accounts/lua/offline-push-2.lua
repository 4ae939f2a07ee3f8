-- Appends a stanza to a user's offline queue unless a quota would be exceeded (issue #10).
-- KEYS[1]  the user's offline list
-- KEYS[2]  the user's offline quota hash: `bytes`, and per sender `n:<jid>` (messages), `b:<jid>` (bytes)
-- ARGV[1]  the largest number of stored stanzas for the user
-- ARGV[2]  the serialised stanza
-- ARGV[3]  the sender's bare JID
-- ARGV[4]  the most bytes stored for the user
-- ARGV[5]  the most stanzas stored from one sender
-- ARGV[6]  the most bytes stored from one sender
-- Returns  the new length when stored; otherwise nothing is stored and it returns
--          0 (user's count full), -1 (user's bytes), -2 (sender's count), -3 (sender's bytes).
-- The quota is an upper bound: the cleanup job removes entries without updating it, and it
-- is reset whenever the list is empty (after delivery, or when everything was removed).
local len = redis.call('LLEN', KEYS[1])
if len == 0 then redis.call('DEL', KEYS[2]) end
if len >= tonumber(ARGV[1]) then return 0 end
local size = string.len(ARGV[2])
local bytes = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0')
if bytes + size > tonumber(ARGV[4]) then return -1 end
local n = tonumber(redis.call('HGET', KEYS[2], 'n:' .. ARGV[3]) or '0')
if n >= tonumber(ARGV[5]) then return -2 end
local sb = tonumber(redis.call('HGET', KEYS[2], 'b:' .. ARGV[3]) or '0')
if sb + size > tonumber(ARGV[6]) then return -3 end
redis.call('HINCRBY', KEYS[2], 'bytes', size)
redis.call('HINCRBY', KEYS[2], 'n:' .. ARGV[3], 1)
redis.call('HINCRBY', KEYS[2], 'b:' .. ARGV[3], size)
return redis.call('RPUSH', KEYS[1], ARGV[2])
