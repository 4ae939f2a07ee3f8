// @parley/room-worker: the actor runtime hosting XEP-0045 rooms on leased shards (issue #3).
export { RoomWorker } from './room-worker.js';
export { desiredOwner } from './membership/rendezvous.js';
export { planEnvelopes, type Delivery, type PlannedEnvelope } from './delivery/plan-envelopes.js';
export { resolveRecipients, type TurnOutput } from './delivery/resolve-recipients.js';
export { ShardActor, type StreamEntry, type TurnResult, type TurnEnv, type HistoryChange } from './shard/shard-actor.js';
export { loadShard, commitTurn, nextStreamId, type LoadedShard } from './shard/shard-store.js';
export { defineScripts, type ScriptedRedis } from './redis-scripts.js';
