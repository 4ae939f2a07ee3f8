-- Gives a shard lease up, only for the holder of this very grant.
-- KEYS[1]  the shard's lease
-- ARGV[1]  the lease value as granted: "<worker id> <token>"
-- Returns  1 when deleted; 0 when it had expired or belongs to another grant.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
