/*
 * Shared by the Redis failover chaos tests (redis-sentinel-failover, redis-cluster): joining
 * a room, and a steady flow of direct and groupchat messages whose arrivals are recorded, so
 * that a test can say when messages flowed again after a fault and which were lost or
 * duplicated.
 */
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import type { Element } from 'ltx';
import { chat, isMessageWithBody, type TestClient } from '../../integration/support/test-client.js';

export const MUC = 'conference.localhost';
const MUC_NS = 'http://jabber.org/protocol/muc';
const MUC_USER_NS = 'http://jabber.org/protocol/muc#user';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A groupchat message to `room@conference.localhost` whose id and body are `body`. */
export function groupchat(room: string, body: string): Element {
  return xml('message', { to: `${room}@${MUC}`, type: 'groupchat', id: body }, xml('body', {}, body));
}

/**
 * Joins `room` as `nick`, accepting the default configuration of a new room (XEP-0045
 * §10.1.2: it stays locked until its owner does); resolves with the occupant nicks shown.
 */
export async function joinRoom(c: TestClient, room: string, nick: string): Promise<Set<string>> {
  const from = c.received.length;
  await c.send(xml('presence', { to: `${room}@${MUC}/${nick}` }, xml('x', { xmlns: MUC_NS })));
  const self = await c.waitForStanza((el) => el.name === 'presence' && el.attrs['from'] === `${room}@${MUC}/${nick}` && el.attrs['type'] === undefined
    && (el.getChild('x', MUC_USER_NS)?.getChildren('status').some((s) => s.attrs['code'] === '110') ?? false), 8000);
  if (self.getChild('x', MUC_USER_NS)?.getChildren('status').some((s) => s.attrs['code'] === '201')) {
    const unlocked = await c.iq('set', `${room}@${MUC}`, xml('query', { xmlns: `${MUC_NS}#owner` }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })), 8000);
    assert.equal(unlocked.attrs['type'], 'result', String(unlocked));
  }
  const nicks = new Set<string>();
  for (const el of c.received.slice(from)) {
    if (el.name === 'presence' && el.attrs['type'] === undefined && String(el.attrs['from']).startsWith(`${room}@${MUC}/`)) {
      nicks.add(String(el.attrs['from']).slice(`${room}@${MUC}/`.length));
    }
  }
  return nicks;
}

/** A message's body and when it arrived (ms since epoch). */
export interface Arrival {
  body: string;
  at: number;
}

/** What {@link startRoomTraffic} sent and saw arrive. */
export interface RoomTraffic {
  /** Bodies sent, in order: `direct-<i>` (a to b) and `group-<i>` (b to the room). */
  readonly direct: string[];
  readonly group: string[];
  /** When each body was sent (ms since epoch). */
  readonly sentAt: Map<string, number>;
  /** Every arrival, repeats included, in order. */
  readonly arrivals: Arrival[];
  /** First arrival of each body. */
  readonly arrivedAt: Map<string, number>;
  /** Arrivals of a body seen before. */
  readonly duplicates: number;
  /** Stops sending (resolves once the last message went out). */
  stop(): Promise<void>;
  /**
   * Stops sending, then waits up to `timeoutMs` for the last direct message at b and the
   * last groupchat at a (everything sent before them is in flight or there).
   * @throws when either does not arrive in time
   */
  drain(timeoutMs: number): Promise<void>;
  /**
   * The first arrival of a message sent after `since`, waiting for it until `deadline`
   * (ms since epoch); undefined when none came by then.
   */
  firstSentAfter(since: number, deadline: number): Promise<Arrival | undefined>;
  /** The longest time between two arrivals, ms. */
  longestSilenceMs(): number;
  /** Bodies sent that never arrived. */
  lost(): string[];
}

/**
 * Every 100 ms `a` sends a direct message to `directTo` (b's full JID) and `b` a groupchat
 * to `room` (both joined). Arrivals are counted at their receivers: the direct message at
 * b, the groupchat at a (b's own echo is not counted). Send errors are ignored (a fault is
 * under way); what matters is what arrives.
 */
export function startRoomTraffic(a: TestClient, b: TestClient, directTo: string, room: string): RoomTraffic {
  const direct: string[] = [];
  const group: string[] = [];
  const sentAt = new Map<string, number>();
  const arrivals: Arrival[] = [];
  const arrivedAt = new Map<string, number>();
  let duplicates = 0;
  for (const c of [b, a]) {
    c.xmpp.on('stanza', (el: Element) => {
      const body = el.name === 'message' && el.attrs['type'] !== 'error' ? el.getChildText('body') : null;
      if (body === null || !/^(direct|group)-\d+$/.test(body)) return;
      if (c === b && body.startsWith('group-')) return;
      if (arrivedAt.has(body)) duplicates++;
      else arrivedAt.set(body, Date.now());
      arrivals.push({ body, at: Date.now() });
    });
  }
  let running = true;
  const sending = (async () => {
    for (let i = 0; running; i++) {
      const d = `direct-${i}`;
      const g = `group-${i}`;
      direct.push(d);
      group.push(g);
      sentAt.set(d, Date.now());
      sentAt.set(g, Date.now());
      await a.send(chat(directTo, d)).catch(() => undefined);
      await b.send(groupchat(room, g)).catch(() => undefined);
      await sleep(100);
    }
  })();
  return {
    direct,
    group,
    sentAt,
    arrivals,
    arrivedAt,
    get duplicates() {
      return duplicates;
    },
    async stop() {
      running = false;
      await sending;
    },
    async drain(timeoutMs) {
      running = false;
      await sending;
      await b.waitForStanza(isMessageWithBody(direct[direct.length - 1]!), timeoutMs);
      await a.waitForStanza(isMessageWithBody(group[group.length - 1]!), timeoutMs);
    },
    async firstSentAfter(since, deadline) {
      for (;;) {
        const found = arrivals.find((x) => (sentAt.get(x.body) ?? 0) > since);
        if (found || Date.now() > deadline) return found;
        await sleep(20);
      }
    },
    longestSilenceMs() {
      const times = arrivals.map((x) => x.at).sort((x, y) => x - y);
      let gap = 0;
      for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
      return gap;
    },
    lost() {
      return [...direct, ...group].filter((body) => !arrivedAt.has(body));
    },
  };
}
