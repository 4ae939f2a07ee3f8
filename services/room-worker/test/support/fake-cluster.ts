// What the room worker's tests play instead of gateways and clients: stream entries written
// as a gateway would, live gateway ids in the gateways zset, and a reader of the delivery
// streams that applies the gateway's DeliveryMarks check.
import type { Redis } from 'ioredis';
import { escapeXML } from 'ltx';
import {
  DeliveryMarks,
  decodeEnvelope,
  encodeRoomInput,
  parseDeliveryMark,
  shardForRoom,
  splitStartTag,
  type Envelope,
  type KeySpace,
  type RoomInputEnvelope,
} from '@parley/bus';

export const MUC = 'conference.localhost';
const NS_MUC = 'http://jabber.org/protocol/muc';

/** A client session as the room sees it. */
export interface FakeSession {
  jid: string;
  gateway: string;
  sessionId: string;
}

export function session(jid: string, gateway: string): FakeSession {
  return { jid, gateway, sessionId: `sid-${jid}` };
}

/** Heartbeats gateway ids into the gateways zset (now). */
export async function markGatewaysLive(redis: Redis, keys: KeySpace, ids: string[]): Promise<void> {
  for (const id of ids) await redis.zadd(keys.gateways(), Date.now(), id);
}

/** Appends a room input to its shard's stream, as a gateway's router does; returns the entry id. */
export async function feed(redis: Redis, keys: KeySpace, shards: number, input: RoomInputEnvelope): Promise<string> {
  const room = input.kind === 'gateway-down' ? undefined : input.room;
  if (room === undefined) throw new Error('feed gateway-down to every shard with feedAll');
  return (await redis.xadd(keys.shardStream(shardForRoom(room, shards)), '*', ...encodeRoomInput(input))) as string;
}

/** A stanza from `s` to a room (or room/nick). */
export async function send(redis: Redis, keys: KeySpace, shards: number, s: FakeSession, room: string, xml: string): Promise<string> {
  return feed(redis, keys, shards, { kind: 'stanza', room, xml, gateway: s.gateway, sessionId: s.sessionId });
}

export const join = (s: FakeSession, room: string, nick: string) =>
  `<presence xmlns="jabber:client" from="${s.jid}" to="${room}/${nick}"><x xmlns="${NS_MUC}"/></presence>`;
export const leave = (s: FakeSession, room: string, nick: string) =>
  `<presence xmlns="jabber:client" from="${s.jid}" to="${room}/${nick}" type="unavailable"/>`;
export const groupchat = (s: FakeSession, room: string, body: string, id = body) =>
  `<message xmlns="jabber:client" from="${s.jid}" to="${room}" type="groupchat" id="${id}"><body>${body}</body></message>`;
/** XEP-0045 §10.1.2 instant room (or §10.2 with fields), submitted by an owner. */
export const configure = (s: FakeSession, room: string, fields: Record<string, string> = {}, id = 'cfg') =>
  `<iq xmlns="jabber:client" from="${s.jid}" to="${room}" type="set" id="${id}"><query xmlns="http://jabber.org/protocol/muc#owner">` +
  `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>http://jabber.org/protocol/muc#roomconfig</value></field>` +
  Object.entries(fields).map(([k, v]) => `<field var="${k}"><value>${v}</value></field>`).join('') +
  `</x></query></iq>`;

/** One stanza as a gateway would hand it to a session. */
export interface Received {
  to: string;
  sessionId: string;
  xml: string;
  mark: string | undefined;
}

/** Every stanza in a gateway's delivery stream (fanouts expanded), in stream order. */
export async function delivered(redis: Redis, keys: KeySpace, gateway: string): Promise<Received[]> {
  const out: Received[] = [];
  for (const [, fields] of await redis.xrange(keys.gatewayDelivery(gateway), '-', '+')) {
    const env = decodeEnvelope(fields);
    if (!env) throw new Error(`malformed envelope ${JSON.stringify(fields)}`);
    out.push(...expand(env));
  }
  return out;
}

/**
 * What a gateway would deliver after its mark check: `accepted` per recipient in order,
 * and how many envelopes it dropped as repeats.
 */
export async function gatewayView(redis: Redis, keys: KeySpace, gateway: string): Promise<{ accepted: Received[]; repeats: number; envelopes: number }> {
  const marks = new DeliveryMarks();
  const accepted: Received[] = [];
  let repeats = 0;
  const entries = await redis.xrange(keys.gatewayDelivery(gateway), '-', '+');
  for (const [, fields] of entries) {
    const env = decodeEnvelope(fields);
    if (!env || env.kind === 'kick') continue;
    const mark = env.mark === undefined ? undefined : parseDeliveryMark(env.mark);
    if (!mark) throw new Error(`unmarked envelope from a room worker: ${JSON.stringify(fields)}`);
    if (!marks.accept(mark)) {
      repeats++;
      continue;
    }
    accepted.push(...expand(env));
  }
  return { accepted, repeats, envelopes: entries.length };
}

/** Bodies of the groupchat messages among `received` for one recipient, in order. */
export function bodiesFor(received: Received[], to: string): string[] {
  return received
    .filter((r) => r.to === to && r.xml.startsWith('<message') && r.xml.includes('type="groupchat"'))
    .map((r) => /<body>([^<]*)<\/body>/.exec(r.xml)?.[1] ?? '')
    .filter((b) => b !== '');
}

/** Waits until the shard's committed cursor is at or after `id`. */
export async function committedThrough(redis: Redis, keys: KeySpace, shard: number, id: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const [ims, iseq] = id.split('-').map(BigInt) as [bigint, bigint];
  for (;;) {
    const c = await redis.get(keys.shardCursor(shard));
    if (c) {
      const [cms, cseq] = c.split('-').map(BigInt) as [bigint, bigint];
      if (cms > ims || (cms === ims && cseq >= iseq)) return;
    }
    if (Date.now() > deadline) throw new Error(`shard ${shard} did not commit ${id} within ${timeoutMs} ms (cursor ${c})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The stanzas of one envelope per recipient, each with its `to` as the gateway writes it. */
function expand(env: Envelope): Received[] {
  const withTo = (xml: string, to: string) => {
    const split = splitStartTag(xml);
    return split ? `${split[0]} to="${escapeXML(to)}"${split[1]}` : xml;
  };
  switch (env.kind) {
    case 'stanza':
      return [{ to: env.to, sessionId: env.sessionId, xml: env.xml, mark: env.mark }];
    case 'stanzas':
      return env.xml.map((xml) => ({ to: env.to, sessionId: env.sessionId, xml: withTo(xml, env.to), mark: env.mark }));
    case 'fanout':
      return env.recipients.map((r) => ({ to: r.to, sessionId: r.sessionId, xml: withTo(env.xml, r.to), mark: env.mark }));
    case 'kick':
    case 'blocklist':
    case 'sm-takeover':
      return [];
    case 'route':
      return [{ to: '', sessionId: '', xml: env.xml, mark: env.mark }];
  }
}
