-- Sets a dead gateway's delivery stream aside for its reaper (the step after
-- lua/reap-claim-5.lua; both keys are in the dead gateway's slot). Idempotent: when an
-- earlier, interrupted reap left a set-aside stream, the newer entries are appended to it
-- (so nothing it still holds is lost), else the stream is renamed. No-op without a stream.
-- KEYS[1]  the dead gateway's delivery stream
-- KEYS[2]  where that stream is set aside while the reaper re-routes its entries
-- Returns  the number of entries appended (0 after a rename or with no stream), or -1 when renamed.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return -1
end
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
for _, e in ipairs(entries) do redis.call('XADD', KEYS[2], '*', unpack(e[2])) end
redis.call('DEL', KEYS[1])
return #entries
