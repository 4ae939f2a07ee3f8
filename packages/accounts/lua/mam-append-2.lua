-- XEP-0313 account archive: append one message and trim (packages/accounts/src/archive-store.ts).
-- KEYS[1] archive stream, KEYS[2] id index hash (archive id -> stream entry id).
-- ARGV[1] archive id, ARGV[2] the other party's JID, ARGV[3] serialised message,
-- ARGV[4] most entries kept, ARGV[5] greatest entry age kept (ms, by the Redis clock; 0 = no age bound),
-- ARGV[6] most entries trimmed by this call (the rest goes at later appends).
-- Returns the new entry's stream id (its time is the archive time), or false when the
-- archive id is already there (nothing is written).
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return false end
local sid = redis.call('XADD', KEYS[1], '*', 's', ARGV[1], 'w', ARGV[2], 'x', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], sid)
local budget = tonumber(ARGV[6])
local function drop(entries)
  local ids, names = {}, {}
  for _, e in ipairs(entries) do
    ids[#ids + 1] = e[1]
    local f = e[2]
    for i = 1, #f, 2 do
      if f[i] == 's' then names[#names + 1] = f[i + 1] end
    end
  end
  if #ids > 0 then redis.call('XDEL', KEYS[1], unpack(ids)) end
  if #names > 0 then redis.call('HDEL', KEYS[2], unpack(names)) end
  budget = budget - #ids
end
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[4])
if excess > 0 then drop(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', math.min(excess, budget))) end
local maxAge = tonumber(ARGV[5])
if maxAge > 0 and budget > 0 then
  local t = redis.call('TIME')
  local minAt = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - maxAge
  drop(redis.call('XRANGE', KEYS[1], '-', '(' .. string.format('%d', minAt) .. '-0', 'COUNT', budget))
end
return sid
