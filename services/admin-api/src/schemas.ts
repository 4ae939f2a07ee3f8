// JSON schemas shared by the routes. Fastify validates requests and serialises responses
// with them, and @fastify/swagger turns them into the OpenAPI document, so they are the
// single description of the API. Response schemas list every field (the serialiser drops
// what they do not list).

/** `{ error, message, details? }`: the body of every 4xx/5xx. */
export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'stable error code (see the README)' },
    message: { type: 'string' },
    details: { description: 'code-specific details, e.g. the list of schema violations' },
  },
} as const;

/** Error responses every route may give. */
export const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

/** 204 No Content. */
export const noContent = { type: 'null', description: 'done' } as const;

/** A JID as a string (parsed and normalised by the handler; invalid → 400 `invalid-jid`). */
export const jidString = { type: 'string', minLength: 1, maxLength: 3071 } as const;

/** `{ jid }` path parameters. */
export const jidParams = {
  type: 'object',
  required: ['jid'],
  properties: { jid: { ...jidString, description: 'a JID (percent-encode a `/` before a resource)' } },
  additionalProperties: false,
} as const;

/** Builds a page schema `{ items: [item], next? }`. */
export function pageOf(item: object) {
  return {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: item }, next: { type: 'string', description: 'cursor of the next page; absent on the last' } },
  } as const;
}

/** XEP-0045 roles and affiliations. */
export const roleSchema = { type: 'string', enum: ['moderator', 'participant', 'visitor', 'none'] } as const;
export const affiliationSchema = { type: 'string', enum: ['owner', 'admin', 'member', 'outcast', 'none'] } as const;

/** `RoomConfig` (XEP-0045 §10.2 muc#roomconfig), every field optional for input. */
export const roomConfigProperties = {
  name: { type: 'string', maxLength: 1024, description: 'muc#roomconfig_roomname' },
  description: { type: 'string', maxLength: 4096, description: 'muc#roomconfig_roomdesc' },
  persistent: { type: 'boolean', description: 'muc#roomconfig_persistentroom' },
  public: { type: 'boolean', description: 'muc#roomconfig_publicroom' },
  membersOnly: { type: 'boolean', description: 'muc#roomconfig_membersonly' },
  moderated: { type: 'boolean', description: 'muc#roomconfig_moderatedroom' },
  passwordProtected: { type: 'boolean', description: 'muc#roomconfig_passwordprotectedroom (follows `password`)' },
  password: { type: 'string', maxLength: 1024, description: "muc#roomconfig_roomsecret; '' = none" },
  whois: { type: 'string', enum: ['moderators', 'anyone'], description: 'muc#roomconfig_whois' },
  maxUsers: { type: 'integer', minimum: 0, maximum: 1_000_000, description: 'muc#roomconfig_maxusers; 0 = unlimited' },
  changeSubject: { type: 'boolean', description: 'muc#roomconfig_changesubject' },
  allowInvites: { type: 'boolean', description: 'muc#roomconfig_allowinvites' },
  allowPm: { type: 'string', enum: ['anyone', 'participants', 'moderators', 'none'], description: 'muc#roomconfig_allowpm' },
  presenceBroadcast: { type: 'array', items: { type: 'string', enum: ['moderator', 'participant', 'visitor', 'none'] }, uniqueItems: true, description: 'muc#roomconfig_presencebroadcast (none: show absent members to joiners)' },
  historyLength: { type: 'integer', minimum: 0, maximum: 1000, description: 'discussion history kept, in messages' },
  language: { type: 'string', maxLength: 64, description: 'muc#roomconfig_lang' },
  allowVoiceRequests: { type: 'boolean', description: 'muc#roomconfig_allowvoicerequests (XEP-0045 §7.13 voice requests from visitors)' },
  allowRegister: { type: 'boolean', description: 'unaffiliated users may register a nick with the room and so become members (XEP-0045 §7.10); default false' },
  archiving: { type: 'boolean', description: 'muc#roomconfig_enablearchiving: the room keeps a XEP-0313 message archive; default true' },
} as const;

/** A room configuration in a request: any subset of the fields. */
export const roomConfigInput = { type: 'object', properties: roomConfigProperties, additionalProperties: false, minProperties: 1 } as const;

/** An occupant of a room. */
export const occupantSchema = {
  type: 'object',
  required: ['nick', 'jid', 'role', 'affiliation'],
  properties: {
    nick: { type: 'string' },
    jid: { type: 'string', description: 'real bare JID' },
    fullJids: { type: 'array', items: { type: 'string' } },
    role: roleSchema,
    affiliation: affiliationSchema,
  },
} as const;

/** One affiliation of a room. */
export const affiliationItemSchema = {
  type: 'object',
  required: ['jid', 'affiliation'],
  properties: { jid: { type: 'string' }, affiliation: affiliationSchema, nick: { type: 'string' } },
} as const;

/** A XEP-0317 hat (`Hat` of @parley/muc); the room checks the byte limits and that `uri` is absolute. */
export const hatSchema = {
  type: 'object',
  required: ['uri', 'title'],
  properties: {
    uri: { type: 'string', minLength: 1, maxLength: 1024, description: 'identifies the hat (an absolute URI, at most 1024 UTF-8 bytes)' },
    title: { type: 'string', minLength: 1, maxLength: 256, description: 'shown to users (at most 256 UTF-8 bytes)' },
    hue: { type: 'number', minimum: 0, maximum: 360, description: 'XEP-0392 hue angle in degrees, less than 360 (360 itself: 400 `bad-request` from the room)' },
  },
  additionalProperties: false,
} as const;

/** The hats one user wears in a room, in the order assigned. */
export const hatsItemSchema = {
  type: 'object',
  required: ['jid', 'hats'],
  properties: { jid: { type: 'string', description: 'bare JID' }, hats: { type: 'array', items: hatSchema } },
} as const;

/** `RoomSnapshot`: a room as `GET /v1/rooms/{jid}` shows it. */
export const roomSchema = {
  type: 'object',
  required: ['jid', 'config', 'locked', 'created', 'occupants', 'affiliations'],
  properties: {
    jid: { type: 'string' },
    config: { type: 'object', properties: roomConfigProperties, description: '`password` only with `?secrets=true` and a token of scope admin' },
    locked: { type: 'boolean' },
    subject: { type: ['object', 'null'], properties: { text: { type: 'string' }, nick: { type: 'string' } } },
    created: { type: 'integer', description: 'ms since epoch' },
    occupants: { type: 'array', items: occupantSchema },
    affiliations: { type: 'array', items: affiliationItemSchema },
    hats: { type: 'array', items: hatsItemSchema, description: 'XEP-0317 hats by user; absent when nobody wears any' },
  },
} as const;

/** A job (`GET /v1/jobs/{id}`, and the 202 of every route that starts one). */
export const jobSchema = {
  type: 'object',
  required: ['id', 'name', 'state', 'progress', 'attemptsMade', 'createdAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string', enum: ['delete-user', 'announce', 'cleanup-offline'] },
    state: { type: 'string', enum: ['waiting', 'active', 'completed', 'failed', 'delayed', 'unknown'] },
    progress: { type: 'number', minimum: 0, maximum: 100 },
    data: { description: 'the job input' },
    result: { description: 'the job output, once completed' },
    failedReason: { type: 'string' },
    attemptsMade: { type: 'integer' },
    createdAt: { type: 'integer', description: 'ms since epoch' },
    finishedAt: { type: 'integer', description: 'ms since epoch' },
  },
} as const;

/** An online session. */
export const sessionSchema = {
  type: 'object',
  required: ['jid', 'bareJid', 'resource', 'gateway', 'since', 'transport', 'available', 'priority'],
  properties: {
    jid: { type: 'string', description: 'full JID' },
    bareJid: { type: 'string' },
    resource: { type: 'string' },
    gateway: { type: 'string', description: 'id of the gateway holding the connection' },
    sessionId: { type: 'string' },
    since: { type: 'integer', description: 'resource bound at, ms since epoch' },
    transport: { type: 'string', enum: ['tcp', 'websocket'] },
    available: { type: 'boolean', description: 'has sent available presence (RFC 6121 §4.2)' },
    priority: { type: 'integer' },
  },
} as const;

/** The stream error conditions an operator may end a session with (RFC 6120 §4.9.3). */
export const kickQuery = {
  type: 'object',
  properties: {
    reason: { type: 'string', maxLength: 1024, description: 'text of the stream error' },
    condition: {
      type: 'string',
      enum: ['policy-violation', 'not-authorized', 'reset', 'system-shutdown', 'conflict'],
      default: 'policy-violation',
      description: 'stream error condition (RFC 6120 §4.9.3)',
    },
  },
  additionalProperties: false,
} as const;
