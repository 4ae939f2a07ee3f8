// XEP-0163 PEP nodes and items of accounts, in Redis in the account's slot (keys.ts
// pepNodes, pepMeta, pepItems, pepOrder). Every change is one Lua script, so bounds hold
// under concurrent publishes from several resources or gateways.
import type { Redis } from 'ioredis';
import type { KeySpace } from '@parley/bus';
import { decodeConfig, encodeConfig, type NodeConfig, type RequestedOptions } from './pep-config.js';

/** Bounds of one account's PEP data (`limits.maxPepNodes`, `limits.maxPepBytes`). */
export interface PepStoreLimits {
  maxNodes: number;
  maxBytes: number;
}

/** One stored item: its id and serialised payload. */
export interface StoredItem {
  id: string;
  payload: string;
}

/** Outcome of {@link PepStore.publish}. */
export type PublishOutcome =
  | { result: 'ok'; created: boolean; config: NodeConfig }
  /** XEP-0060 §7.1.5: the node exists and `field` differs from what was requested. */
  | { result: 'precondition'; field: string }
  | { result: 'too-many-nodes' }
  | { result: 'too-large' };

// KEYS: nodes, meta, items, order. ARGV: node, id, payload, config JSON for a new node,
// requested options JSON (preconditions), max nodes, max account bytes.
const PUBLISH = `
local cfgRaw = redis.call('HGET', KEYS[1], ARGV[1])
local created = 0
local cfg
if cfgRaw then
  cfg = cjson.decode(cfgRaw)
  for k, v in pairs(cjson.decode(ARGV[5])) do
    if cfg[k] ~= v then return {'precondition', k} end
  end
else
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then return {'too-many-nodes'} end
  cfgRaw = ARGV[4]
  cfg = cjson.decode(cfgRaw)
  created = 1
end
if cfg.persist then
  local id = ARGV[2]
  local bytes = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0')
  local freed = redis.call('HSTRLEN', KEYS[3], id)
  local exists = redis.call('ZSCORE', KEYS[4], id)
  local count = redis.call('ZCARD', KEYS[4])
  if not exists then count = count + 1 end
  local drop = {}
  if count > cfg.maxItems then
    local n = count - cfg.maxItems
    for _, d in ipairs(redis.call('ZRANGE', KEYS[4], 0, n)) do
      if d ~= id and #drop < n then
        drop[#drop + 1] = d
        freed = freed + redis.call('HSTRLEN', KEYS[3], d)
      end
    end
  end
  local after = bytes - freed + #ARGV[3]
  if after > tonumber(ARGV[7]) then return {'too-large'} end
  if created == 1 then redis.call('HSET', KEYS[1], ARGV[1], cfgRaw) end
  local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  redis.call('ZADD', KEYS[4], seq, id)
  redis.call('HSET', KEYS[3], id, ARGV[3])
  for _, d in ipairs(drop) do
    redis.call('HDEL', KEYS[3], d)
    redis.call('ZREM', KEYS[4], d)
  end
  redis.call('HSET', KEYS[2], 'bytes', after)
elseif created == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], cfgRaw)
end
return {'ok', tostring(created), cfgRaw}
`;

// KEYS: nodes, meta, items, order. ARGV: node, id.
const RETRACT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'no-node' end
if not redis.call('ZSCORE', KEYS[4], ARGV[2]) then return 'no-item' end
local freed = redis.call('HSTRLEN', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'bytes', 0 - freed)
return 'ok'
`;

// KEYS: nodes, meta, items, order. ARGV: node.
const DELETE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'no-node' end
local freed = 0
for _, id in ipairs(redis.call('HKEYS', KEYS[3])) do freed = freed + redis.call('HSTRLEN', KEYS[3], id) end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], 'bytes', 0 - freed)
return 'ok'
`;

// KEYS: nodes. ARGV: node, config JSON, max nodes.
const CREATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'exists' end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 'too-many-nodes' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
`;

// KEYS: nodes, meta, items, order. ARGV: node, config JSON, max items to keep (0: none).
// Drops the oldest items past the new max_items (all of them for a transient node).
const CONFIGURE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'no-node' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local keep = tonumber(ARGV[3])
local count = redis.call('ZCARD', KEYS[4])
if count > keep then
  local freed = 0
  for _, d in ipairs(redis.call('ZRANGE', KEYS[4], 0, count - keep - 1)) do
    freed = freed + redis.call('HSTRLEN', KEYS[3], d)
    redis.call('HDEL', KEYS[3], d)
    redis.call('ZREM', KEYS[4], d)
  end
  redis.call('HINCRBY', KEYS[2], 'bytes', 0 - freed)
end
return 'ok'
`;

// KEYS: nodes, meta, items, order. ARGV: node.
const PURGE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'no-node' end
local freed = 0
for _, id in ipairs(redis.call('HKEYS', KEYS[3])) do freed = freed + redis.call('HSTRLEN', KEYS[3], id) end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('HINCRBY', KEYS[2], 'bytes', 0 - freed)
return 'ok'
`;

/**
 * The PEP service's storage: node configurations (hash per account), items per node (a
 * hash of payloads and a sorted set of ids by publish order), and the account's byte count.
 */
export class PepStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly limits: PepStoreLimits,
  ) {}

  private nodeKeys(owner: string, node: string): string[] {
    return [this.keys.pepNodes(owner), this.keys.pepMeta(owner), this.keys.pepItems(owner, node), this.keys.pepOrder(owner, node)];
  }

  /** The node's configuration, or undefined when the account has no such node. */
  async config(owner: string, node: string): Promise<NodeConfig | undefined> {
    const raw = await this.redis.hget(this.keys.pepNodes(owner), node);
    return raw === null ? undefined : decodeConfig(raw);
  }

  /** Every node of the account with its configuration. */
  async nodes(owner: string): Promise<Map<string, NodeConfig>> {
    // The flat reply, not ioredis's object: node names are the client's (e.g. `__proto__`).
    const flat = (await this.redis.call('HGETALL', this.keys.pepNodes(owner))) as string[];
    const out = new Map<string, NodeConfig>();
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!, decodeConfig(flat[i + 1]!));
    return out;
  }

  /**
   * Publishes one item (XEP-0060 §7.1): creates the node with `newConfig` when it does not
   * exist (bounded by `maxNodes`), else checks `requested` against its configuration; stores
   * the payload when the node persists items (replacing an item with the same id, which
   * becomes the newest) and drops the oldest items past the node's `maxItems`.
   */
  async publish(owner: string, node: string, id: string, payload: string, newConfig: NodeConfig, requested: RequestedOptions): Promise<PublishOutcome> {
    const r = (await this.redis.eval(
      PUBLISH,
      4,
      ...this.nodeKeys(owner, node),
      node,
      id,
      payload,
      encodeConfig(newConfig),
      JSON.stringify(requested),
      String(this.limits.maxNodes),
      String(this.limits.maxBytes),
    )) as string[];
    if (r[0] === 'precondition') return { result: 'precondition', field: r[1] ?? '' };
    if (r[0] === 'too-many-nodes' || r[0] === 'too-large') return { result: r[0] };
    return { result: 'ok', created: r[1] === '1', config: decodeConfig(r[2] ?? '') };
  }

  /** Creates an empty node with `config` (XEP-0060 §8.1): `exists` when it does (→ `conflict`), bounded by `maxNodes`. */
  async create(owner: string, node: string, config: NodeConfig): Promise<'ok' | 'exists' | 'too-many-nodes'> {
    return (await this.redis.eval(CREATE, 1, this.keys.pepNodes(owner), node, encodeConfig(config), String(this.limits.maxNodes))) as 'ok' | 'exists' | 'too-many-nodes';
  }

  /**
   * Replaces a node's configuration (XEP-0060 §8.2.4) and drops the oldest items past its new
   * `maxItems` (every item when it no longer persists items), in one script.
   */
  async configure(owner: string, node: string, config: NodeConfig): Promise<'ok' | 'no-node'> {
    const keep = config.persist ? config.maxItems : 0;
    return (await this.redis.eval(CONFIGURE, 4, ...this.nodeKeys(owner, node), node, encodeConfig(config), String(keep))) as 'ok' | 'no-node';
  }

  /** Removes every item of a node, keeping the node (XEP-0060 §8.5). */
  async purge(owner: string, node: string): Promise<'ok' | 'no-node'> {
    return (await this.redis.eval(PURGE, 4, ...this.nodeKeys(owner, node), node)) as 'ok' | 'no-node';
  }

  /** Removes one item (XEP-0060 §7.2). */
  async retract(owner: string, node: string, id: string): Promise<'ok' | 'no-node' | 'no-item'> {
    return (await this.redis.eval(RETRACT, 4, ...this.nodeKeys(owner, node), node, id)) as 'ok' | 'no-node' | 'no-item';
  }

  /** Deletes a node and its items (XEP-0060 §8.4). */
  async deleteNode(owner: string, node: string): Promise<'ok' | 'no-node'> {
    return (await this.redis.eval(DELETE, 4, ...this.nodeKeys(owner, node), node)) as 'ok' | 'no-node';
  }

  /**
   * Items of a node (XEP-0060 §6.5): the `max` most recent (all by default) in publish order,
   * oldest first, or those named by `ids` (in the order asked, unknown ids left out).
   */
  async items(owner: string, node: string, opts: { max?: number; ids?: readonly string[] } = {}): Promise<StoredItem[]> {
    // The newest `max`, oldest first (the order Prosody 0.12 answers in).
    const ids = opts.ids ?? (await this.redis.zrevrange(this.keys.pepOrder(owner, node), 0, (opts.max ?? Number.MAX_SAFE_INTEGER) - 1)).reverse();
    if (ids.length === 0) return [];
    const payloads = await this.redis.hmget(this.keys.pepItems(owner, node), ...ids);
    const out: StoredItem[] = [];
    ids.forEach((id, i) => {
      const payload = payloads[i];
      if (typeof payload === 'string') out.push({ id, payload });
    });
    return out;
  }
}
