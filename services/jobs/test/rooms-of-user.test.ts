// roomsOfUser (delete-user step 3) over both stored room layouts: occupants inline in the
// room JSON (rooms stored before issue #15 item 2) and occupants in the room's own hash
// (`KeySpace.roomOccupants`). Real redis-server; the data is written as the room worker
// writes it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeStoredOccupant, keySpace, OCCUPANTS_IN_HASH } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { roomsOfUser } from '../src/rooms-of-user.js';
import { testPrefix } from './support/harness.js';

const ALICE = 'alice@localhost';
let server: RedisServer;

before(async () => {
  server = await startRedis();
});
after(async () => {
  await server?.stop();
});

const occupant = (nick: string, bareJid: string) => ({ nick, bareJid, role: 'participant', sessions: [{ fullJid: `${bareJid}/r`, gatewayId: 'gw1', sessionId: 's', presence: '<presence/>', joined: 1 }] });
const room = (jid: string, extra: Record<string, unknown>) => JSON.stringify({ jid, config: {}, locked: false, affiliations: {}, occupants: {}, subject: null, history: [], created: 1, ...extra });

test('finds rooms where the account is an occupant in either layout, or affiliated', async () => {
  const redis = server.client();
  const keys = keySpace(testPrefix('rooms-of-user'));
  const split = { [OCCUPANTS_IN_HASH]: true };
  await redis.hset(keys.shardRooms(0), 'inline@c.localhost', room('inline@c.localhost', { occupants: { a: occupant('a', ALICE) } }));
  await redis.hset(keys.shardRooms(0), 'hashed@c.localhost', room('hashed@c.localhost', split));
  await redis.hset(keys.roomOccupants(0, 'hashed@c.localhost'), '__proto__', encodeStoredOccupant(0, JSON.stringify(occupant('__proto__', ALICE))));
  await redis.hset(keys.shardRooms(1), 'other@c.localhost', room('other@c.localhost', split));
  // An occupant whose nick is the JID: the text matches, the bare JID does not.
  await redis.hset(keys.roomOccupants(1, 'other@c.localhost'), ALICE, encodeStoredOccupant(0, JSON.stringify(occupant(ALICE, 'bob@localhost'))));
  await redis.hset(keys.shardRooms(1), 'member@c.localhost', room('member@c.localhost', { ...split, affiliations: { [ALICE]: { affiliation: 'member' } } }));
  assert.deepEqual(await roomsOfUser(redis, keys, 2, ALICE), ['hashed@c.localhost', 'inline@c.localhost', 'member@c.localhost']);
  assert.deepEqual(await roomsOfUser(redis, keys, 2, 'bob@localhost'), ['other@c.localhost']);
});
