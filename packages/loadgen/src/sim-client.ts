/**
 * One simulated client: connects (TCP or WebSocket), logs in (RFC 6120 §6 SASL PLAIN
 * (RFC 4616) or SCRAM-SHA-1 (RFC 5802), stream restart §6.4.6, resource binding §7, the
 * legacy session of RFC 3921 §3 when offered without `<optional/>`, initial presence RFC
 * 6121 §4.2 if asked), joins its room (XEP-0045 §7.2: presence to room/nick, done on the
 * self-presence with status 110; status 201 means the room is new and locked, and the
 * owner then submits the instant-room form, §10.1.2), then sends and receives groupchat.
 *
 * The connection, its framing and the login are @parley/client's (XmppConnection, login):
 * its TCP framing is a scanner that splits the stream into element strings without parsing,
 * and after login {@link XmppConnection.deliverTo} hands those strings straight to this
 * client, so sharing costs the hot path two function calls and a length check per element.
 * Measured when it moved (300 000 groupchat messages of 367 bytes over loopback TCP, medians
 * of 7 alternating runs, shared 2-core machine): the old loadgen-only transport 238 / 388 ms,
 * the shared one 249 / 362 ms, i.e. no difference beyond noise. Login and join parse
 * elements with ltx.
 * Afterwards the receive path does not parse: a `<message` is scanned with indexOf for its
 * body and the stamp in it.
 * With XEP-0198 (scenario `resume`): `<enable resume='true'/>` after binding, every received
 * stanza counted into `h` as it is handled, `<r/>` answered with `<a h/>`, own stanzas kept
 * until acknowledged; {@link SimClient.dropAndResume} destroys the socket and resumes on
 * another target (§5).
 */
import { Element, escapeXML, parse as ltxParse } from 'ltx';
import { authenticate, ClientError, login, openStream, splitTarget, stanzaCondition, streamCondition, XmppConnection } from '@parley/client';
import { decodeStampAt, encodeStamp, stampPrefix, type BodyStamp } from './body-stamp.js';
import { nowUs } from './clock.js';

export { stanzaCondition };

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_PING = 'urn:xmpp:ping';
const NS_SM = 'urn:xmpp:sm:3';
/** Bound of the client's own unacknowledged stanzas (XEP-0198 §4); past it the client fails. */
const MAX_UNACKED_OUT = 10_000;

/** A failure with the phase it happened in (`connect`, `login`, `bind`, `sm`, `join`, `configure`, `resume`). */
export class PhaseError extends Error {
  readonly phase: string;
  readonly reason: string;

  constructor(phase: string, reason: string) {
    super(`${phase}: ${reason}`);
    this.phase = phase;
    this.reason = reason;
  }
}

/** What a client reports to its worker. */
export interface ClientHooks {
  /** A groupchat message carrying a stamp of this run reached `client` at `recvUs`. */
  onDelivery(client: SimClient, stamp: BodyStamp, recvUs: number): void;
  /** A stanza of type error arrived; `kind` is message / presence / iq. */
  onStanzaError(kind: string, condition: string): void;
  /** The connection dropped (or the client left its room) after login. */
  onDropped(client: SimClient, reason: string): void;
}

/** Static settings shared by the clients of a run. */
export interface ClientConfig {
  transport: 'tcp' | 'websocket';
  websocketPath: string;
  domain: string;
  password: string;
  mechanism: 'PLAIN' | 'SCRAM-SHA-1';
  initialPresence: boolean;
  runId: string;
  bodyBytes: number;
}

/** One simulated XMPP client. */
export class SimClient {
  /** Client index in the scenario. */
  readonly index: number;
  /** Room index, -1 when roomless. */
  readonly room: number;
  /** Local receive slot (index in the worker's client list). */
  readonly slot: number;
  /** Full JID once bound. */
  jid = '';
  loggedIn = false;
  joined = false;
  /** Messages sent so far (the next sequence number). */
  sent = 0;
  #transport: XmppConnection | undefined;
  #live = false;
  #closing = false;
  #closeReason = '';
  #closed = false;
  #roomJid = '';
  #occupantJid = '';
  #join: { resolve: (created: boolean) => void; reject: (e: PhaseError) => void } | undefined;
  #iqWaiters = new Map<string, (el: Element) => void>();
  // XEP-0198 state (only when enabled): SM-ID, stanzas handled (inbound h, §4), how many of
  // ours the server acknowledged and the ones it has not yet (re-sent after resuming, §5).
  #smId = '';
  #inH = 0;
  #outAcked = 0;
  #unacked: string[] = [];
  #ackEvery = 5;
  #sinceRequest = 0;
  /** Set while a drop-and-resume runs: stanzas are queued, not written. */
  #resuming = false;
  /** Index of the target this client is connected to now. */
  targetIndex = 0;
  /** Resumptions done. */
  resumptions = 0;
  readonly #config: ClientConfig;
  readonly #hooks: ClientHooks;
  readonly #prefix: string;
  readonly #scratch: BodyStamp = { sender: 0, seq: 0, sendUs: 0 };

  constructor(index: number, room: number, slot: number, config: ClientConfig, hooks: ClientHooks) {
    this.index = index;
    this.room = room;
    this.slot = slot;
    this.#config = config;
    this.#hooks = hooks;
    this.#prefix = stampPrefix(config.runId);
  }

  /**
   * Connects and logs in; resolves with the connect and login durations, µs. With `sm`,
   * enables XEP-0198 stream management with resumption (§3) after binding, before the
   * initial presence, and asks for an ack (`<r/>`) after every `sm.ackEvery` stanzas sent.
   * @throws PhaseError `connect`, `login`, `bind` or `sm` (`<failed/>` or no `resume`/`id` in `<enabled/>`)
   */
  async login(target: string, username: string, timeoutMs: number, sm?: { ackEvery: number }): Promise<{ connectUs: number; loginUs: number }> {
    const deadline = Date.now() + timeoutMs;
    const t0 = nowUs();
    const { host, port } = splitTarget(target);
    try {
      this.#transport = await XmppConnection.connect({ kind: this.#config.transport, host, port, path: this.#config.websocketPath, timeoutMs });
    } catch (err) {
      throw err instanceof ClientError ? new PhaseError('connect', err.reason) : err;
    }
    const t1 = nowUs();
    const t = this.#transport;
    t.onClose((reason) => this.#onClose(t, reason));
    try {
      const bound = await login(t, {
        domain: this.#config.domain,
        user: username,
        password: this.#config.password,
        mechanism: this.#config.mechanism,
        resource: 'lg',
        deadline,
        ids: { bind: 'b1', session: 's1' },
      });
      this.jid = bound.jid;
      if (sm) await this.#enableSm(t, sm.ackEvery, deadline);
    } catch (err) {
      throw err instanceof ClientError ? new PhaseError(err.phase, err.reason) : err;
    }
    if (this.#config.initialPresence) this.send('<presence/>');
    this.#live = true;
    // What arrived during login and was not taken is dropped, as before the shared client;
    // with stream management what came after <enabled/> is counted (§4), so it is kept.
    t.deliverTo((xml) => this.#onElement(xml), sm !== undefined);
    this.loggedIn = true;
    return { connectUs: t1 - t0, loginUs: nowUs() - t1 };
  }

  /**
   * Enters `roomJid` as `nick`; when the room turns out to be new (status 201) and
   * `configureInstant`, submits the instant-room form (XEP-0045 §10.1.2), or `config`'s
   * fields (§10.2) when it has any, before resolving.
   * @returns the join duration (presence sent → 110 received, plus the configuration), µs, and whether the room was created
   * @throws PhaseError `join` (presence error or timeout) or `configure`
   */
  join(roomJid: string, nick: string, configureInstant: boolean, timeoutMs: number, config: Readonly<Record<string, readonly string[]>> = {}): Promise<{ joinUs: number; created: boolean }> {
    this.#roomJid = roomJid;
    this.#occupantJid = `${roomJid}/${nick}`;
    const t0 = nowUs();
    return new Promise<{ joinUs: number; created: boolean }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#join = undefined;
        reject(new PhaseError('join', `no self-presence within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#join = {
        resolve: (created) => {
          this.#join = undefined;
          if (!created || !configureInstant) {
            clearTimeout(timer);
            this.joined = true;
            resolve({ joinUs: nowUs() - t0, created });
            return;
          }
          const id = `cfg${this.index}`;
          this.#iqWaiters.set(id, (el) => {
            clearTimeout(timer);
            if (el.attrs.type === 'result') {
              this.joined = true;
              resolve({ joinUs: nowUs() - t0, created });
            } else reject(new PhaseError('configure', stanzaCondition(el)));
          });
          this.send(`<iq type='set' to='${roomJid}' id='${id}'><query xmlns='${NS_MUC_OWNER}'>${configForm(config)}</query></iq>`);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.#join = undefined;
          reject(e);
        },
      };
      if (this.#closed) this.#join.reject(new PhaseError('join', `connection closed: ${this.#closeReason}`));
      else this.send(`<presence to='${this.#occupantJid}'><x xmlns='${NS_MUC}'><history maxstanzas='0'/></x></presence>`);
    });
  }

  /** Sends groupchat message number `this.sent` with a fresh stamp; returns its sequence number. */
  sendGroupchat(): number {
    const seq = this.sent++;
    const body = encodeStamp(this.#config.runId, { sender: this.index, seq, sendUs: nowUs() }, this.#config.bodyBytes);
    this.send(`<message to='${this.#roomJid}' type='groupchat' id='${seq}'><body>${body}</body></message>`);
    return seq;
  }

  /** Bytes this client wrote that its connection has not sent yet (0 when not connected). */
  get pendingBytes(): number {
    return this.#transport?.pendingBytes ?? 0;
  }

  /**
   * Writes one stanza or nonza. With stream management enabled a stanza is also kept until
   * the server acknowledges it (XEP-0198 §4), and while the client resumes it is only kept
   * (written after `<resumed/>`, §5). More than 10,000 unacknowledged stanzas end the
   * connection, reported through `onDropped`.
   */
  send(xml: string): void {
    if (this.#smId !== '' && isStanza(xml)) {
      if (this.#closed) return;
      if (this.#unacked.length >= MAX_UNACKED_OUT) {
        const t = this.#transport;
        this.#transport = undefined;
        this.#closed = true;
        this.#closeReason = `more than ${MAX_UNACKED_OUT} stanzas unacknowledged by the server`;
        t?.destroy();
        this.#hooks.onDropped(this, this.#closeReason);
        return;
      }
      this.#unacked.push(xml);
      if (this.#resuming) return;
      this.#transport?.send(xml);
      if (++this.#sinceRequest >= this.#ackEvery) {
        this.#sinceRequest = 0;
        this.#transport?.send(`<r xmlns='${NS_SM}'/>`);
      }
      return;
    }
    if (!this.#resuming) this.#transport?.send(xml);
  }

  /** Whether XEP-0198 resumption is enabled on this client's stream. */
  get resumable(): boolean {
    return this.#smId !== '';
  }

  /** Whether a drop-and-resume is in progress. */
  get resuming(): boolean {
    return this.#resuming;
  }

  /** Sends `<enable resume='true'/>` and waits for `<enabled/>` (XEP-0198 §3). */
  async #enableSm(t: XmppConnection, ackEvery: number, deadline: number): Promise<void> {
    t.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
    for (;;) {
      const { el, xml } = await t.next(Math.max(1, deadline - Date.now()), 'sm enabled');
      if (el.name === 'failed') throw new PhaseError('sm', `enable failed: ${smCondition(el)}`);
      if (el.name !== 'enabled') continue;
      const id = el.attrs.id as string | undefined;
      if (!id || (el.attrs.resume !== 'true' && el.attrs.resume !== '1')) throw new PhaseError('sm', `no resumption offered: ${xml}`);
      this.#smId = id;
      this.#ackEvery = ackEvery;
      return;
    }
  }

  /**
   * Drops the connection abruptly (socket destroyed, no `</stream>`), connects to `target`,
   * authenticates and resumes the stream there (XEP-0198 §5: `<resume previd h/>`), then
   * re-sends what the server's `h` in `<resumed/>` does not cover. Received stanzas are
   * counted into `h` as they are handled, so nothing is handled twice or skipped.
   * @returns drop → `<resumed/>` received, µs
   * @throws PhaseError `resume` (`<failed/>` with its condition, timeout, connection closed) or `connect`
   */
  async dropAndResume(target: string, targetIndex: number, username: string, timeoutMs: number): Promise<number> {
    if (this.#smId === '' || this.#resuming || this.#closed) throw new PhaseError('resume', 'stream management not enabled or connection closed');
    const deadline = Date.now() + timeoutMs;
    this.#resuming = true;
    const old = this.#transport;
    this.#transport = undefined;
    const t0 = nowUs();
    old?.destroy();
    const { host, port } = splitTarget(target);
    let t: XmppConnection;
    try {
      t = await XmppConnection.connect({ kind: this.#config.transport, host, port, path: this.#config.websocketPath, timeoutMs });
    } catch (err) {
      this.#failResume();
      throw err instanceof ClientError ? new PhaseError('connect', err.reason) : err;
    }
    try {
      await openStream(t, this.#config.domain, { deadline });
      await authenticate(t, { user: username, password: this.#config.password, mechanism: this.#config.mechanism, deadline });
      await openStream(t, this.#config.domain, { deadline });
      t.send(`<resume xmlns='${NS_SM}' previd='${escapeAttr(this.#smId)}' h='${this.#inH >>> 0}'/>`);
      let answer: Element;
      for (;;) {
        const got = await t.next(Math.max(1, deadline - Date.now()), 'resumed');
        if (got.el.name === 'resumed' || got.el.name === 'failed') {
          answer = got.el;
          break;
        }
      }
      if (answer.name === 'failed') throw new PhaseError('resume', `failed: ${smCondition(answer)}`);
      const resumeUs = nowUs() - t0;
      if (this.#closing) {
        t.destroy();
        this.#failResume();
        return resumeUs;
      }
      this.#transport = t;
      this.targetIndex = targetIndex;
      t.onClose((reason) => this.#onClose(t, reason));
      this.#ackedUpTo(Number(answer.attrs.h));
      this.#resuming = false;
      // §5: what the server did not handle is sent again, in order.
      for (const xml of this.#unacked) t.send(xml);
      if (this.#unacked.length) t.send(`<r xmlns='${NS_SM}'/>`);
      this.#sinceRequest = 0;
      this.resumptions++;
      // Stanzas that came right behind <resumed/> are handled first, in order.
      t.deliverTo((xml) => this.#onElement(xml), true);
      return resumeUs;
    } catch (err) {
      t.destroy();
      this.#failResume();
      throw err instanceof ClientError ? new PhaseError('resume', err.reason) : err;
    }
  }

  #failResume(): void {
    this.#resuming = false;
    this.#closed = true;
    this.#closeReason = 'resumption failed';
  }

  /** The server acknowledged `h` of the stanzas this client sent (XEP-0198 §4, mod 2^32). */
  #ackedUpTo(h: number): void {
    if (!Number.isInteger(h) || h < 0) return;
    const done = (h - this.#outAcked) >>> 0;
    if (done > this.#unacked.length) return; // more than was sent: ignored here (a server bug shows as loss or duplicates)
    this.#unacked.splice(0, done);
    this.#outAcked = (this.#outAcked + done) >>> 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the stream politely; resolves when the connection is closed (at most `timeoutMs`). */
  async close(timeoutMs = 3000): Promise<void> {
    this.#closing = true;
    if (!this.#transport || this.#closed) return;
    this.#transport.close();
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.#closed) this.#transport.destroy();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#closing = true;
    this.#transport?.destroy();
  }

  // --- receive ---------------------------------------------------------------------------

  #onElement(xml: string): void {
    if (this.#smId !== '') {
      if (isStanza(xml)) this.#inH = (this.#inH + 1) >>> 0;
      else if (xml.startsWith('<r') && (xml.charCodeAt(2) === 32 || xml.charCodeAt(2) === 47)) {
        this.#transport?.send(`<a xmlns='${NS_SM}' h='${this.#inH}'/>`);
        return;
      } else if (xml.startsWith('<a') && xml.charCodeAt(2) === 32) {
        this.#ackedUpTo(Number(/\sh=['"](\d+)['"]/.exec(xml)?.[1] ?? NaN));
        return;
      }
    }
    if (xml.startsWith('<message')) this.#onMessage(xml);
    else if (xml.startsWith('<presence')) this.#onPresence(xml);
    else if (xml.startsWith('<iq')) this.#onIq(xml);
    else if (xml.startsWith('<stream:error') || xml.startsWith('<error')) {
      this.#hooks.onStanzaError('stream', streamCondition(parse(xml)));
    }
  }

  /** The hot path: no parse, only indexOf. */
  #onMessage(xml: string): void {
    const tagEnd = xml.indexOf('>');
    const type = xml.indexOf('type=', 9);
    if (type > 0 && type < tagEnd && xml.startsWith('error', type + 6)) {
      const el = parse(xml);
      this.#hooks.onStanzaError('message', stanzaCondition(el));
      return;
    }
    const body = xml.indexOf('<body', tagEnd);
    if (body < 0) return;
    const gt = xml.indexOf('>', body);
    if (gt < 0 || xml.charCodeAt(gt - 1) === 47) return;
    if (decodeStampAt(xml, gt + 1, this.#prefix, this.#scratch)) this.#hooks.onDelivery(this, this.#scratch, nowUs());
  }

  #onPresence(xml: string): void {
    const pending = this.#join;
    if (pending === undefined) {
      // Joined: only our own unavailable self-presence matters (kicked, room destroyed).
      if (this.joined && xml.includes('110') && xml.includes('unavailable')) {
        const el = parse(xml);
        if (el.attrs.from === this.#occupantJid && el.attrs.type === 'unavailable') {
          this.joined = false;
          this.#hooks.onDropped(this, 'left the room (unavailable self-presence)');
        }
      }
      return;
    }
    // Other occupants' presence floods in during a join (n per joiner): skip it unparsed.
    // Ours (self-presence or error) is from room/nick, quoted: n1 must not match n10.
    if (!xml.includes(`${this.#occupantJid}'`) && !xml.includes(`${this.#occupantJid}"`) && !xml.includes(`from='${this.#roomJid}'`) && !xml.includes(`from="${this.#roomJid}"`)) return;
    const el = parse(xml);
    if (el.attrs.type === 'error') {
      if (el.attrs.from === this.#occupantJid || el.attrs.from === this.#roomJid) {
        const condition = stanzaCondition(el);
        this.#hooks.onStanzaError('presence', condition);
        pending.reject(new PhaseError('join', condition));
      }
      return;
    }
    if (el.attrs.from !== this.#occupantJid) return;
    const codes = (el.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => s.attrs.code as string);
    if (codes.includes('110')) pending.resolve(codes.includes('201'));
  }

  #onIq(xml: string): void {
    const el = parse(xml);
    const id = el.attrs.id as string | undefined;
    const type = el.attrs.type as string | undefined;
    if (type === 'result' || type === 'error') {
      const waiter = id === undefined ? undefined : this.#iqWaiters.get(id);
      if (waiter && id !== undefined) {
        this.#iqWaiters.delete(id);
        waiter(el);
      } else if (type === 'error') this.#hooks.onStanzaError('iq', stanzaCondition(el));
      return;
    }
    // A request from the server: answer pings, refuse the rest (RFC 6120 §8.2.3).
    const from = el.attrs.from ? ` to='${el.attrs.from}'` : '';
    const idAttr = id === undefined ? '' : ` id='${escapeAttr(id)}'`;
    if (el.getChild('ping', NS_PING)) this.send(`<iq type='result'${from}${idAttr}/>`);
    else this.send(`<iq type='error'${from}${idAttr}><error type='cancel'><service-unavailable xmlns='${NS_STANZAS}'/></error></iq>`);
  }

  #onClose(t: XmppConnection, reason: string): void {
    if (t !== this.#transport) return; // a connection this client dropped on purpose to resume
    this.#closed = true;
    this.#closeReason = reason;
    this.#join?.reject(new PhaseError('join', `connection closed: ${reason}`));
    if (this.#live && !this.#closing) this.#hooks.onDropped(this, reason);
  }
}

/** Whether a top-level element is a stanza (counted by XEP-0198 §4), not a nonza. */
function isStanza(xml: string): boolean {
  return xml.startsWith('<message') || xml.startsWith('<presence') || xml.startsWith('<iq');
}

/** The condition element's name in a `<failed/>` (XEP-0198 §3, §5), or `unknown`. */
function smCondition(el: Element): string {
  return el.children.find((c): c is Element => typeof c !== 'string')?.name ?? 'unknown';
}

function parse(xml: string): Element {
  try {
    return ltxParse(xml) as Element;
  } catch {
    return new Element('unparsable');
  }
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');

/** The owner's form submission: empty (instant room, XEP-0045 §10.1.2) or the given fields (§10.2). */
function configForm(config: Readonly<Record<string, readonly string[]>>): string {
  const fields = Object.entries(config);
  if (!fields.length) return `<x xmlns='jabber:x:data' type='submit'/>`;
  const field = (v: string, values: readonly string[]) => `<field var='${escapeXML(v)}'>${values.map((x) => `<value>${escapeXML(x)}</value>`).join('')}</field>`;
  return `<x xmlns='jabber:x:data' type='submit'>${field('FORM_TYPE', ['http://jabber.org/protocol/muc#roomconfig'])}${fields.map(([v, values]) => field(v, values)).join('')}</x>`;
}
