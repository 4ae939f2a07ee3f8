/*
 * The gateway's Prometheus metrics (issue #4), in the process registry that
 * `MetricsPublisher` (`@parley/metrics`) writes to Redis. Counters are incremented inline
 * through label children cached in maps (no allocation per stanza); the connection gauge is
 * read from the gateway's session set when the registry is read.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What a client session counts; `ClientSession` works without it (tests). */
export interface SessionMetrics {
  /** A SASL exchange succeeded with `mechanism` (an IANA name). */
  login(mechanism: string): void;
  /** A SASL attempt failed (aborts are not failures); `mechanism` as offered, or `other`. */
  authFailure(mechanism: string): void;
  /** A stanza from the client after binding: `message`, `presence` or `iq`. */
  stanzaIn(kind: string): void;
  /** A stanza to the client: routed to it, or an error reply of the gateway. */
  stanzaOut(kind: string): void;
  /** A limit of issue #10 tripped (see {@link LimitEvent}). */
  limit(event: LimitEvent): void;
}

/**
 * Limits that trip (docs/operations.md): `input-paused` a session's socket stopped being read
 * (rate or queue bound), `connection-refused` a per-address cap refused a connection,
 * `auth-throttled` a SASL attempt got `temporary-auth-failure` for too many failures,
 * `slow-reader-closed` a session ended with `resource-constraint` because its client did not
 * read, `shard-held` a stanza waited for a lagging room shard, `sm-unacked-closed` a session
 * ended with `resource-constraint` because its client left more than `sm.maxUnacked` stanzas
 * unacknowledged (XEP-0198).
 */
export type LimitEvent = 'input-paused' | 'connection-refused' | 'auth-throttled' | 'slow-reader-closed' | 'shard-held' | 'sm-unacked-closed';

/** Label values accepted as they are; anything else (client-chosen text) counts as `other`. */
const STANZA_KINDS = new Set(['message', 'presence', 'iq']);

/** A counter with one label whose children are created once per value. */
class LabelledCounter {
  private readonly children = new Map<string, Counter.Internal>();
  constructor(private readonly counter: Counter<string>) {}
  inc(value: string): void {
    let child = this.children.get(value);
    if (!child) this.children.set(value, (child = this.counter.labels(value)));
    child.inc();
  }
}

/**
 * `parley_connections{transport}` (gauge), `parley_logins_total{mechanism}`,
 * `parley_auth_failures_total{mechanism}`, `parley_stanzas_in_total{kind}`,
 * `parley_stanzas_out_total{kind}`, `parley_limit_events_total{event}` (counters),
 * `parley_delivery_wait_seconds` (histogram: the delivery hop's queueing delay).
 */
export class GatewayMetrics implements SessionMetrics {
  private readonly logins: LabelledCounter;
  private readonly authFailures: LabelledCounter;
  private readonly stanzasIn: LabelledCounter;
  private readonly stanzasOut: LabelledCounter;
  private readonly limits: LabelledCounter;
  private readonly deliveryWait: Histogram;

  /**
   * @param mechanisms - the SASL mechanism names the gateway knows (other names count as `other`)
   * @param connections - client connections by transport, read when the registry is read
   */
  constructor(registry: Registry, private readonly mechanisms: readonly string[], connections: () => { tcp: number; websocket: number }) {
    const registers = [registry];
    new Gauge({
      name: 'parley_connections',
      help: 'Client connections (authenticated or not), by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        const n = connections();
        this.set({ transport: 'tcp' }, n.tcp);
        this.set({ transport: 'websocket' }, n.websocket);
      },
    });
    const counter = (name: string, help: string, label: string) =>
      new LabelledCounter(new Counter({ name, help, labelNames: [label], registers }));
    this.logins = counter('parley_logins_total', 'Successful SASL authentications, by mechanism', 'mechanism');
    this.authFailures = counter('parley_auth_failures_total', 'Failed SASL attempts, by mechanism', 'mechanism');
    this.stanzasIn = counter('parley_stanzas_in_total', 'Stanzas received from clients after resource binding, by kind', 'kind');
    this.stanzasOut = counter('parley_stanzas_out_total', 'Stanzas sent to clients: routed to them, or error replies of the gateway, by kind', 'kind');
    this.deliveryWait = new Histogram({
      name: 'parley_delivery_wait_seconds',
      help: "Time from a delivery stream entry being added (its id: Redis time) to this gateway handling it (gateway clock)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.limits = counter('parley_limit_events_total', 'Limits that tripped: input-paused, connection-refused, auth-throttled, slow-reader-closed, shard-held, sm-unacked-closed', 'event');
  }

  login(mechanism: string): void {
    this.logins.inc(this.mechanisms.includes(mechanism) ? mechanism : 'other');
  }

  authFailure(mechanism: string): void {
    this.authFailures.inc(this.mechanisms.includes(mechanism) ? mechanism : 'other');
  }

  stanzaIn(kind: string): void {
    this.stanzasIn.inc(STANZA_KINDS.has(kind) ? kind : 'other');
  }

  stanzaOut(kind: string): void {
    this.stanzasOut.inc(STANZA_KINDS.has(kind) ? kind : 'other');
  }

  limit(event: LimitEvent): void {
    this.limits.inc(event);
  }

  /** Records a delivery stream entry's wait before handling, in ms (negative: clock skew, counted as 0). */
  deliveryWaited(ms: number): void {
    this.deliveryWait.observe(Math.max(0, ms) / 1000);
  }
}
