-- XEP-0198: queues one stanza for a resumable session held (or adopted as an orphan) by a gateway.
-- KEYS[1]  the session's SM hash (sm:{u:<bare>}:<smId>)
-- KEYS[2]  its queue list
-- ARGV[1]  the gateway that must hold it (field gw)
-- ARGV[2]  the queue item (JSON)
-- ARGV[3]  the id of the delivery stream entry it came from, or '' (entries at or before the
--          hash's `did` were queued already by the dead gateway: skipped)
-- Returns  the queue length after the push; 0 when the session is not held by ARGV[1]
--          (claimed or ended); -1 when the entry was queued already.
if redis.call('HGET', KEYS[1], 'gw') ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then
  local did = redis.call('HGET', KEYS[1], 'did')
  if did then
    local am, as = string.match(ARGV[3], '^(%d+)-(%d+)$')
    local bm, bs = string.match(did, '^(%d+)-(%d+)$')
    if am and bm then
      am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
      if am < bm or (am == bm and as <= bs) then return -1 end
    end
  end
  redis.call('HSET', KEYS[1], 'did', ARGV[3])
end
return redis.call('RPUSH', KEYS[2], ARGV[2])
