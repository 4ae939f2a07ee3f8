// @parley/muc: XEP-0045 multi-user chat rooms as a pure state machine (no I/O). The room
// worker feeds `step` one input at a time and carries out the returned stanzas and effects.
export { step } from './step.js';
export { serviceStep } from './service-step.js';
export { roomSummary, type RoomSummary } from './room-summary.js';
export { defaultRoomConfig, type RoomConfig, type AllowPm, type Whois } from './room-config.js';
export type {
  Affiliation,
  AffiliationRecord,
  Hat,
  HistoryEntry,
  Occupant,
  OccupantSession,
  Role,
  RoomState,
  RoomSubject,
} from './room-state.js';
export type { RoomContext, RoomInput, StanzaOrigin } from './room-input.js';
export type { Broadcast, Effect, Outgoing, StepResult } from './step-result.js';
export { REFUSALS, type CommandRefusal, type Refusal, type RefusalName } from './errors.js';
export type { RoomCommand, CommandErrorCode, CommandResult, RoomSnapshot } from './room-command.js';
export { parseRoomCommand, type ParsedCommand } from './room-command-parse.js';
export { roomSnapshot } from './room-snapshot.js';
export { roomFromJson, roomToJson, RoomJsonError, type RoomJson } from './room-json.js';
export { occupantByNick, prepareNick, type Nick } from './nick.js';
export {
  archiveEntryFromJson,
  archiveItemNotFound,
  archiveResults,
  archiveFin,
  matchesWith,
  mamQueryForm,
  parseArchiveQuery,
  FORWARD_NS,
  RSM_NS,
  DEFAULT_MAX_RESULTS as ARCHIVE_DEFAULT_MAX_RESULTS,
  MAM_NS,
  type ArchiveEntry,
  type ArchiveLimits,
  type ArchivePage,
  type ArchiveQuery,
} from './features/mam.js';
export { applyTombstone, MODERATE_NS, RETRACT_NS, type ArchiveRetraction } from './features/moderate.js';
