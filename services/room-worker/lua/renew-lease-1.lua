-- Extends a shard lease, only for the holder of this very grant.
-- KEYS[1]  the shard's lease
-- ARGV[1]  the lease value as granted: "<worker id> <token>"
-- ARGV[2]  lease TTL, ms
-- Returns  1 when extended; 0 when the lease expired or belongs to another grant (it is lost).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
