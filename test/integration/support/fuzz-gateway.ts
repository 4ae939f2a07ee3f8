// Properties of a real gateway session under generated input (issue #10 item 9), over a
// real TCP socket: restricted and malformed constructs before authentication, mutated
// streams, and random stanzas after login. Run briefly by fuzz-gateway.test.ts and at
// length by bench/fuzz.ts. Invariants:
//   - each restricted/malformed construct gets a <stream:error> with its RFC 6120 §4.9.3
//     condition, then the stream is closed;
//   - a mutated stream that the parser refuses gets a <stream:error>; the server never
//     closes a connection without one;
//   - after login, every iq get/set (and iq of an unknown type) is answered with the same
//     id; a message to self round-trips with its body; the session survives (or ends with a
//     stream error other than internal-server-error);
//   - the gateway process stays alive.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Element } from 'ltx';
import { RawClient, loginPlain, streamHeader, type GatewayProcess } from '@parley/testkit';
import { runParser } from '../../../packages/xml/test/fuzz/stream-parser-properties.js';
import {
  BAD_CONSTRUCTS,
  chunk,
  escapeAttr,
  escapeText,
  genChunking,
  genMutations,
  genStanza,
  genStream,
  mutate,
  writeElement,
  writeStream,
  xmlChars,
  type GenElement,
} from '../../../packages/xml/test/fuzz/xml-grammar.js';
import { DOMAIN } from './names.js';
import { streamChildren, streamError } from './raw-stanzas.js';

/** A named property, run by the test with few inputs and by the benchmark with many. */
export interface FuzzProperty {
  name: string;
  property: fc.IAsyncPropertyWithHooks<unknown> | fc.IRawProperty<unknown>;
}

const HEADER = streamHeader(DOMAIN);

/** Stream error conditions a well-formed stanza after login may still get (rate limits); `invalid-from` only for a spoofed `from`. */
const TOLERATED_AFTER_LOGIN = new Set(['policy-violation', 'resource-constraint']);

let runCounter = 0;

/** What the post-login property saw (for the benchmark report): runs fully checked, runs ended by a tolerated stream error. */
export const stats = { checked: 0, streamErrors: 0 };

/** Throws unless the gateway process is alive and answers a ping on a fresh session. */
export async function assertGatewayAlive(gw: GatewayProcess, user: string, password: string): Promise<void> {
  process.kill(gw.pid, 0); // throws ESRCH when the process is gone
  const raw = await RawClient.connect(gw.c2sPort);
  try {
    await loginPlain(raw, { domain: DOMAIN, user, password, resource: `alive-${++runCounter}` });
    const from = raw.length;
    await raw.send(`<iq type='get' id='alive' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await raw.waitFor(/<iq[^>]*id=["']alive["'][^>]*type=["']result["']|<iq[^>]*type=["']result["'][^>]*id=["']alive["']/, { from, timeoutMs: 5000 });
  } finally {
    raw.destroy();
  }
}

/** Waits until the server closed the stream (or the socket), at most `ms`. */
async function settle(raw: RawClient, ms: number): Promise<void> {
  await raw.waitFor((t) => t.includes('</stream:stream>'), ms).catch(() => undefined);
  await raw.closed(ms).catch(() => undefined);
}

const STANZA_TYPES: Record<string, Array<string | undefined>> = {
  iq: ['get', 'set', 'get', 'set', 'result', 'error', 'bogus'],
  message: [undefined, 'chat', 'normal', 'groupchat', 'headline', 'error', 'bogus'],
  presence: [undefined, 'unavailable', 'subscribe', 'probe', 'error', 'bogus'],
};

/** Addresses for stanzas after login (no MUC domain: no room worker runs here). */
function targets(self: string): Array<string | undefined> {
  const bare = self.split('/')[0]!;
  return [undefined, DOMAIN, bare, self, 'bob@localhost', 'bob@localhost/r', 'nobody@localhost', 'x@other.example', 'a@@b', '', `${DOMAIN}/res`, '__proto__@localhost', 'constructor@localhost/__proto__', `${'x'.repeat(1100)}@localhost`];
}

interface PostLoginStanza {
  el: GenElement;
  to: number;
  type: number;
  spoofFrom: boolean;
}

const genPostLogin: fc.Arbitrary<PostLoginStanza[]> = fc.array(
  fc.record({ el: genStanza, to: fc.nat({ max: 13 }), type: fc.nat({ max: 6 }), spoofFrom: fc.nat({ max: 15 }).map((n) => n === 0) }),
  { minLength: 1, maxLength: 6 },
);

/** Writes a generated stanza with the given id, `to` and type (other generated attributes kept). */
function writeStanza(s: PostLoginStanza, id: string, self: string): { xml: string; type: string | undefined; name: string } {
  const types = STANZA_TYPES[s.el.name]!;
  const type = types[s.type % types.length];
  const to = targets(self)[s.to % targets(self).length];
  const reserved = new Set(['id', 'to', 'type', 'from', 'xmlns']);
  const attrs: Array<[string, string]> = [['id', id]];
  if (to !== undefined) attrs.push(['to', to]);
  if (type !== undefined) attrs.push(['type', type]);
  if (s.spoofFrom) attrs.push(['from', 'mallory@localhost/evil']);
  for (const [k, v] of s.el.attrs) if (!reserved.has(k)) attrs.push([k, v]);
  return { xml: writeElement({ ...s.el, ns: undefined, attrs }), type, name: s.el.name };
}

function byId(children: Element[], name: string, id: string): Element | undefined {
  return children.find((c) => c.name === name && c.attrs.id === id);
}

export function gatewayProperties(gw: GatewayProcess, user: string, password: string): FuzzProperty[] {
  return [
    {
      name: 'before login: each restricted or malformed construct gets its stream error, then the stream is closed',
      property: fc.asyncProperty(fc.constantFrom(...BAD_CONSTRUCTS), genChunking, async (bad, sizes) => {
        const raw = await RawClient.connect(gw.c2sPort);
        try {
          // Something follows the construct, as it would from a client: character data is
          // only known to have ended (and be refused) when the next markup arrives.
          const parts: Array<string | Buffer> = bad.where === 'between' ? [HEADER, bad.text, '<presence/>'] : [HEADER, "<iq type='get' id='f1'>", bad.text, '</iq>'];
          const bytes = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
          await raw.pump(chunk(bytes, sizes.map((n) => Math.min(n, 64))));
          await raw.waitFor((t) => t.includes('</stream:stream>'), 5000);
          await raw.closed(5000);
          const err = streamError(raw.text);
          assert.equal(err?.condition, bad.condition, `${bad.what}: got ${raw.text.slice(-400)}`);
        } finally {
          raw.destroy();
        }
      }),
    },
    {
      name: 'before login: a mutated stream the parser refuses gets a stream error; no connection is closed without one',
      property: fc.asyncProperty(genStream, genMutations, genChunking, async (s, mutations, sizes) => {
        const bytes = mutate(Buffer.from(writeStream(s), 'utf8'), mutations);
        const local = runParser([bytes]).events;
        const refused = local.at(-1)?.startsWith('error') === true;
        const raw = await RawClient.connect(gw.c2sPort);
        try {
          await raw.pump(chunk(bytes, sizes.map((n) => Math.min(n, 512))));
          await settle(raw, refused ? 5000 : 300);
          if (refused) assert.ok(streamError(raw.text), `parser says ${local.at(-1)}, server sent no stream error: ${raw.text.slice(-400)}`);
          if (raw.isClosed && raw.endedByServer) {
            assert.ok(streamError(raw.text) !== undefined || raw.text.includes('</stream:stream>'), `closed without a stream error: ${raw.text.slice(-400)}`);
          }
          const err = streamError(raw.text);
          assert.notEqual(err?.condition, 'internal-server-error', raw.text.slice(-400));
        } finally {
          raw.destroy();
        }
      }),
    },
    {
      name: 'after login: random stanzas; every iq request answered, a message to self round-trips, the session survives',
      property: fc.asyncProperty(genPostLogin, xmlChars, async (stanzas, body) => {
        const raw = await RawClient.connect(gw.c2sPort);
        try {
          const run = ++runCounter;
          const { jid: self } = await loginPlain(raw, { domain: DOMAIN, user, password, resource: `fuzz-${run}` });
          const from = raw.length;
          const expectIq: string[] = [];
          let out = '';
          stanzas.forEach((s, k) => {
            const id = `f${run}-${k}`;
            const w = writeStanza(s, id, self);
            if (w.name === 'iq' && w.type !== 'result' && w.type !== 'error') expectIq.push(id);
            out += w.xml;
          });
          const selfId = `self-${run}`;
          out += `<message to='${escapeAttr(self, "'")}' id='${selfId}' type='chat'><body>${escapeText(body, false)}</body></message>`;
          out += `<iq type='get' id='ping-${run}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`;
          await raw.send(out);
          const done = (text: string): boolean => {
            if (text.includes('<stream:error')) return true;
            const kids = streamChildren(text);
            return byId(kids, 'iq', `ping-${run}`) !== undefined && byId(kids, 'message', selfId) !== undefined && expectIq.every((id) => byId(kids, 'iq', id) !== undefined);
          };
          await raw.waitFor(done, { from, timeoutMs: 10_000 });
          const received = raw.text.slice(from);
          const err = streamError(received);
          if (err !== undefined) {
            const spoofed = stanzas.some((st) => st.spoofFrom);
            const ok = TOLERATED_AFTER_LOGIN.has(err.condition ?? '') || (spoofed && err.condition === 'invalid-from');
            assert.ok(ok, `stream error ${String(err.condition)} after ${out.slice(0, 600)}`);
            stats.streamErrors++;
            return;
          }
          const kids = streamChildren(received);
          for (const id of expectIq) {
            const reply = byId(kids, 'iq', id)!;
            assert.ok(['result', 'error', 'get', 'set'].includes(reply.attrs.type as string), reply.toString());
          }
          const echoed = byId(kids, 'message', selfId)!;
          const got = echoed.getChildText('body') ?? '';
          // A CR sent as &#13; may come back as a line feed: the known serialize bug
          // (packages/xml/test/fuzz/stream-parser-properties.ts serializeAttrWhitespaceProperty).
          if (got !== body && body.includes('\r')) assert.equal(got.replace(/\r\n?/g, '\n'), body.replace(/\r\n?/g, '\n'));
          else assert.equal(got, body, echoed.toString());
          stats.checked++;
        } finally {
          raw.destroy();
        }
      }),
    },
  ];
}
