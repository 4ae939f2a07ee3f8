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
  /** The session asked for the roster (RFC 6121 §2.1.3): an "interested resource" that gets roster pushes. */
  interested?: boolean;
  /** The session's last available presence broadcast, serialised, answered to probes (RFC 6121 §4.3.2). */
  presence?: string;
  /** Bare or full JIDs the session sent directed available presence to (RFC 6121 §4.6); they get unavailable at logout. */
  directed?: string[];
  /** The session asked for the blocklist (XEP-0191 §3.2): it gets blocklist pushes (§3.3, §3.4). */
  blocklist?: boolean;
  /** The session enabled message carbons (XEP-0280 §4; until disabled, §5): it gets copies (§7, §8). */
  carbons?: boolean;
  /**
   * The PEP nodes whose notifications the client wants: the `<node>+notify` features of its
   * XEP-0115 caps (XEP-0163 §4.4), bounded by `limits.maxNotifyNodes`. Absent: none known.
   */
  notify?: string[];
  /**
   * XEP-0198 §5: when (ms since epoch) the session's connection dropped without `</stream>`;
   * the session is kept for resumption until `sm.resumeTimeoutSec` after it. Absent: connected.
   */
  detached?: number;
  /** XEP-0198 §5: the SM-ID when the session is resumable (its state: `KeySpace.smState`). */
  sm?: string;
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
      ...(v.interested === true ? { interested: true } : {}),
      ...(typeof v.presence === 'string' ? { presence: v.presence } : {}),
      ...(v.blocklist === true ? { blocklist: true } : {}),
      ...(v.carbons === true ? { carbons: true } : {}),
      ...(Array.isArray(v.notify) ? { notify: v.notify.filter((n): n is string => typeof n === 'string') } : {}),
      ...(typeof v.detached === 'number' ? { detached: v.detached } : {}),
      ...(typeof v.sm === 'string' ? { sm: v.sm } : {}),
      ...(Array.isArray(v.directed) ? { directed: v.directed.filter((j): j is string => typeof j === 'string') } : {}),
    };
  } catch {
    return undefined;
  }
}
