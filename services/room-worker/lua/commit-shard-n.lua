-- Commits one turn of a shard atomically, fenced by the lease: room states and their
-- changed occupants, history lists, the cursor, and the trim of the applied stream entries.
-- Nothing is written unless the lease still holds the caller's grant. The number of keys
-- varies (one per room and history list touched), hence "-n": the caller passes it
-- (EVALSHA sha numkeys ...).
-- KEYS[1]  the shard's lease
-- KEYS[2]  the shard's cursor (every stream entry up to it is applied)
-- KEYS[3]  the shard's rooms hash (room JID -> JSON state without history and occupants)
-- KEYS[4]  the shard's input stream
-- KEYS[5]  the shard's lanes hash: "n" -> commit count, "<lane>" -> last applied entry of
--          that lane when after the cursor (room worker fair scheduling, shard-actor.ts)
-- KEYS[6..5+W] occupants hashes (shown nick -> "[seq,occupant JSON]"), one per room written
--          or deleted, in the order of the room writes in ARGV below
-- then H   history lists, one per room whose history changed, in the order of ARGV below
-- then     triples of XEP-0313 archive keys (the stream, its id index hash, its XEP-0425
--          tombstones hash), one triple per room whose archive changed, in the order of ARGV below
-- ARGV[1]  the lease value as granted: "<worker id> <token>"
-- ARGV[2]  new cursor (it may equal the stored one: a turn that served lanes after it)
-- ARGV[3]  XTRIM MINID threshold (the id just after the cursor), or "" to leave the stream alone
-- ARGV[4]  N, this commit's number (the shard's commit count after it), or "" for none
-- ARGV[5]  S, lane marks to set; then S pairs: lane, entry id
-- then     D, lane marks to delete; then D lanes
-- then     W, the number of room writes; then for each: room JID, op ("d" = delete the room:
--          HDEL and DEL its occupants hash; "w" = write), JSON state ("" = unchanged), reset
--          ("1" = DEL the occupants hash first), S, then S pairs nick, value to HSET in the
--          occupants hash, D, then D nicks to HDEL from it
-- then     H, the number of history keys; for each history key in order: reset (1 = DEL
--          the list first, 0 = keep), keep (max entries kept after appending; 0 deletes the
--          list), C (number of appended entries), then C JSON entries, oldest first
-- then, for each archive key pair in order: reset (1 = DEL both first), max entries kept
--          (0 = no bound), min time kept (ms; 0 = no bound), C (number of appended
--          entries), then C triples: archive id, time (ms), JSON entry. Each entry gets the
--          stream id "<time>-0", or one after the stream's last id when that is not greater
--          (ids stay increasing whatever the workers' clocks); the index maps archive id to it.
--          Then T (number of tombstones), then T pairs: archive id, serialised <retracted/>;
--          each is stored in the tombstones hash only if the index has that id (an entry
--          appended above included). Stream entries cannot be edited in place and XADD only
--          appends (an id at or below the last one is refused), so the message is not
--          rewritten: the query path (archive-store.ts) replaces its payload by the tombstone.
--          Trimming (oldest first, XEP-0313 §2.2: no holes) removes their index and tombstone
--          fields too, so the tombstones hash is bounded by the archive's own bounds.
-- Returns  "ok" (also, writing nothing, when the commit is stored already: the same commit
--          sent again, e.g. resent by the client after a reconnect, must not append its
--          history entries twice; with N, when the stored count is at or past N, without
--          it, when the cursor is at or past ARGV[2]), "gap" (with N, when the stored count is
--          below N - 1: an earlier commit is missing; nothing written), or "fenced" (lease
--          lost; nothing written).
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
  -- A commit before this one is missing (one pipeline can carry two commits of a shard,
  -- and the first failed): write nothing; the worker loads the shard again.
  if done < tonumber(n) - 1 then return 'gap' end
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
for k = 6, 5 + w do
  local occupants = KEYS[k]
  local room, op, state, reset = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  if op == 'd' then
    redis.call('HDEL', KEYS[3], room)
    redis.call('DEL', occupants)
  else
    if state ~= '' then redis.call('HSET', KEYS[3], room, state) end
    if reset == '1' then redis.call('DEL', occupants) end
  end
  local s = tonumber(ARGV[i])
  i = i + 1
  for j = i, i + 2 * s - 1, 1000 do
    redis.call('HSET', occupants, unpack(ARGV, j, math.min(j + 999, i + 2 * s - 1)))
  end
  i = i + 2 * s
  local d = tonumber(ARGV[i])
  i = i + 1
  for j = i, i + d - 1, 1000 do
    redis.call('HDEL', occupants, unpack(ARGV, j, math.min(j + 999, i + d - 1)))
  end
  i = i + d
end
local h = tonumber(ARGV[i])
i = i + 1
for k = 6 + w, 5 + w + h do
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
-- Removes the stream entries `entries` (XRANGE reply) and their index fields.
local function drop(stream, index, tombs, entries)
  for _, e in ipairs(entries) do
    local fields = e[2]
    for f = 1, #fields, 2 do
      if fields[f] == 's' then
        redis.call('HDEL', index, fields[f + 1])
        redis.call('HDEL', tombs, fields[f + 1])
      end
    end
    redis.call('XDEL', stream, e[1])
  end
end
for k = 6 + w + h, #KEYS, 3 do
  local stream, index, tombs = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local reset, maxn, minat, count = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 4
  if reset == '1' then
    redis.call('DEL', stream)
    redis.call('DEL', index)
    redis.call('DEL', tombs)
  end
  -- The stream's last id, read once per commit and then carried along the appends.
  local last = nil
  if count > 0 then
    local e = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
    if e then last = e[1] end
  end
  for _ = 1, count do
    local sid, at, json = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
    i = i + 3
    local id = string.format('%.0f', at) .. '-0'
    if last and compare_ids(id, last) <= 0 then
      local lms, lseq = string.match(last, '^(%d+)-(%d+)$')
      id = lms .. '-' .. string.format('%.0f', tonumber(lseq) + 1)
    end
    redis.call('XADD', stream, id, 's', sid, 'e', json)
    redis.call('HSET', index, sid, id)
    last = id
  end
  local t = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, t do
    if redis.call('HEXISTS', index, ARGV[i]) == 1 then redis.call('HSET', tombs, ARGV[i], ARGV[i + 1]) end
    i = i + 2
  end
  if maxn > 0 then
    local over = redis.call('XLEN', stream) - maxn
    if over > 0 then drop(stream, index, tombs, redis.call('XRANGE', stream, '-', '+', 'COUNT', over)) end
  end
  if minat > 0 then
    drop(stream, index, tombs, redis.call('XRANGE', stream, '-', string.format('%.0f', minat - 1), 'COUNT', 1000))
  end
  if redis.call('XLEN', stream) == 0 then
    redis.call('DEL', stream)
    redis.call('DEL', index)
    redis.call('DEL', tombs)
  end
end
redis.call('SET', KEYS[2], ARGV[2])
if ARGV[3] ~= '' then redis.call('XTRIM', KEYS[4], 'MINID', ARGV[3]) end
return 'ok'
