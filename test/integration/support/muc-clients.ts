// Clients of a MUC test cluster (`startMucCluster` from @parley/testkit), on the scansion
// runner's client: connecting to a chosen gateway, joining a room, iq round trips. Shared by
// the MUC integration tests; every client is disconnected by `disconnectAll`.
import type { Element } from 'ltx';
import type { MucCluster } from '@parley/testkit';
import { ScansionClient } from '../../scansion/lib/client.js';

const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';

/** Whether `el` is the self-presence (status 110, XEP-0045 §7.2.3) of `occupantJid`. */
export const isSelfPresence = (occupantJid: string) => (el: Element): boolean =>
  el.name === 'presence' && el.attrs.from === occupantJid && el.getChild('x', MUC_USER)?.getChildren('status').some((s) => s.attrs.code === '110') === true;

export class MucClients {
  private readonly clients: ScansionClient[] = [];

  /** @param cluster - the cluster (read at each connect: it is started in a `before` hook) */
  constructor(private readonly cluster: () => MucCluster | undefined) {}

  /** Logs `<user>@localhost/res` in (any password: the test cluster's open authentication) on gateway `gateway` (index). */
  async connect(user: string, gateway: number): Promise<ScansionClient> {
    const cluster = this.cluster();
    if (!cluster) throw new Error('the cluster is not started');
    const client = await ScansionClient.connect({ host: '127.0.0.1', port: cluster.gateways[gateway]!.c2sPort, jid: `${user}@localhost/res`, password: 'pw' });
    this.clients.push(client);
    return client;
  }

  /** The next stanza of `client` that `match` accepts (others are skipped); rejects after `timeoutMs`. */
  next(client: ScansionClient, match: (el: Element) => boolean, timeoutMs = 10_000): Promise<Element> {
    return client.nextMatching(match, timeoutMs);
  }

  /** Enters `room` as `nick` (XEP-0045 §7.2) and waits for the self-presence. */
  async join(client: ScansionClient, room: string, nick: string, timeoutMs = 10_000): Promise<void> {
    client.send(`<presence to='${room}/${nick}'><x xmlns='${MUC}'/></presence>`);
    await this.next(client, isSelfPresence(`${room}/${nick}`), timeoutMs);
  }

  /** Sends `xml` (an iq with id `id`) and resolves with the answer of that id. */
  async iq(client: ScansionClient, id: string, xml: string, timeoutMs = 10_000): Promise<Element> {
    client.send(xml);
    return this.next(client, (el) => el.name === 'iq' && el.attrs.id === id, timeoutMs);
  }

  async disconnectAll(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.disconnect().catch(() => undefined);
  }
}
