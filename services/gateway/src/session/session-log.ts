// A client session's logger, made only when the session first writes a line (issue #15:
// a pino child logger costs about 650 bytes of heap per session, and at level `warn` most
// sessions never write one).
import type { Logger } from 'pino';

/** Levels a session logs at. */
type SessionLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The logger of one client session: every line carries `{ sessionId, transport, remote }`
 * and, once known, `jid`, with the values given at construction (a session makes a new
 * one when its JID or id changes). The pino child of `parent` with those bindings is made
 * at the first line whose level `parent` writes, and reused after; a line of a level that
 * is off makes nothing. Lines are written exactly as `parent.child(bindings)` writes them.
 */
export class SessionLog {
  private child: Logger | undefined;

  /**
   * @param parent - the gateway's logger (its level decides which lines are written)
   * @param sessionId - the session id, for the `sessionId` binding
   * @param transport - `tcp` or `websocket`
   * @param remote - the client's address, as the transport gives it
   * @param jid - the session's JID (bare once authenticated, full once bound); undefined before
   */
  constructor(
    private readonly parent: Logger,
    private readonly sessionId: string,
    private readonly transport: string,
    private readonly remote: string,
    private readonly jid: string | undefined,
  ) {}

  debug(objOrMsg: object | string, msg?: string): void {
    this.write('debug', objOrMsg, msg);
  }

  info(objOrMsg: object | string, msg?: string): void {
    this.write('info', objOrMsg, msg);
  }

  warn(objOrMsg: object | string, msg?: string): void {
    this.write('warn', objOrMsg, msg);
  }

  error(objOrMsg: object | string, msg?: string): void {
    this.write('error', objOrMsg, msg);
  }

  private write(level: SessionLogLevel, objOrMsg: object | string, msg: string | undefined): void {
    if (!this.parent.isLevelEnabled(level)) return;
    if (this.child === undefined) {
      const bindings: Record<string, string> = { sessionId: this.sessionId, transport: this.transport, remote: this.remote };
      if (this.jid !== undefined) bindings.jid = this.jid;
      this.child = this.parent.child(bindings);
    }
    if (msg === undefined) this.child[level](objOrMsg as string);
    else this.child[level](objOrMsg, msg);
  }
}
