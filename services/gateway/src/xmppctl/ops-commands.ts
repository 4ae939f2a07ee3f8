// Registers xmppctl's operations commands (issue #14 item 4) in one call from xmppctl.ts:
// `room list|create|destroy|occupants`, `session kick`, `status`, `check`.
import type { Command } from 'commander';
import { registerCheck } from './check.js';
import type { CtlContext } from './ctl-context.js';
import { registerRoomCommands } from './rooms.js';
import { registerSessionKick } from './session-kick.js';
import { registerStatus } from './status.js';

export type { CtlContext } from './ctl-context.js';

/** Adds the operations commands to `program` (after `session` exists, so `kick` joins it). */
export function registerOpsCommands(program: Command, ctx: CtlContext): void {
  registerRoomCommands(program, ctx);
  registerSessionKick(program, ctx);
  registerStatus(program, ctx);
  registerCheck(program, ctx);
}
