-- Commits one turn of a shard atomically, fenced by the lease: room states, history lists,
-- the cursor, and the trim of the applied stream entries. Nothing is written unless the
-- lease still holds the caller's grant. The number of keys varies (one per history list
-- touched), hence "-n": the caller passes it (EVALSHA sha numkeys ...).
-- KEYS[1]  the shard's lease
-- KEYS[2]  the shard's cursor (every stream entry up to it is applied)
-- KEYS[3]  the shard's rooms hash (room JID -> JSON state without history)
-- KEYS[4]  the shard's input stream
-- KEYS[5]  the shard's lanes hash: "n" -> commit count, "<lane>" -> last applied entry of
--          that lane when after the cursor (room worker fair scheduling, shard-actor.ts)
-- KEYS[6..] history lists, one per room whose history changed, in the order of ARGV below
-- ARGV[1]  the lease value as granted: "<worker id> <token>"
-- ARGV[2]  new cursor (it may equal the stored one: a turn that served lanes after it)
-- ARGV[3]  XTRIM MINID threshold (the id just after the cursor), or "" to leave the stream alone
-- ARGV[4]  N, this commit's number (the shard's commit count after it), or "" for none
-- ARGV[5]  S, lane marks to set; then S pairs: lane, entry id
-- then     D, lane marks to delete; then D lanes
-- then     W, the number of room writes; then W pairs: room JID, JSON state ("" = HDEL)
-- then, for each history key in order: reset (1 = DEL the list first, 0 = keep),
--          keep (max entries kept after appending; 0 deletes the list),
--          C (number of appended entries), then C JSON entries, oldest first
-- Returns  "ok" (also, writing nothing, when the commit is stored already: the same commit
--          sent again, e.g. resent by the client after a reconnect, must not append its
--          history entries twice; with N, when the stored count is at or past N, without
--          it, when the cursor is at or past ARGV[2]), or "fenced" (lease lost; nothing written).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'fenced' end

-- Stream ids "<ms>-<seq>" (no leading zeros) compared as decimal strings: -1, 0 or 1.
local function compare_ids(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not am or not bm then return nil end
  local function cmp(x, y)
    if #x ~= #y then return #x < #y and -1 or 1 end
    if x == y then return 0 end
    return x < y and -1 or 1
  end
  local c = cmp(am, bm)
  if c == 0 then c = cmp(as, bs) end
  return c
end
local n = ARGV[4]
if n ~= '' then
  local done = tonumber(redis.call('HGET', KEYS[5], 'n') or '0')
  if done >= tonumber(n) then return 'ok' end
else
  local stored = redis.call('GET', KEYS[2])
  if stored then
    local c = compare_ids(stored, ARGV[2])
    if c ~= nil and c >= 0 then return 'ok' end
  end
end
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local d = tonumber(ARGV[i])
i = i + 1
for _ = 1, d do
  redis.call('HDEL', KEYS[5], ARGV[i])
  i = i + 1
end
if n ~= '' then redis.call('HSET', KEYS[5], 'n', n) end
local w = tonumber(ARGV[i])
i = i + 1
for _ = 1, w do
  local room, state = ARGV[i], ARGV[i + 1]
  if state == '' then
    redis.call('HDEL', KEYS[3], room)
  else
    redis.call('HSET', KEYS[3], room, state)
  end
  i = i + 2
end
for k = 6, #KEYS do
  local key = KEYS[k]
  local reset, keep, count = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  i = i + 3
  if reset == '1' then redis.call('DEL', key) end
  if count > 0 then
    for j = i, i + count - 1, 1000 do
      redis.call('RPUSH', key, unpack(ARGV, j, math.min(j + 999, i + count - 1)))
    end
    i = i + count
  end
  if keep <= 0 then
    redis.call('DEL', key)
  else
    redis.call('LTRIM', key, -keep, -1)
  end
end
redis.call('SET', KEYS[2], ARGV[2])
if ARGV[3] ~= '' then redis.call('XTRIM', KEYS[4], 'MINID', ARGV[3]) end
return 'ok'
