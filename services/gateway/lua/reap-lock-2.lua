-- Renews or releases a reaper lock, only while the caller holds it.
-- KEYS[1]  the reaper lock of the dead gateway
-- KEYS[2]  the set of gateways whose reap has not finished
-- ARGV[1]  the reaper's gateway id
-- ARGV[2]  new lock TTL, ms; 0 releases the lock and marks the reap as ended
-- ARGV[3]  dead gateway id
-- Returns  1 while the caller holds the lock, 0 when it lost it (it expired and maybe
--          another survivor took the reap over: the caller stops; nothing is changed).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('SREM', KEYS[2], ARGV[3])
  redis.call('DEL', KEYS[1])
end
return 1
