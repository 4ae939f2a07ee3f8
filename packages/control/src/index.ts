// @parley/control: the control plane's client over Redis, for the admin API and jobs:
// room commands through the rooms' shard streams, online sessions (list, kick, deliver),
// and the cluster's membership and shard map.
export { RoomCommands, type RoomCommandsOptions } from './room-commands.js';
export { Sessions, type SessionInfo, type SessionPage } from './sessions.js';
export { readRoomDirectory } from './room-directory.js';
export { readClusterState, type ClusterState, type GatewayState, type WorkerState, type ShardState } from './cluster-state.js';
export { ControlError, CONTROL_ERRORS, type ControlErrorCode } from './errors.js';
