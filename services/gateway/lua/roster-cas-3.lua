-- Compare-and-set of one roster item and its Pending In entry (RFC 6121 §2, §3.1.3), so two
-- gateways changing the same roster at once cannot lose an update: the caller read the
-- item, computed the new one, and retries when this returns -1.
-- KEYS[1]  the account's roster hash (contact bare JID -> JSON item)
-- KEYS[2]  the account's roster version counter
-- KEYS[3]  the account's pending-in hash (contact bare JID -> serialised subscribe presence)
-- ARGV[1]  contact bare JID
-- ARGV[2]  the item as read ('' when absent)
-- ARGV[3]  the new item ('' to delete it)
-- ARGV[4]  pending-in as read: '0' absent, '1' present, '*' not checked
-- ARGV[5]  new pending-in: '-' delete, '=' unchanged, anything else the stanza to store
-- ARGV[6]  the most items a roster may hold
-- ARGV[7]  '1' to increment the roster version (the item changed), '0' not to
-- Returns  the roster version after the change (>= 0), -1 when the item or pending-in
--          changed since it was read (nothing written), -2 when the roster (or the
--          pending-in hash, bounded the same) is full.
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if cur ~= ARGV[2] then return -1 end
if ARGV[4] ~= '*' then
  local has = redis.call('HEXISTS', KEYS[3], ARGV[1])
  if tostring(has) ~= ARGV[4] then return -1 end
end
if ARGV[3] ~= '' and cur == '' and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then return -2 end
if ARGV[5] ~= '-' and ARGV[5] ~= '=' and redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0
  and redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[6]) then return -2 end
if ARGV[3] == '' then
  if cur ~= '' then redis.call('HDEL', KEYS[1], ARGV[1]) end
elseif ARGV[3] ~= cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
if ARGV[5] == '-' then
  redis.call('HDEL', KEYS[3], ARGV[1])
elseif ARGV[5] ~= '=' then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
end
if ARGV[7] == '1' then return redis.call('INCR', KEYS[2]) end
return tonumber(redis.call('GET', KEYS[2]) or '0')
