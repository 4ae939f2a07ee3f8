/**
 * What the session registry stores for one bound resource (RFC 6120 §7), as JSON in the
 * user's sessions hash (see `KeySpace.userSessions`).
 */
export interface SessionRecord {
  /** Id of the gateway process holding the client connection. */
  gateway: string;
  /** Unique id of the session (changes when a resource conflict replaces a session). */
  sessionId: string;
  /** Whether the resource has sent available presence (RFC 6121 §4.2); only available resources get bare-JID messages. */
  available: boolean;
  /** Presence priority, -128..127 (RFC 6121 §4.7.2.3); 0 until presence says otherwise. */
  priority: number;
  /** When the resource was bound, ms since epoch. */
  since: number;
  /** How the client is connected. */
  transport: 'tcp' | 'websocket';
}

/** Parses a registry value, returning undefined for anything that is not a well-formed record. */
export function parseSessionRecord(raw: string | null | undefined): SessionRecord | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<SessionRecord>;
    if (typeof v.gateway !== 'string' || typeof v.sessionId !== 'string') return undefined;
    return {
      gateway: v.gateway,
      sessionId: v.sessionId,
      available: v.available === true,
      priority: typeof v.priority === 'number' ? v.priority : 0,
      since: typeof v.since === 'number' ? v.since : 0,
      transport: v.transport === 'websocket' ? 'websocket' : 'tcp',
    };
  } catch {
    return undefined;
  }
}
