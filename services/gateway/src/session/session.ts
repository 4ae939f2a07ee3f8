import { randomBytes } from 'node:crypto';
import { clone, Element } from 'ltx';
import type { Logger } from 'pino';
import type { SessionRecord } from '@parley/bus';
import type { Config } from '@parley/config';
import { tryParseJid, type Jid } from '@parley/jid';
import { createMechanism, PLUS_MECHANISMS, SUPPORTED_MECHANISMS, type ChannelBinding, type SaslStep, type ServerMechanism } from '@parley/sasl';
import { errorReply, iqResult, stanzaKind, streamError, type StanzaErrorCondition, type StreamErrorCondition } from '@parley/stanza';
import { NS, parseOwnElement, serialize, type XmlError } from '@parley/xml';
import { accountJid, type HostSasl } from '../auth/sasl-backends.js';
import type { SessionMetrics } from '../metrics/gateway-metrics.js';
import type { LocalSession, LocalSessions, SessionRecordPatch } from '../routing/local-sessions.js';
import type { OfflineStore } from '../routing/offline-store.js';
import type { Router } from '../routing/router.js';
import type { SessionRegistry } from '../routing/session-registry.js';
import type { SharedStanza } from '../routing/shared-stanza.js';
import type { Transport, StreamAttrs } from '../transport/transport.js';
import { addressOfRemote } from '../transport/address-limits.js';
import { AuthThrottled, type AuthAttempt, type AuthThrottle } from './auth-throttle.js';
import { InputFlow } from './input-flow.js';
import { postAuthFeatures, preAuthFeatures } from './stream-features.js';
import type { PresenceService } from '../roster/presence.js';
import { REGISTER_FEATURE_NS, REGISTER_NS, stampAvatar, type AccountServices } from '../account/index.js';
import { CSI_NS, CsiQueue, csiVerdict } from '../csi/csi-queue.js';
import type { PepService } from '../pep/pep.js';
import { parseH, SM_NS, SmState } from '../sm/sm-state.js';
import type { SmTakeover } from '../sm/sm-takeover.js';
import { WatchedSet, type SmStore, type StoredItem } from '../sm/sm-store.js';
import type { Claimed, SmOrphans } from '../sm/sm-orphans.js';
import { deliveryInProgress } from '../routing/delivery-consumer.js';
import { failedLoginFields } from './login-log.js';
import { SessionLog } from './session-log.js';

/** XEP-0203 delayed delivery. */
const DELAY_NS = 'urn:xmpp:delay';

/** Failed SASL attempts allowed before the stream is closed (RFC 6120 §6.4.5: 2 to 5). */
export const MAX_AUTH_FAILURES = 3;

export interface SessionDeps {
  config: Config;
  gatewayId: string;
  /**
   * SASL per virtual host, keyed by domainpart: the session uses its stream's `to` host's
   * entry (RFC 6120 §4.7.2, §6.4.6), so each host authenticates only its own accounts.
   */
  sasl: ReadonlyMap<string, HostSasl>;
  router: Router;
  registry: SessionRegistry;
  offline: OfflineStore;
  local: LocalSessions;
  log: Logger;
  now: () => number;
  /** Called once when the session has ended and cleaned up after itself. */
  onEnded: (session: ClientSession) => void;
  /** Counters (issue #4); none when absent. */
  metrics?: SessionMetrics;
  /** Called once when SASL succeeds (the per-address unauthenticated count, issue #10). */
  onAuthenticated?: (session: ClientSession) => void;
  /** Failed-authentication counters per address and account (issue #10); none when absent. */
  authThrottle?: AuthThrottle;
  /** vCard avatars, last activity, in-band registration and caps (issue #11); none when absent. */
  accountServices?: AccountServices;
  /** Presence with rosters: subscriptions, broadcast to contacts, probes (RFC 6121 §3, §4); none: own resources only. */
  presence?: PresenceService;
  /** XEP-0163 PEP: caps discovery and last items when the session becomes available; none when absent. */
  pep?: PepService;
  /**
   * XEP-0198 §5: this gateway's resumable sessions by SM-ID (connected or detached); one map
   * per gateway. Absent: stream management is offered without resumption.
   */
  resumable?: Map<string, ClientSession>;
  /** XEP-0198 §5 resumption of sessions held by other gateways; absent: only this gateway's. */
  smTakeover?: SmTakeover;
  /** XEP-0198 state in Redis (issue #13), so that a resumption works after this gateway died; absent: memory only. */
  smStore?: SmStore;
  /** Resumption of sessions whose gateway died (orphans, see sm/sm-orphans.ts); absent: `item-not-found` then. */
  smOrphans?: SmOrphans;
  /**
   * How long a resumption waits for the reap of a dead gateway that held the session, ms
   * (about `gateway.deadAfterMs` + a few heartbeats); the client waits for `<resumed/>` meanwhile.
   */
  smOrphanWaitMs?: number;
}

/** How long a session handed over to another gateway forwards what still arrives for it here, ms. */
const FORWARD_MS = 60_000;

/** One stanza sent to the client under XEP-0198 (kept until acknowledged), with when it was sent (ms). */
type Outbound = ({ el: Element } | { shared: SharedStanza; to: string }) & { at: number };

/** What a resuming stream takes over from the session it resumes (XEP-0198 §5). */
interface HandOver {
  jid: Jid;
  record: SessionRecord;
  sessionId: string;
  rooms: string[];
  sm: SmState<Outbound>;
  smId: string;
  smMaxSec: number;
  unavailableStatus: string;
  /**
   * Claimed after its gateway died: that gateway may have written a stanza to the client
   * and died before its copy reached Redis, so an `h` above our count acknowledges all.
   */
  afterCrash?: boolean;
}

/** Server-originated iq requests to the client that may wait for an answer at once (XEP-0115 disco#info). */
const MAX_PENDING_REQUESTS = 4;

/**
 * `detached`: XEP-0198 §5, the connection of a resumable session dropped without
 * `</stream>`; the session keeps its resource, presence and rooms and queues what it gets.
 * `resuming`: the stream waits for another gateway to hand over the session it resumes;
 * what arrives for that session meanwhile is held and sent after the handed-over stanzas.
 */
type State = 'awaiting-header' | 'negotiating' | 'awaiting-restart' | 'binding' | 'resuming' | 'bound' | 'detached' | 'closed';

const newId = (bytes = 9) => randomBytes(bytes).toString('base64url');

/**
 * One client-to-server session (RFC 6120): stream negotiation, SASL, resource binding,
 * then stanza routing; the same state machine serves TCP and WebSocket transports.
 * Elements are handled strictly one at a time in arrival order (a per-session queue), so
 * a client's stanzas leave in the order they came.
 */
export class ClientSession implements LocalSession {
  /** Unique id of the session; a resumption (XEP-0198 §5) carries it over to the new stream. */
  sessionId = newId();
  /** The rooms the session is in; mirrored to Redis (`KeySpace.smRooms`) while resumable. */
  readonly rooms = new WatchedSet();
  private state: State = 'awaiting-header';
  private domain: string | undefined;
  private headerSent = false;
  private mechanism: ServerMechanism | undefined;
  /** The mechanism named by the last `<auth/>`, for the metrics. */
  private mechanismName = '';
  private authFailures = 0;
  private authenticated: Jid | undefined;
  private jid: Jid | undefined;
  private record: SessionRecord | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** The session's logger (its pino child is made at its first line written, issue #15). */
  private log: SessionLog;
  /** Ends a stream not bound in time; dropped once cleared, so that a bound session does not keep it (issue #15). */
  private authTimer: NodeJS.Timeout | undefined;
  /** Rate limits and the queue bound on what the client sends (issue #10). */
  private readonly flow: InputFlow;
  /** The client's IP address (per-address auth throttling). */
  private readonly address: string;
  /** The account the current SASL exchange names, once its mechanism has read it. */
  private readonly attempt: AuthAttempt = { account: undefined };
  /** XEP-0352: while the client is inactive, what is held back for it; undefined while active. */
  private csi: CsiQueue<() => void> | undefined;
  /**
   * Iq requests this server sent the client (see {@link request}), by id; made on the first
   * request (issue #15: most sessions never get one, and an empty Map costs about 250 bytes).
   */
  private pendingRequests: Map<string, (reply: Element | undefined) => void> | undefined;
  /** XEP-0198 counters and unacknowledged stanzas, once the client sent `<enable/>`. */
  private sm: SmState<Outbound> | undefined;
  /** XEP-0198 §5 SM-ID, when resumption was granted. */
  private smId: string | undefined;
  /** The resumption window granted, seconds (the `max` of `<enabled/>`). */
  private smMaxSec = 0;
  /** Stanzas sent since our last `<r/>` (XEP-0198 §4). */
  private smSinceRequest = 0;
  private smAckTimer: NodeJS.Timeout | undefined;
  /** Ends a detached session when its resumption window is over. */
  private detachTimer: NodeJS.Timeout | undefined;
  /** What arrived for the session while `resuming` (bounded in time by the takeover wait). */
  private early: Outbound[] = [];
  /** Once handed over to another gateway: where what still arrives here is forwarded. */
  private forwardTo: { jid: string; record: SessionRecord } | undefined;

  constructor(private readonly transport: Transport, private readonly d: SessionDeps) {
    this.log = this.childLog();
    this.address = addressOfRemote(transport.remote);
    const limits = d.config.limits;
    const reading = {
      pauseReading: () => {
        d.metrics?.limit('input-paused');
        transport.pauseReading();
      },
      resumeReading: () => transport.resumeReading(),
    };
    this.flow = new InputFlow(reading, {
      bytesPerSecond: limits.bytesPerSecond,
      burstBytes: limits.burstBytes,
      stanzasPerSecond: limits.stanzasPerSecond,
      burstStanzas: limits.burstStanzas,
      maxQueued: limits.maxQueuedStanzas,
    });
    transport.setMaxElementBytes(d.config.limits.maxPreAuthBytes);
    transport.attach({
      onBytes: (n) => this.flow.onBytes(n),
      onSendOverflow: () => {
        this.log.info({ condition: 'resource-constraint' }, 'client does not read what is sent; closing');
        this.d.metrics?.limit('slow-reader-closed');
        this.fail('resource-constraint', 'you are not reading what the server sends');
      },
      onStreamStart: (attrs, ns) => this.enqueue(() => this.onStreamStart(attrs, ns)),
      onElement: (el) => this.enqueue(() => this.onElement(el)),
      onStreamEnd: () => this.enqueue(async () => this.onStreamEnd()),
      onXmlError: (err) => this.enqueue(async () => this.onXmlError(err)),
      onIdle: () => this.onIdle(),
      onClosed: () => this.onConnectionLost(),
    });
    this.authTimer = setTimeout(() => {
      if (this.state !== 'bound') this.fail('connection-timeout', 'authentication took too long');
    }, d.config.gateway.authTimeoutMs).unref();
    this.log.debug('connected');
  }

  /** The session's logger: every line carries the session id, transport, address and JID (as of now). */
  private childLog(jid?: string): SessionLog {
    return new SessionLog(this.d.log, this.sessionId, this.transport.kind, this.transport.remote, jid);
  }

  /** How the client is connected. */
  get transportKind(): 'tcp' | 'websocket' {
    return this.transport.kind;
  }

  /** The bound full JID, once resource binding is done. */
  get fullJid(): Jid | undefined {
    return this.jid;
  }

  deliver(stanza: Element): void {
    if (this.forwardTo) return this.forward(stanza);
    if (this.state !== 'bound' && this.state !== 'detached' && this.state !== 'resuming') return;
    if (this.csi) {
      // XEP-0352 §4: non-urgent stanzas wait while the client is inactive; urgent ones flush first.
      const verdict = csiVerdict(stanza, this.jid!.bare().toString());
      if (verdict.hold) return this.hold(() => this.write(stanza), verdict.key);
      this.flushCsi();
    }
    this.write(stanza);
  }

  private write(stanza: Element): void {
    this.emit({ el: stanza, at: this.d.now() });
  }

  /**
   * Writes one stanza to the client; under XEP-0198 it is kept until acknowledged (§4), and
   * while the session is detached it is only queued (§5). More than `sm.maxUnacked` ends the
   * session with `resource-constraint` (connected) or at once (detached); either way what
   * was kept is handled as undelivered (see {@link rerouteUnacked}).
   */
  private emit(item: Outbound): void {
    if (this.state === 'resuming') {
      this.early.push(item);
      return;
    }
    if (this.state === 'detached') {
      this.mirrorSent(item);
      if (!this.sm!.push(item)) {
        this.log.info('too many stanzas queued for a detached session; ending it');
        void this.expire();
      }
      return;
    }
    if (this.state !== 'bound') return;
    if ('el' in item) {
      this.d.metrics?.stanzaOut(item.el.name);
      this.transport.send(item.el);
    } else {
      this.d.metrics?.stanzaOut(item.shared.name);
      this.transport.sendShared(item.shared, item.to);
    }
    if (this.sm) this.trackSent(item);
  }

  deliverShared(stanza: SharedStanza, to: string): void {
    if (this.forwardTo) return this.forward(stanza.element(to));
    if (this.state !== 'bound' && this.state !== 'detached' && this.state !== 'resuming') return;
    const send = () => this.emit({ shared: stanza, to, at: this.d.now() });
    if (this.csi) {
      // Room fanout: occupant presence waits (the latest per occupant JID); messages are urgent.
      if (stanza.name === 'presence') return this.hold(send, `p ${stanza.from ?? ''}`);
      this.flushCsi();
    }
    send();
  }

  /** Holds one delivery while inactive (XEP-0352); a full queue is flushed. */
  private hold(send: () => void, key: string | undefined): void {
    const flushed = this.csi!.push(send, key);
    if (flushed) for (const f of flushed) f();
  }

  /** Writes what the inactive session held, in order. */
  private flushCsi(): void {
    if (!this.csi || this.csi.size === 0) return;
    for (const f of this.csi.drain()) f();
  }

  /**
   * XEP-0352 §3: `<inactive/>` starts holding non-urgent stanzas (bounded by
   * `limits.maxCsiQueue`), `<active/>` flushes them and stops. Neither is answered.
   */
  private setClientState(inactive: boolean): void {
    if (inactive) {
      this.csi ??= new CsiQueue(this.d.config.limits.maxCsiQueue);
      return;
    }
    this.flushCsi();
    this.csi = undefined;
  }

  /**
   * Sends an iq get or set from the server to the client (its `id` and `to` are set here) and
   * resolves with the client's result or error, or undefined after `timeoutMs`, when the
   * session ends, or when {@link MAX_PENDING_REQUESTS} are pending already. The answer is
   * consumed here, not routed (XEP-0115 §6.2 disco#info of the client's caps).
   */
  request(iq: Element, timeoutMs: number): Promise<Element | undefined> {
    if (this.state !== 'bound' || !this.jid || (this.pendingRequests?.size ?? 0) >= MAX_PENDING_REQUESTS) return Promise.resolve(undefined);
    const pending = (this.pendingRequests ??= new Map());
    const id = `srv-${newId()}`;
    iq.attrs.id = id;
    iq.attrs.to = this.jid.toString();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      timer.unref();
      const finish = (reply: Element | undefined) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(reply);
      };
      pending.set(id, finish);
      this.deliver(iq);
    });
  }

  kick(condition: string, text?: string): void {
    if (this.forwardTo) {
      // A session handed over to another gateway: this is only its forwarder.
      this.d.local.delete(this.forwardTo.jid, this);
      this.forwardTo = undefined;
      return;
    }
    this.log.info({ condition }, 'session ended by the cluster');
    this.fail(condition as StreamErrorCondition, text);
  }

  async updateRecord(patch: SessionRecordPatch): Promise<void> {
    if ((this.state !== 'bound' && this.state !== 'detached') || !this.jid || !this.record) return;
    this.record = { ...this.record, ...patch };
    await this.d.registry.update(this.jid, this.record);
  }

  /**
   * Queues one handler; handlers run one at a time in order. The queue is bounded by
   * {@link InputFlow}: at `limits.maxQueuedStanzas` entries the socket is not read until half drained.
   */
  private enqueue(task: () => Promise<void> | void): void {
    this.flow.onQueued();
    this.queue = this.queue.then(task).then(this.handled, this.handlerFailed);
  }

  /** One queued handler finished (bound once: no closure per element). */
  private readonly handled = (): void => this.flow.onHandled();

  private readonly handlerFailed = (err: unknown): void => {
    this.log.error({ err }, 'session handler failed');
    this.fail('internal-server-error');
    this.flow.onHandled();
  };

  // ---- stream level (RFC 6120 §4) -------------------------------------------------

  private onStreamStart(attrs: StreamAttrs, defaultNs: string | undefined): void {
    if (this.state === 'closed') return;
    if (this.state !== 'awaiting-header' && this.state !== 'awaiting-restart') return this.fail('not-well-formed', 'unexpected stream header');
    const to = attrs.to === undefined ? undefined : tryParseJid(attrs.to);
    const requested = to?.toString();
    // RFC 6120 §4.7.1 / §4.9.1.2: answer with our own header before any stream error.
    const domain = this.domain ?? (requested && this.d.config.hosts.includes(requested) ? requested : this.d.config.hosts[0]!);
    this.openStream(domain, attrs);
    if (defaultNs !== NS.CLIENT) return this.fail('invalid-namespace', 'the content namespace must be jabber:client');
    if (requested === undefined || !this.d.config.hosts.includes(requested)) return this.fail('host-unknown');
    if (this.domain !== undefined && requested !== this.domain) return this.fail('host-unknown', 'the domain changed on restart');
    if (!/^1\.\d+$/.test(attrs.version ?? '')) return this.fail('unsupported-version', 'XMPP 1.0 streams only');
    this.domain = requested;
    // tls.required on a connection that can never be encrypted (plain ws://, or c2s without a
    // certificate): refused before SASL. The configuration check normally prevents this.
    if (!this.authenticated && this.d.config.tls.required && !this.transport.secure && !this.transport.canStartTls) {
      return this.fail('policy-violation', 'TLS is required and this connection cannot be encrypted');
    }
    if (this.authenticated) {
      this.state = 'binding';
      const features = postAuthFeatures();
      // XEP-0115 §6.3: the server's capabilities among the stream features.
      const caps = this.d.accountServices?.capsFeature();
      if (caps) features.cnode(caps);
      // XEP-0352 §3: client state indication.
      features.c('csi', { xmlns: CSI_NS }).up();
      // XEP-0198 §2: stream management (enabled after bind, or a resumption instead of bind).
      features.c('sm', { xmlns: SM_NS }).up();
      this.transport.send(features);
    } else {
      this.state = 'negotiating';
      const features = preAuthFeatures({
        startTls: this.startTlsOffer(),
        mechanisms: this.mechanisms(),
        channelBindings: this.offeredChannelBinding()?.types ?? [],
      });
      // XEP-0077 §4: in-band registration offered before authentication when enabled (and TLS, if required, is up).
      if (this.d.accountServices?.registration.enabled && (this.transport.secure || !this.d.config.tls.required)) {
        features.c('register', { xmlns: REGISTER_FEATURE_NS }).up();
      }
      this.transport.send(features);
    }
  }

  private openStream(domain: string, peer: StreamAttrs): void {
    if (this.headerSent) return;
    this.headerSent = true;
    const attrs: StreamAttrs = { from: domain, id: newId(12), version: '1.0', 'xml:lang': 'en' };
    if (peer.from !== undefined && tryParseJid(peer.from)) attrs.to = peer.from;
    this.transport.openStream(attrs);
  }

  private onStreamEnd(): void {
    // RFC 6120 §4.4: answer the peer's closing tag with ours; cleanup follows on close.
    this.state = 'closed';
    this.transport.closeStream();
  }

  private onXmlError(err: XmlError): void {
    this.log.info({ condition: err.condition, reason: err.message }, 'bad XML from client');
    this.fail(err.condition, err.message);
  }

  /** Sends a stream error and closes the stream (RFC 6120 §4.9.1.1). */
  private fail(condition: StreamErrorCondition, text?: string, app?: Element): void {
    if (this.state === 'closed') return;
    // A detached session (XEP-0198 §5) has no stream left: it just ends.
    if (this.state === 'detached') return void this.expire();
    if (!this.headerSent) this.openStream(this.domain ?? this.d.config.hosts[0]!, {});
    this.state = 'closed';
    const error = streamError(condition, text);
    // RFC 6120 §4.9.4: an application-specific condition after the defined one.
    if (app) error.cnode(app);
    this.transport.send(error);
    this.transport.closeStream();
  }

  private async onElement(el: Element): Promise<void> {
    switch (this.state) {
      case 'negotiating':
        return this.onNegotiationElement(el);
      case 'binding':
      case 'bound':
        return this.onAuthenticatedElement(el);
      case 'closed':
      case 'detached':
        return;
      default:
        return this.fail('not-authorized', 'expected a stream header');
    }
  }

  // ---- STARTTLS and SASL (RFC 6120 §5, §6) ------------------------------------------

  private startTlsOffer(): 'no' | 'optional' | 'required' {
    if (!this.transport.canStartTls) return 'no';
    return this.d.config.tls.required ? 'required' : 'optional';
  }

  /**
   * The mechanisms offered on this stream, strongest first: the -PLUS variants (RFC 5802 §6)
   * when TLS ends here with a usable channel binding type and `tls.channelBinding` is on, then
   * SCRAM, then PLAIN where allowed.
   */
  private mechanisms(): string[] {
    const plainOk = this.transport.secure || this.d.config.auth.allowPlainWithoutTls;
    const plus = this.offeredChannelBinding() ? PLUS_MECHANISMS : [];
    return [...plus, ...SUPPORTED_MECHANISMS.filter((m) => m !== 'PLAIN' || plainOk)];
  }

  /**
   * This connection's channel binding when -PLUS is offered (TLS ending at this gateway,
   * `tls.channelBinding` on, at least one type available); else undefined. Also what makes
   * the GS2 flag `y` fail on plain SCRAM (downgrade protection, RFC 5802 §6).
   */
  private offeredChannelBinding(): ChannelBinding | undefined {
    if (this.d.config.tls.channelBinding === false) return undefined;
    const binding = this.transport.channelBinding();
    return binding !== undefined && binding.types.length > 0 ? binding : undefined;
  }

  private async onNegotiationElement(el: Element): Promise<void> {
    const ns = el.attrs.xmlns;
    if (ns === NS.TLS && el.name === 'starttls') return this.startTls();
    if (el.name === 'iq' && (ns === undefined || ns === NS.CLIENT) && this.d.accountServices) return this.preAuthRegister(el);
    if (ns !== NS.SASL) return this.fail('not-authorized', 'authenticate first');
    if (el.name === 'auth') this.mechanismName = el.attrs.mechanism ?? '';
    if (this.d.config.tls.required && !this.transport.secure) {
      // RFC 6120 §5.3.1: TLS is mandatory-to-negotiate here, so no mechanism was offered; SASL
      // anyway gets <encryption-required/> (§6.5.3) and, as the client ignored the
      // <required/> STARTTLS feature, a policy-violation stream error (§4.9.3.12).
      this.sendSaslFailure('encryption-required');
      return this.fail('policy-violation', 'STARTTLS is required before authentication');
    }
    if (el.name === 'auth') {
      const name = el.attrs.mechanism ?? '';
      if (!this.mechanisms().includes(name)) return this.saslFailure('invalid-mechanism');
      // onStreamStart only accepts a `to` that is one of config.hosts, so the entry exists.
      const host = this.d.sasl.get(this.domain!);
      if (!host) return this.saslFailure('temporary-auth-failure');
      const throttle = this.d.authThrottle;
      const wait = (await throttle?.addressBlockedMs(this.address)) ?? 0;
      if (wait > 0) {
        this.d.metrics?.limit('auth-throttled');
        return this.saslFailure('temporary-auth-failure', new AuthThrottled(wait, 'from your address').message);
      }
      this.attempt.account = undefined;
      const channelBinding = this.offeredChannelBinding();
      this.mechanism = createMechanism(name, throttle ? throttle.guard(host.backend, this.domain!, this.attempt) : host.backend, {
        ...host.options,
        ...(channelBinding ? { channelBinding } : {}),
      });
      if (!this.mechanism) return this.saslFailure('invalid-mechanism');
      const initial = this.decodeSasl(el, true);
      if (initial === null) return this.saslFailure('incorrect-encoding');
      return this.saslStep(await this.runMechanism(() => this.mechanism!.start(initial)));
    }
    if (el.name === 'response') {
      if (!this.mechanism) return this.saslFailure('malformed-request');
      const data = this.decodeSasl(el, false);
      if (data === null || data === undefined) return this.saslFailure('incorrect-encoding');
      return this.saslStep(await this.runMechanism(() => this.mechanism!.step(data)));
    }
    if (el.name === 'abort') {
      // saslFailure ends the exchange (it reads the client's authcid for the log line first).
      return this.saslFailure('aborted');
    }
    return this.fail('unsupported-stanza-type');
  }

  /**
   * An iq before SASL: XEP-0077 §3.1 in-band registration, answered on the stream (no
   * routing: the entity has no JID yet), `service-unavailable` when `register.enabled` is
   * off (§3.1 MUST); any other iq is `service-unavailable` too (as Prosody 0.12). One
   * account per stream: a second set gets `not-acceptable` (§3.1 "register a second
   * identity"). With `tls.required`, only after STARTTLS (else `policy-violation`).
   */
  private async preAuthRegister(iq: Element): Promise<void> {
    if (this.d.config.tls.required && !this.transport.secure) return this.fail('policy-violation', 'STARTTLS is required before registration');
    const query = iq.children.find((c): c is Element => typeof c !== 'string');
    const send = (reply: Element | undefined) => {
      if (!reply) return;
      delete reply.attrs.from;
      delete reply.attrs.to;
      this.transport.send(reply);
    };
    if (iq.attrs.id === undefined || (iq.attrs.type !== 'get' && iq.attrs.type !== 'set')) return send(errorReply(iq, 'bad-request'));
    if (!query || query.name !== 'query' || query.attrs.xmlns !== REGISTER_NS) return send(errorReply(iq, 'service-unavailable'));
    if (iq.attrs.type === 'set' && this.registeredInBand && query.getChild('remove') === undefined) return send(errorReply(iq, 'not-acceptable', { text: 'one registration per stream' }));
    const answer = await this.d.accountServices!.registration.preAuth(iq, query, this.domain!, this.address);
    if ('error' in answer) return send(errorReply(iq, answer.error, answer.text === undefined ? undefined : { text: answer.text }));
    if (iq.attrs.type === 'set') {
      this.registeredInBand = true;
      this.log.info('account registered in-band');
    }
    send(iqResult(iq, answer.payload));
  }

  /** Whether this stream created an account in-band (XEP-0077 §3.1). */
  private registeredInBand = false;

  /** Runs one mechanism step; a backend failure (e.g. Redis down) is `temporary-auth-failure` (RFC 6120 §6.5.11). */
  private async runMechanism(step: () => Promise<SaslStep>): Promise<SaslStep> {
    try {
      return await step();
    } catch (err) {
      // RFC 6120 §6.5.11: an account locked out after too many failures (issue #10).
      if (err instanceof AuthThrottled) {
        this.d.metrics?.limit('auth-throttled');
        return { kind: 'failure', condition: 'temporary-auth-failure', text: err.message };
      }
      this.log.error({ err }, 'authentication backend failed');
      return { kind: 'failure', condition: 'temporary-auth-failure' };
    }
  }

  /**
   * RFC 6120 §6.4.2: base64 text; `=` is an empty response; no text means no initial
   * response (only allowed in `<auth/>`). Returns null for invalid base64.
   */
  private decodeSasl(el: Element, isAuth: boolean): Buffer | undefined | null {
    const text = el.getText().trim();
    if (text === '') return isAuth ? undefined : Buffer.alloc(0);
    if (text === '=') return Buffer.alloc(0);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
    return Buffer.from(text, 'base64');
  }

  private saslStep(step: SaslStep): void {
    if (step.kind === 'challenge') {
      this.transport.send(new Element('challenge', { xmlns: NS.SASL }).t(step.data.length ? step.data.toString('base64') : '='));
      return;
    }
    if (step.kind === 'failure') {
      if (step.condition === 'not-authorized') void this.d.authThrottle?.failed(this.address, this.attempt.account);
      return this.saslFailure(step.condition, step.text);
    }
    const bare = accountJid(step.username, this.domain!);
    const authorised = bare === undefined ? undefined : tryParseJid(bare);
    if (!authorised) return this.saslFailure('not-authorized');
    // RFC 6120 §6.4.6: an authzid other than the account itself is refused.
    if (step.authzid !== undefined && step.authzid !== '' && tryParseJid(step.authzid)?.toString() !== bare) {
      return this.saslFailure('invalid-authzid');
    }
    this.mechanism = undefined;
    this.d.metrics?.login(this.mechanismName);
    this.authenticated = authorised;
    this.d.onAuthenticated?.(this);
    this.state = 'awaiting-restart';
    this.log = this.childLog(bare);
    this.log.info('authenticated');
    const success = new Element('success', { xmlns: NS.SASL });
    if (step.data?.length) success.t(step.data.toString('base64'));
    this.transport.send(success);
    // RFC 6120 §6.4.6: both sides restart the stream after <success/>.
    this.headerSent = false;
    this.transport.restart();
    this.transport.setMaxElementBytes(this.d.config.limits.maxStanzaBytes);
  }

  /** Sends `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>` with `condition` (RFC 6120 §6.5). */
  private sendSaslFailure(condition: string, text?: string): void {
    const failure = new Element('failure', { xmlns: NS.SASL });
    failure.c(condition).up();
    if (text) failure.c('text', { 'xml:lang': 'en' }).t(text).up();
    this.transport.send(failure);
  }

  /**
   * Ends the SASL exchange with `<failure/>` (RFC 6120 §6.5) and logs `authentication failed`
   * at info with the condition, the username the client gave and its IP address
   * ({@link failedLoginFields}; issue #14 item 4: for operators and fail2ban-style tools).
   */
  private saslFailure(condition: string, text?: string): void {
    const authcid = this.mechanism?.authcid;
    this.mechanism = undefined;
    this.sendSaslFailure(condition, text);
    if (condition !== 'aborted') {
      this.authFailures += 1;
      this.d.metrics?.authFailure(this.mechanismName);
    }
    this.log.info(failedLoginFields(condition, authcid, this.address), 'authentication failed');
    if (this.authFailures >= MAX_AUTH_FAILURES) this.fail('policy-violation', 'too many failed authentication attempts');
  }

  private async startTls(): Promise<void> {
    if (!this.transport.canStartTls) {
      this.transport.send(new Element('failure', { xmlns: NS.TLS }));
      this.state = 'closed';
      this.transport.closeStream();
      return;
    }
    this.transport.send(new Element('proceed', { xmlns: NS.TLS }));
    this.state = 'awaiting-header';
    this.headerSent = false;
    try {
      await this.transport.startTls();
      this.log.debug('TLS established');
    } catch (err) {
      this.log.info({ err }, 'TLS negotiation failed');
      this.transport.destroy();
    }
  }

  // ---- after authentication: binding and stanzas (RFC 6120 §7, §8) ---------------------

  private async onAuthenticatedElement(el: Element): Promise<void> {
    if (el.attrs.xmlns === CSI_NS && (el.name === 'active' || el.name === 'inactive')) return this.setClientState(el.name === 'inactive');
    if (el.attrs.xmlns === SM_NS) return this.onSm(el);
    const kind = stanzaKind(el);
    if (!kind) return this.fail('unsupported-stanza-type', `<${el.name}/> in ${el.attrs.xmlns ?? '?'}`);
    // XEP-0198 §4: every stanza received after <enable/> counts as handled (h).
    if (this.sm) {
      this.sm.handled();
      const m = this.smMirror();
      if (m) this.d.smStore!.handled(m.bare, m.smId);
    }
    if (kind === 'iq' && (el.attrs.type === 'set' || el.attrs.type === 'get') && el.attrs.to === undefined) {
      const child = el.children.find((c): c is Element => typeof c !== 'string');
      if (child?.name === 'bind' && child.attrs.xmlns === NS.BIND) return this.bind(el, child);
      if (child?.name === 'session' && child.attrs.xmlns === NS.SESSION) {
        // RFC 3921 §3 session establishment, kept as a no-op for old clients.
        return this.state === 'bound' ? this.write(iqResult(el)) : this.reply(el, 'not-allowed');
      }
    }
    if (this.state !== 'bound') {
      // RFC 6120 §7.1: no stanzas before a resource is bound.
      return this.fail('not-authorized', 'bind a resource first');
    }
    return this.onStanza(el, kind);
  }

  private reply(stanza: Element, condition: StanzaErrorCondition, text?: string): void {
    const reply = errorReply(stanza, condition, text === undefined ? undefined : { text });
    if (!reply) return;
    this.flushCsi(); // an error reply is urgent (XEP-0352): what was held goes first
    if (this.state === 'bound') return this.write(reply);
    this.d.metrics?.stanzaOut(reply.name);
    this.transport.send(reply);
  }

  private async bind(iq: Element, bindEl: Element): Promise<void> {
    if (this.state === 'bound') return this.reply(iq, 'not-allowed', 'a resource is bound already');
    const user = this.authenticated!;
    const requested = bindEl.getChildText('resource')?.trim();
    let full: Jid | undefined;
    if (requested) {
      try {
        full = user.withResource(requested);
      } catch {
        // RFC 6120 §7.7.2.1: a resource that violates the OpaqueString profile.
        return this.reply(iq, 'bad-request', 'invalid resource');
      }
    } else {
      full = user.withResource(newId(6));
    }
    const record: SessionRecord = {
      gateway: this.d.gatewayId,
      sessionId: this.sessionId,
      available: false,
      priority: 0,
      since: this.d.now(),
      transport: this.transport.kind,
    };
    // RFC 6120 §7.7.2.2: our policy for a conflicting resource is to end the older session.
    const previous = await this.d.registry.bind(full, record);
    this.jid = full;
    this.record = record;
    // End the older session before this one takes its place in the local table (the kick
    // finds the older session there when both are on this gateway).
    if (previous && previous.sessionId !== this.sessionId) {
      await this.d.router.kick(full.toString(), previous, 'conflict', 'replaced by a new session for the same resource');
    }
    this.d.local.set(full.toString(), this);
    this.state = 'bound';
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.log = this.childLog(full.toString());
    this.log.info('resource bound');
    const bound = new Element('bind', { xmlns: NS.BIND });
    bound.c('jid').t(full.toString());
    this.transport.send(iqResult(iq, bound));
  }

  private async onStanza(el: Element, kind: 'message' | 'presence' | 'iq'): Promise<void> {
    this.d.metrics?.stanzaIn(kind);
    const full = this.jid!;
    // RFC 6120 §8.1.2.1: the server stamps (or checks) the sender's address.
    if (el.attrs.from !== undefined) {
      const from = tryParseJid(el.attrs.from);
      if (!from || !(from.equals(full) || from.equals(full.bare()))) return this.fail('invalid-from');
    }
    el.attrs.from = full.toString();
    if (kind === 'iq') {
      const type = el.attrs.type;
      if (type !== 'get' && type !== 'set' && type !== 'result' && type !== 'error') return this.reply(el, 'bad-request', 'iq type');
      if (el.attrs.id === undefined) return this.reply(el, 'bad-request', 'iq without id');
      // The answer to a request of ours (see request()), addressed to the account or the server.
      const waiter = type === 'result' || type === 'error' ? this.pendingRequests?.get(el.attrs.id) : undefined;
      const to = el.attrs.to;
      if (waiter && (to === undefined || to === full.bare().toString() || to === full.domain)) return waiter(el);
    }
    // XEP-0153 §4.2 / XEP-0398: the avatar hash on every available presence (broadcast,
    // directed, to rooms); last activity (XEP-0012) remembers the status of an unavailable one.
    if (kind === 'presence') await this.accountPresence(el);
    if (el.attrs.to === undefined) return this.toOwnAccount(el, kind);
    const to = tryParseJid(el.attrs.to);
    // RFC 6120 §8.3.3.8; e.g. a room nick with a variation selector (RFC 7622 §3.4: the
    // resourcepart's PRECIS class disallows it), which Prosody 0.12 silently strips.
    if (!to) return this.reply(el, 'jid-malformed', 'The to address is not a valid JID (RFC 7622)');
    el.attrs.to = to.toString();
    if (kind === 'presence' && this.d.presence) {
      const type = el.attrs.type;
      // RFC 6121 §3: subscription stanzas go through the user's roster first (bare-JID stamping, §3.1.2).
      if (type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed') {
        const refused = await this.d.presence.outboundSubscription(full, el);
        if (refused) this.reply(el, refused);
        return;
      }
      if ((type === undefined || type === 'unavailable') && to.domain !== this.d.config.mucDomain) await this.trackDirected(el, to);
    }
    await this.d.router.route(el, 0, 'client');
  }

  /**
   * RFC 6121 §4.6: remembers (in the registry record, so a reaper sees them too) the JIDs
   * this session sent directed available presence to, unless they get its broadcasts
   * anyway, so they get unavailable presence when it goes offline (§4.6.3); a directed
   * unavailable forgets the target. At most `limits.maxDirectedPresence`, oldest dropped.
   */
  private async trackDirected(el: Element, to: Jid): Promise<void> {
    const target = to.toString();
    const before = this.record!.directed ?? [];
    const list = before.filter((j) => j !== target);
    if (el.attrs.type === undefined && !(await this.d.presence!.getsBroadcasts(this.jid!.bare().toString(), to.bare().toString()))) {
      list.push(target);
      while (list.length > this.d.config.limits.maxDirectedPresence) list.shift();
    }
    if (list.length === before.length && list.every((j, i) => j === before[i])) return;
    this.record = { ...this.record!, directed: list };
    await this.d.registry.update(this.jid!, this.record);
  }

  /** The status text of the last unavailable presence broadcast by this session (XEP-0012 §3). */
  private unavailableStatus = '';
  /** end() ran (it runs once: a detached session may be expired and kicked at once). */
  private ended = false;

  /** Stamps the XEP-0153 photo hash on available presence; notes the status of unavailable broadcasts. */
  private async accountPresence(el: Element): Promise<void> {
    const services = this.d.accountServices;
    if (!services) return;
    const type = el.attrs.type;
    if (type === undefined) stampAvatar(el, await services.vcards.photoHash(this.jid!.bare().toString()));
    else if (type === 'unavailable' && el.attrs.to === undefined) this.unavailableStatus = el.getChildText('status') ?? '';
  }

  /** RFC 6120 §10.3: a stanza with no `to` is for the user's own account. */
  private async toOwnAccount(el: Element, kind: 'message' | 'presence' | 'iq'): Promise<void> {
    const bare = this.jid!.bare().toString();
    if (kind === 'presence') return this.presenceBroadcast(el);
    el.attrs.to = bare;
    await this.d.router.route(el, 0, 'client');
  }

  /** RFC 6121 §4.2 (initial presence), §4.4 (updates), §4.5 (unavailable). */
  private async presenceBroadcast(el: Element): Promise<void> {
    const type = el.attrs.type;
    if (type !== undefined && type !== 'unavailable') return; // probes/subscriptions without a `to` mean nothing
    const record = this.record!;
    const wasAvailable = record.available;
    let priority = 0;
    const text = el.getChildText('priority');
    if (text !== null) {
      const n = Number(text.trim());
      if (!Number.isInteger(n) || n < -128 || n > 127) return this.reply(el, 'bad-request', 'priority must be an integer from -128 to 127');
      priority = n;
    }
    const available = type === undefined;
    // The last available presence is kept for probes (RFC 6121 §4.3.2); directed-presence
    // targets are forgotten once they got the unavailable (§4.6.3).
    this.record = available ? { ...record, available, priority, presence: serialize(el) } : { ...record, available, priority, presence: undefined, directed: undefined };
    await this.d.registry.update(this.jid!, this.record);
    const bare = this.jid!.bare().toString();
    if (available) {
      await this.d.router.broadcastToOwnResources(bare, el);
      // XEP-0160 §3: offline messages are delivered when initial presence is sent
      // (with non-negative priority: a negative one says "no messages to me").
      if (!wasAvailable && priority >= 0) {
        for (const message of await this.d.offline.popAll(bare)) this.deliver(message);
      }
      // RFC 6121 §4.2 (initial: contacts, probes, pending requests) and §4.4 (updates).
      if (!wasAvailable) await this.d.presence?.initialPresence(this.jid!, el, (x) => this.deliver(x));
      else await this.d.presence?.update(this.jid!, el);
      // XEP-0163 §4.4, §6.2: the session's +notify nodes (from its caps) and the last items.
      await this.d.pep?.onAvailable(this, el, !wasAvailable);
    } else {
      if (wasAvailable) await this.d.router.broadcastToOwnResources(bare, el, this.jid!.toString());
      // RFC 6121 §4.5.2, §4.6.3: contacts and directed-presence targets.
      await this.d.presence?.unavailable(this.jid!, el, record.directed ?? [], wasAvailable);
      // RFC 6121 §4.6.3 (directed presence): going unavailable also reaches the rooms the
      // session was in, which remove its occupant (XEP-0045 §7.14).
      const rooms = [...this.rooms];
      this.rooms.clear();
      await this.d.router.sessionEnded(this.jid!.toString(), this.sessionId, rooms);
    }
  }

  // ---- XEP-0198 stream management --------------------------------------------------

  /** `<enable/>`, `<r/>`, `<a/>` and `<resume/>` in urn:xmpp:sm:3 (XEP-0198 §3, §4, §5). */
  private onSm(el: Element): void | Promise<void> {
    switch (el.name) {
      case 'enable':
        return this.enableSm(el);
      case 'r':
        // §4: answered at once with the count of stanzas handled. Before <enable/> the XEP says
        // nothing: an unsupported-stanza-type stream error, as Prosody 0.12's mod_smacks.
        if (!this.sm) return this.fail('unsupported-stanza-type', 'stream management is not enabled');
        this.transport.send(new Element('a', { xmlns: SM_NS, h: String(this.sm.inbound) }));
        return;
      case 'a': {
        if (!this.sm) return this.fail('unsupported-stanza-type', 'stream management is not enabled');
        const h = parseH(el.attrs.h);
        // §4: an <a/> MUST have an 'h' (an xs:unsignedInt).
        if (h === undefined) return this.fail('invalid-xml', "<a/> needs an 'h' attribute (unsignedInt)");
        return this.applyAck(h);
      }
      case 'resume':
        return this.resume(el);
      default:
        return this.fail('unsupported-stanza-type', `<${el.name}/> in ${SM_NS}`);
    }
  }

  /** Sends `<failed/>` with a stanza error condition (XEP-0198 §6); `h` on a timed-out resumption (§5). */
  private smFailed(condition: StanzaErrorCondition, h?: number): void {
    const failed = new Element('failed', h === undefined ? { xmlns: SM_NS } : { xmlns: SM_NS, h: String(h) });
    failed.c(condition, { xmlns: NS.STANZAS }).up();
    this.transport.send(failed);
  }

  /**
   * XEP-0198 §3: only after resource binding and only once (else `<failed>` with
   * `unexpected-request`). With `resume='true'|'1'` and `sm.resumeTimeoutSec` > 0 the answer
   * carries an SM-ID and `max` (the client's `max` if smaller, §3).
   */
  private enableSm(el: Element): void {
    if (this.state !== 'bound' || this.sm) return this.smFailed('unexpected-request');
    const cfg = this.d.config.sm;
    this.sm = new SmState<Outbound>(cfg.maxUnacked);
    const enabled = new Element('enabled', { xmlns: SM_NS });
    const wantsResume = el.attrs.resume === 'true' || el.attrs.resume === '1';
    if (wantsResume && cfg.resumeTimeoutSec > 0 && this.d.resumable) {
      const asked = parseH(el.attrs.max);
      this.smMaxSec = asked !== undefined && asked > 0 ? Math.min(asked, cfg.resumeTimeoutSec) : cfg.resumeTimeoutSec;
      // §5: opaque, never reused; 18 random bytes.
      // The resource is in the id (after the last '.'), so that another gateway finds the
      // session in the registry; the random part makes it unguessable.
      this.smId = `${newId(18)}.${Buffer.from(this.jid!.resource ?? '', 'utf8').toString('base64url')}`;
      this.d.resumable.set(this.smId, this);
      enabled.attrs.id = this.smId;
      enabled.attrs.resume = 'true';
      enabled.attrs.max = String(this.smMaxSec);
      this.smPersist();
      // The registry record names the SM-ID, so that a reaper of this gateway finds the state.
      this.record = { ...this.record!, sm: this.smId };
      this.d.registry.update(this.jid!, this.record).catch((err: unknown) => this.log.warn({ err }, 'recording the SM-ID failed'));
    }
    this.log.debug({ resume: this.smId !== undefined }, 'stream management enabled');
    this.transport.send(enabled);
  }

  /** §4: the client's `<a h/>`; an `h` above what was sent ends the stream (§6 handled-count-too-high). */
  private applyAck(h: number): void {
    const result = this.sm!.ack(h);
    if (result.ok) {
      const m = this.smMirror();
      if (m) this.d.smStore!.acked(m.bare, m.smId, result.acked.length, h);
      return;
    }
    const app = new Element('handled-count-too-high', { xmlns: SM_NS, h: String(h), 'send-count': String(result.sent) });
    this.fail('undefined-condition', `You acknowledged ${h} stanzas, but ${result.sent} were sent`, app);
  }

  /** The Redis keys of this session's XEP-0198 state while it is resumable and this stream holds it. */
  private smKey: { bare: string; smId: string } | undefined;

  private smMirror(): { bare: string; smId: string } | undefined {
    return this.d.smStore ? this.smKey : undefined;
  }

  /** Copies one sent (or queued) stanza to Redis, with the delivery stream entry it came from (issue #13). */
  private mirrorSent(item: Outbound): void {
    const m = this.smMirror();
    if (m) this.d.smStore!.sent(m.bare, m.smId, toStored(item), deliveryInProgress.id);
  }

  /**
   * Writes the whole XEP-0198 state of this resumable session to Redis (at `<enable/>` and
   * after a resumption: this gateway holds it now) and mirrors its rooms from then on.
   */
  private smPersist(): void {
    if (!this.d.smStore || this.smId === undefined || !this.jid || !this.sm) return;
    const key = { bare: this.jid.bare().toString(), smId: this.smId };
    this.smKey = key;
    const snap = this.sm.snapshot();
    const store = this.d.smStore;
    store.write(key.bare, key.smId, {
      sessionId: this.sessionId,
      resource: this.jid.resource ?? '',
      inbound: snap.inbound,
      acked: snap.acked,
      windowSec: this.smMaxSec,
      items: snap.items.map(toStored),
      rooms: this.rooms,
    });
    this.rooms.onAdd = (room) => store.roomAdded(key.bare, key.smId, room);
    this.rooms.onClear = () => store.roomsCleared(key.bare, key.smId);
  }

  /** Counts one stanza written under XEP-0198 and asks for an ack after `sm.ackRequestStanzas` or `sm.ackRequestMs` (§4). */
  private trackSent(item: Outbound): void {
    const sm = this.sm!;
    this.mirrorSent(item);
    if (!sm.push(item)) {
      this.d.metrics?.limit('sm-unacked-closed');
      this.log.info({ unacked: sm.unacked }, 'client does not acknowledge what is sent; closing');
      return this.fail('resource-constraint', 'too many unacknowledged stanzas');
    }
    this.smSinceRequest += 1;
    if (this.smSinceRequest >= this.d.config.sm.ackRequestStanzas) return this.requestAck();
    this.smAckTimer ??= setTimeout(() => {
      this.smAckTimer = undefined;
      if (this.state === 'bound' && this.sm && this.sm.unacked > 0) this.requestAck();
    }, this.d.config.sm.ackRequestMs).unref();
  }

  private requestAck(): void {
    clearTimeout(this.smAckTimer);
    this.smAckTimer = undefined;
    this.smSinceRequest = 0;
    this.transport.send(new Element('r', { xmlns: SM_NS }));
  }

  /** The transport reported silence: a resumable session only loses its connection (XEP-0198 §5). */
  private onIdle(): void {
    if (this.state === 'bound' && this.smId !== undefined) {
      // The state stays 'bound', so the close that follows detaches the session.
      this.transport.send(streamError('connection-timeout', 'no traffic for too long'));
      this.transport.closeStream();
      return;
    }
    this.fail('connection-timeout', 'no traffic for too long');
  }

  /**
   * The connection is gone. Without `</stream>` or a stream error, a resumable session is
   * kept (XEP-0198 §5, §7: "unfinished stream"); anything else ends it.
   */
  private onConnectionLost(): void {
    if (this.state === 'bound' && this.smId !== undefined) return this.detach();
    void this.end();
  }

  /**
   * XEP-0198 §5: keeps the session for `smMaxSec`: its registry record stays (marked
   * `detached`), rooms keep the occupant, and stanzas for it are queued (bounded by
   * `sm.maxUnacked`) after the unacknowledged ones.
   */
  private detach(): void {
    this.state = 'detached';
    this.flushCsi(); // what CSI held joins the queue, in order
    this.csi = undefined;
    for (const waiter of [...(this.pendingRequests?.values() ?? [])]) waiter(undefined);
    clearTimeout(this.smAckTimer);
    this.smAckTimer = undefined;
    this.flow.stop();
    this.detachTimer = setTimeout(() => void this.expire(), this.smMaxSec * 1000).unref();
    this.log.info({ unacked: this.sm!.unacked, windowSec: this.smMaxSec }, 'connection lost; session kept for resumption');
    if (this.record && this.jid) {
      this.record = { ...this.record, detached: this.d.now() };
      const m = this.smMirror();
      if (m) this.d.smStore!.detached(m.bare, m.smId, this.record.detached!);
      const jid = this.jid;
      const record = this.record;
      this.d.registry.update(jid, record).catch((err: unknown) => this.log.warn({ err }, 'marking the session detached failed'));
    }
  }

  /** Ends a detached session (its window is over, or its queue is full, or it was kicked). */
  private async expire(): Promise<void> {
    if (this.state !== 'detached') return;
    this.log.info('resumption window over; ending the session');
    await this.end();
  }

  /**
   * XEP-0198 §5 on a stream that is authenticated and not yet bound: takes over the session
   * named by `previd` (on this gateway, same account; else `<failed>` with `item-not-found`),
   * answers `<resumed h previd/>`, applies the client's `h` and re-sends what stays
   * unacknowledged, in order (what was queued while detached comes last). A session whose
   * old stream is still open gets the `conflict` stream error there.
   */
  private async resume(el: Element): Promise<void> {
    if (this.state !== 'binding' || this.sm) return this.smFailed('unexpected-request');
    const previd = el.attrs.previd;
    const h = parseH(el.attrs.h);
    // §5: 'previd' and 'h' are required; without them, item-not-found as Prosody 0.12.
    if (typeof previd !== 'string' || previd === '' || h === undefined) return this.smFailed('item-not-found');
    const old = this.d.resumable?.get(previd);
    // Another account's SM-ID is not found either: nothing is told about other accounts' sessions.
    let taken: HandOver | undefined;
    if (old) taken = old !== this && old.jid?.bare().equals(this.authenticated!) ? old.handOver() : undefined;
    else taken = await this.takeOverFromOtherGateway(previd);
    if (!taken) return this.smFailed('item-not-found');
    this.sessionId = taken.sessionId;
    this.jid = taken.jid;
    const { detached: _gone, ...record } = taken.record;
    this.record = { ...record, gateway: this.d.gatewayId, transport: this.transport.kind };
    for (const room of taken.rooms) this.rooms.add(room);
    this.sm = taken.sm;
    // Held while the other gateway handed the session over: after what it handed over.
    for (const item of this.early) this.sm.push(item);
    this.early = [];
    this.smId = taken.smId;
    this.smMaxSec = taken.smMaxSec;
    this.unavailableStatus = taken.unavailableStatus;
    this.d.resumable!.set(this.smId, this);
    this.d.local.set(this.jid.toString(), this);
    this.state = 'bound';
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.log = this.childLog(this.jid.toString());
    this.log.info({ unacked: this.sm.unacked, clientH: h }, 'session resumed');
    this.transport.send(new Element('resumed', { xmlns: SM_NS, h: String(this.sm.inbound), previd }));
    let acked = this.sm.ack(h);
    if (!acked.ok && taken.afterCrash) {
      this.log.warn({ clientH: h, sent: acked.sent }, 'the client acknowledged more than the dead gateway recorded; taking all as acknowledged');
      acked = this.sm.ack(acked.sent);
    }
    if (!acked.ok) {
      const app = new Element('handled-count-too-high', { xmlns: SM_NS, h: String(h), 'send-count': String(acked.sent) });
      return this.fail('undefined-condition', `You acknowledged ${h} stanzas, but ${acked.sent} were sent`, app);
    }
    // The Redis copy now describes this stream's session (and this gateway holds it).
    this.smPersist();
    const again = this.sm.pending();
    for (const item of again) {
      if ('el' in item) this.transport.send(item.el);
      else this.transport.sendShared(item.shared, item.to);
    }
    if (again.length > 0) this.requestAck();
    try {
      await this.d.registry.update(this.jid, this.record);
    } catch (err) {
      this.log.warn({ err }, 'clearing the detached mark failed');
    }
  }

  /**
   * XEP-0198 §5, the session is on another gateway: finds it through the resource in the
   * SM-ID and the registry, asks its gateway for it (it answers within `TAKEOVER_WAIT_MS` or
   * is taken as gone), then moves the registry record here and tells the session's rooms.
   * Meanwhile the stream is `resuming` and registered locally under the session's id, so
   * what the old gateway forwards is held, not lost. Undefined (→ `item-not-found`) when
   * anything does not match.
   */
  private async takeOverFromOtherGateway(previd: string): Promise<HandOver | undefined> {
    const takeover = this.d.smTakeover;
    const dot = previd.lastIndexOf('.');
    if (!takeover || dot < 0 || previd.length > 4000) return undefined;
    const resource = Buffer.from(previd.slice(dot + 1), 'base64url').toString('utf8');
    let full: Jid;
    try {
      full = this.authenticated!.withResource(resource);
    } catch {
      return undefined;
    }
    const record = await this.d.registry.lookup(full);
    if (!record) return undefined;
    const fullJid = full.toString();
    const bare = full.bare().toString();
    const orphans = record.sm === previd ? this.d.smOrphans : undefined;
    // Its gateway died and a reaper kept it (issue #13): claimed from Redis, not asked for.
    const orphaned = orphans !== undefined && (await orphans.state(bare, previd, record.sessionId)) === 'orphan';
    if (record.gateway === this.d.gatewayId && !orphaned) return undefined;
    this.sessionId = record.sessionId;
    this.jid = full;
    this.state = 'resuming';
    // An orphan adopted by this gateway has its sink here: put back if the claim fails.
    const displaced = this.d.local.get(fullJid);
    this.d.local.set(fullJid, this);
    let answer: string | undefined;
    if (!orphaned) {
      try {
        answer = await takeover.request(bare, fullJid, record, previd, newId());
      } catch (err) {
        this.log.warn({ err }, 'asking another gateway for a session failed');
      }
    }
    // No answer: its gateway is dead (or stuck); once reaped, the session is an orphan to claim.
    let claimed: Claimed | undefined;
    if (answer === undefined && orphans) {
      try {
        claimed = await this.claimOrphan(orphans, bare, full.resource ?? '', previd, record.sessionId);
      } catch (err) {
        this.log.warn({ err }, 'claiming an orphaned session failed');
      }
    }
    const taken = claimed ? this.fromClaim(claimed, full, previd) : answer === undefined ? undefined : this.parseHandOver(answer, full, previd);
    if (!taken) {
      this.log.info({ gateway: record.gateway, answered: answer !== undefined, claimed: claimed !== undefined }, 'resumption on another gateway failed');
      if (displaced && this.d.local.get(fullJid) === this) this.d.local.set(fullJid, displaced);
      else this.d.local.delete(fullJid, this);
      this.jid = undefined;
      this.sessionId = newId();
      if (this.state === 'resuming') this.state = 'binding';
      // Nothing was handed over, so nothing was forwarded: only stanzas of a late answer could be here.
      for (const item of this.early.splice(0)) void this.d.router.route('el' in item ? item.el : item.shared.element(item.to), 1);
      return undefined;
    }
    const moved: SessionRecord = { ...taken.record, gateway: this.d.gatewayId, transport: this.transport.kind };
    delete moved.detached;
    taken.record = moved;
    await this.d.registry.move(full, moved, record.gateway);
    await takeover.moved(fullJid, taken.sessionId, taken.rooms);
    this.log.info({ from: claimed ? claimed.holder : record.gateway, unacked: taken.sm.unacked, orphan: claimed !== undefined }, 'session taken over from another gateway');
    if (this.state !== 'resuming') {
      // The new stream closed while waiting: the session ends here, as a normal logout.
      this.jid = full;
      this.record = moved;
      this.sm = taken.sm;
      for (const room of taken.rooms) this.rooms.add(room);
      this.smId = taken.smId;
      this.smPersist();
      await this.cleanup(full, moved);
      return undefined;
    }
    return taken;
  }

  /**
   * Claims the orphan `smId` (see sm/sm-orphans.ts), waiting up to `smOrphanWaitMs` for the
   * reap of its dead gateway (and for that reaper to queue its entries); undefined when the
   * session is gone, stays held by a live gateway, or this stream closed meanwhile.
   */
  private async claimOrphan(orphans: SmOrphans, bare: string, resource: string, smId: string, sessionId: string): Promise<Claimed | undefined> {
    const deadline = Date.now() + (this.d.smOrphanWaitMs ?? 0);
    for (;;) {
      if (this.state !== 'resuming') return undefined;
      const state = await orphans.state(bare, smId, sessionId);
      if (state === 'gone') return undefined;
      if (state === 'orphan') {
        const claimed = await orphans.claim(bare, resource, smId, this.transport.kind);
        if (claimed) return claimed;
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The hand-over of a claimed orphan; undefined when it is not this session. */
  private fromClaim(c: Claimed, full: Jid, smId: string): HandOver | undefined {
    if (c.record.sessionId !== this.sessionId) return undefined;
    const items: Outbound[] = [];
    for (const item of c.items) {
      try {
        items.push({ el: parseOwnElement(item.x, NS.CLIENT), at: item.t });
      } catch {
        this.log.warn('dropping a malformed queued stanza of a claimed session');
      }
    }
    return {
      jid: full,
      record: c.record,
      sessionId: c.record.sessionId,
      rooms: c.rooms,
      sm: SmState.restore(this.d.config.sm.maxUnacked, { inbound: c.inbound, acked: c.acked, items }),
      smId,
      smMaxSec: c.windowSec > 0 ? c.windowSec : this.d.config.sm.resumeTimeoutSec,
      unavailableStatus: '',
      afterCrash: true,
    };
  }

  /** Reads the state another gateway's {@link takeOver} wrote; undefined when it is not for this session or malformed. */
  private parseHandOver(text: string, full: Jid, smId: string): HandOver | undefined {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const record = typeof v.record === 'object' && v.record !== null ? (v.record as SessionRecord) : undefined;
    if (typeof v.sessionId !== 'string' || v.sessionId !== this.sessionId || !record || record.sessionId !== v.sessionId) return undefined;
    if (!Array.isArray(v.rooms) || !Array.isArray(v.items) || typeof v.inbound !== 'number' || typeof v.acked !== 'number') return undefined;
    const max = this.d.config.sm.maxUnacked;
    if (v.items.length > max + 1 || v.rooms.length > 100_000) return undefined;
    const items: Outbound[] = [];
    for (const raw of v.items as Array<{ xml?: unknown; at?: unknown }>) {
      if (typeof raw?.xml !== 'string') return undefined;
      try {
        items.push({ el: parseOwnElement(raw.xml, NS.CLIENT), at: typeof raw.at === 'number' ? raw.at : this.d.now() });
      } catch {
        return undefined;
      }
    }
    return {
      jid: full,
      record,
      sessionId: v.sessionId,
      rooms: (v.rooms as unknown[]).filter((r): r is string => typeof r === 'string'),
      sm: SmState.restore(max, { inbound: v.inbound, acked: v.acked, items }),
      smId,
      smMaxSec: typeof v.smMaxSec === 'number' ? v.smMaxSec : this.d.config.sm.resumeTimeoutSec,
      unavailableStatus: typeof v.unavailableStatus === 'string' ? v.unavailableStatus : '',
    };
  }

  /**
   * XEP-0198 §5, this gateway's side of a resumption on gateway `gateway`: hands the session
   * over (the old stream, if still open, gets `conflict`) and returns its state as JSON;
   * for {@link FORWARD_MS} afterwards this object forwards what still arrives here for the
   * session (rooms not yet told, routers that read the old record) to its new gateway.
   */
  async takeOver(smId: string, gateway: string): Promise<string | undefined> {
    if (this.smId === undefined || smId !== this.smId || this.forwardTo || gateway === this.d.gatewayId) return undefined;
    const taken = this.handOver();
    if (!taken) return undefined;
    const snap = taken.sm.snapshot();
    const state = {
      sessionId: taken.sessionId,
      record: taken.record,
      rooms: taken.rooms,
      inbound: snap.inbound,
      acked: snap.acked,
      items: snap.items.map((i) => ({ xml: serialize('el' in i ? i.el : i.shared.element(i.to)), at: i.at })),
      smMaxSec: taken.smMaxSec,
      unavailableStatus: taken.unavailableStatus,
    };
    const jid = taken.jid.toString();
    this.forwardTo = { jid, record: { ...taken.record, gateway } };
    setTimeout(() => {
      if (!this.forwardTo) return;
      this.forwardTo = undefined;
      this.d.local.delete(jid, this);
    }, FORWARD_MS).unref();
    this.log.info({ gateway, unacked: snap.items.length }, 'session handed over to a resumption on another gateway');
    return JSON.stringify(state);
  }

  /** Sends what arrives for a session handed over to another gateway there. */
  private forward(stanza: Element): void {
    const to = this.forwardTo!;
    this.d.router.deliverToSession(to.jid, to.record, stanza).catch((err: unknown) => this.log.warn({ err }, 'forwarding to the new gateway failed'));
  }

  /**
   * Gives this session's state to a stream resuming it (XEP-0198 §5) and ends this one
   * without any cleanup (the session lives on); undefined when it cannot be resumed.
   */
  private handOver(): HandOver | undefined {
    if ((this.state !== 'bound' && this.state !== 'detached') || !this.sm || this.smId === undefined || !this.jid || !this.record) return undefined;
    const wasConnected = this.state === 'bound';
    // What CSI still holds is queued first (emit while detached), so nothing is lost.
    this.state = 'detached';
    this.flushCsi();
    this.csi = undefined;
    this.state = 'closed';
    clearTimeout(this.detachTimer);
    clearTimeout(this.smAckTimer);
    for (const waiter of [...(this.pendingRequests?.values() ?? [])]) waiter(undefined);
    if (this.d.resumable?.get(this.smId) === this) this.d.resumable.delete(this.smId);
    const out: HandOver = {
      jid: this.jid,
      record: this.record,
      sessionId: this.sessionId,
      rooms: [...this.rooms],
      sm: this.sm,
      smId: this.smId,
      smMaxSec: this.smMaxSec,
      unavailableStatus: this.unavailableStatus,
    };
    // Nothing left for end() to undo: the session continues on the new stream.
    this.jid = undefined;
    this.record = undefined;
    this.sm = undefined;
    this.smId = undefined;
    this.smKey = undefined;
    this.rooms.onAdd = this.rooms.onClear = undefined;
    this.rooms.clear();
    if (wasConnected) {
      // §5: the former stream still open gets a conflict stream error.
      this.transport.send(streamError('conflict', 'the session was resumed on another stream'));
      this.transport.closeStream();
    } else {
      // The connection is gone already: end() will not run for this object.
      this.ended = true;
      this.d.onEnded(this);
    }
    return out;
  }

  /**
   * XEP-0198 §4: once the session is over, each stanza the client did not acknowledge (and
   * each one queued while detached) is handled as sent to an unavailable resource (RFC 6121
   * §8.5.3.2: messages to other resources or offline storage, iq get/set bounced), with a
   * XEP-0203 delay stamp of when it was first sent. Call after the registry entry is gone.
   */
  private async rerouteUnacked(domain: string): Promise<void> {
    const sm = this.sm;
    if (!sm) return;
    this.sm = undefined;
    const items = sm.drain();
    if (items.length > 0) this.log.info({ count: items.length }, 'handling unacknowledged stanzas as undelivered');
    for (const item of items) {
      const el = 'el' in item ? clone(item.el) : item.shared.element(item.to);
      if (el.attrs.to === undefined) continue;
      if (el.name === 'message' && !el.getChild('delay', DELAY_NS)) {
        el.c('delay', { xmlns: DELAY_NS, from: domain, stamp: new Date(item.at).toISOString() }).up();
      }
      try {
        await this.d.router.route(el, 1);
      } catch (err) {
        this.log.warn({ err }, 're-routing an unacknowledged stanza failed');
      }
    }
  }

  /** Cleans up after the connection is gone: registry, local table, unavailable presence. */
  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.state = 'closed';
    this.csi = undefined;
    clearTimeout(this.detachTimer);
    clearTimeout(this.smAckTimer);
    if (this.smId !== undefined && this.d.resumable?.get(this.smId) === this) this.d.resumable.delete(this.smId);
    for (const waiter of [...(this.pendingRequests?.values() ?? [])]) waiter(undefined);
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.flow.stop();
    // Let queued work (e.g. a bind in flight) finish first so its registration is undone too.
    await this.queue.catch(() => undefined);
    const full = this.jid;
    const record = this.record;
    if (full && record) await this.cleanup(full, record);
    this.log.debug('disconnected');
    this.d.onEnded(this);
  }

  /** Registry, local table, re-routing of what was not acknowledged, rooms, unavailable presence, last activity. */
  private async cleanup(full: Jid, record: SessionRecord): Promise<void> {
    const key = this.smMirror();
    this.rooms.onAdd = this.rooms.onClear = undefined;
    if (key) {
      // This gateway was reaped while alive (e.g. paused): the reaper kept the session as an
      // orphan, or it was resumed elsewhere since. It lives on there: nothing to undo here.
      const holder = await this.d.smStore!.holder(key.bare, key.smId).catch(() => this.d.gatewayId);
      if (holder !== undefined && holder !== this.d.gatewayId) {
        this.d.local.delete(full.toString(), this);
        this.log.info({ holder }, 'the session is held by another gateway now; leaving it to it');
        return;
      }
    }
    {
      this.d.local.delete(full.toString(), this);
      try {
        await this.d.registry.unbind(full, record);
        if (key) await this.d.smStore!.delete(key.bare, key.smId);
        await this.rerouteUnacked(full.domain);
        await this.d.router.sessionEnded(full.toString(), this.sessionId, this.rooms);
        if (record.available) {
          const bare = full.bare().toString();
          const unavailable = new Element('presence', { from: full.toString(), to: bare, type: 'unavailable' });
          await this.d.router.broadcastToOwnResources(bare, unavailable, full.toString());
        }
        // RFC 6121 §4.5.2, §4.6.3: contacts and directed-presence targets learn it is gone.
        await this.d.presence?.sessionGone(full.toString(), record);
      } catch (err) {
        this.log.warn({ err }, 'session cleanup failed; the reaper will finish it');
      }
      // XEP-0012 §3: when the account last logged out, with its last unavailable status.
      try {
        await this.d.accountServices?.lastActivity.record(full.bare().toString(), this.d.now(), this.unavailableStatus);
      } catch (err) {
        this.log.warn({ err }, 'recording last activity failed');
      }
    }
  }
}

/** A stanza as kept in Redis (`KeySpace.smQueue`). */
function toStored(item: Outbound): StoredItem {
  return { x: 'el' in item ? serialize(item.el) : item.shared.text(item.to, false), t: item.at };
}
