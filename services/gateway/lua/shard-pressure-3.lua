-- What a gateway's backpressure poll reads of one room shard (routing/shard-backpressure.ts;
-- issue #10 item 6), in one command with a compact reply (issue #15: the poll was three
-- commands per shard, and XRANGE returned the oldest entry's whole stanza).
-- KEYS[1]  the shard's stream (KeySpace.shardStream)
-- KEYS[2]  the rooms its worker lists as behind (KeySpace.shardHotRooms): room -> stream id
-- KEYS[3]  the rooms gateways list as delivery-hot (KeySpace.shardDeliveryHot): room -> deadline, ms
-- ARGV[1]  most fields read of each hash (HSCAN COUNT: a small hash is read whole)
-- Returns  {id of the stream's oldest entry, or '' when it is empty,
--           KEYS[2]'s fields and values as one flat list (HSCAN from cursor 0),
--           KEYS[3]'s the same way}
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local hot = redis.call('HSCAN', KEYS[2], 0, 'COUNT', ARGV[1])[2]
local deliveryHot = redis.call('HSCAN', KEYS[3], 0, 'COUNT', ARGV[1])[2]
return {oldest and oldest[1] or '', hot, deliveryHot}
