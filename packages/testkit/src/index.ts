/**
 * @parley/testkit: what cross-service tests need to run real processes: a private
 * redis-server, gateway and room worker processes (alone or as a whole cluster), the gateway
 * CLI, free ports, and a raw-socket XMPP client.
 */
export { startRedis } from './start-redis.js';
export type { RedisServer, StartRedisOptions } from './start-redis.js';
export { startRedisSentinel } from './start-redis-sentinel.js';
export type { RedisSentinelSet, StartRedisSentinelOptions } from './start-redis-sentinel.js';
export { startRedisCluster } from './start-redis-cluster.js';
export type { RedisClusterNode, RedisClusterSet, StartRedisClusterOptions } from './start-redis-cluster.js';
export { freePort, freePorts } from './free-port.js';
export { startGateway } from './start-gateway.js';
export type { GatewayProcess, StartGatewayOptions } from './start-gateway.js';
export { xmppctl } from './xmppctl.js';
export type { XmppctlOptions, XmppctlResult } from './xmppctl.js';
export { RawClient } from './raw-client.js';
export type { RawMatch, RawWaitOptions, PumpResult } from './raw-client.js';
export { loginPlain, loginScram, authenticateScram, bindResource, openStream, offeredMechanisms } from './login.js';
export type { RawLogin, RawSession } from './login.js';
export { ScramClient, tlsChannelBinding, type ChannelBinding, type ScramMechanism, type ScramPlusMechanism } from '@parley/sasl';
export { streamHeader, elementRe, escapeXml, unescapeXml, FEATURES_RE } from './xml-text.js';
export { repoRoot } from './repo-root.js';
export { TestkitError, TESTKIT_ERRORS } from './errors.js';
export type { TestkitErrorCode } from './errors.js';
export type { ExitStatus } from './child-registry.js';
export { startRoomWorker, type RoomWorkerProcess, type StartRoomWorkerOptions } from './start-room-worker.js';
export type { ServiceProcess } from './service-process.js';
export { startAdminApi, type AdminApiProcess, type StartAdminApiOptions } from './start-admin-api.js';
export { startMucCluster, type MucCluster, type StartMucClusterOptions } from './start-muc-cluster.js';
export { startProsody, prosodyInstalled, prosodyReferenceDir, type ProsodyServer, type StartProsodyOptions } from './start-prosody.js';
