// XEP-0163 PEP node configuration: the defaults, XEP-0060 §7.1.5 publish options and their
// preconditions. Pure: no I/O.
import { Element } from 'ltx';

export const PUBSUB_NS = 'http://jabber.org/protocol/pubsub';
export const PUBSUB_EVENT_NS = 'http://jabber.org/protocol/pubsub#event';
export const PUBSUB_OWNER_NS = 'http://jabber.org/protocol/pubsub#owner';
export const PUBSUB_ERRORS_NS = 'http://jabber.org/protocol/pubsub#errors';
export const PUBLISH_OPTIONS_FORM = 'http://jabber.org/protocol/pubsub#publish-options';
/** XEP-0060 §16.4.4: FORM_TYPE of node configuration forms (§8.1.3 create-and-configure, §8.2 configure, §8.3 default). */
export const NODE_CONFIG_FORM = 'http://jabber.org/protocol/pubsub#node_config';
const DATA_FORMS_NS = 'jabber:x:data';

/** XEP-0060 §4.5 access models we serve on PEP nodes (`authorize` and `roster` are not offered). */
export type AccessModel = 'open' | 'presence' | 'whitelist';

/** One PEP node's configuration (XEP-0060 §16.4.4 fields of the same names). */
export interface NodeConfig {
  /** `pubsub#access_model`: who may retrieve items and get notifications. */
  access: AccessModel;
  /** `pubsub#persist_items`: false = a transient node, items are notified but not stored. */
  persist: boolean;
  /** `pubsub#max_items`: items kept, 1..`limits.maxPepItems` (`max` = that limit). */
  maxItems: number;
  /** `pubsub#send_last_published_item`: `never` = no last item on presence (XEP-0163 §6.2). */
  sendLast: 'never' | 'on_sub' | 'on_sub_and_presence';
  /** `pubsub#notify_retract`: retractions are notified when the request does not say. */
  notifyRetract: boolean;
  /** `pubsub#notification_type`: message type of notifications (XEP-0060 §12.5). */
  notificationType: 'headline' | 'normal';
}

/**
 * The configuration of an auto-created PEP node (XEP-0163 §4.2 "default configuration"):
 * access `presence`, persistent items, one item (as Prosody 0.12's PEP), last item sent on
 * presence, retractions notified, headline notifications.
 */
export const DEFAULT_NODE_CONFIG: Readonly<NodeConfig> = Object.freeze({
  access: 'presence',
  persist: true,
  maxItems: 1,
  sendLast: 'on_sub_and_presence',
  notifyRetract: true,
  notificationType: 'headline',
});

/** The publish options a request asked for (only the fields it named). */
export type RequestedOptions = Partial<NodeConfig>;

/** A refusal of publish options: the stanza error condition (RFC 6120 §8.3.3) and a text. */
export interface OptionsError {
  error: 'bad-request' | 'not-acceptable';
  text: string;
}

const parseBool = (v: string): boolean | undefined => (v === '1' || v === 'true' ? true : v === '0' || v === 'false' ? false : undefined);

/**
 * Parses `<publish-options><x xmlns='jabber:x:data' type='submit'>` (XEP-0060 §7.1.5).
 * The form's FORM_TYPE must be `…#publish-options`; fields we do not know are ignored (as
 * Prosody 0.12 does); a known field with an invalid value gets `bad-request`; a `max_items`
 * above `maxItems` gets `not-acceptable` (XEP-0060 §8.2.5.4: an unsupported option value).
 * @param options - the `<publish-options/>` element, or undefined (then: nothing requested)
 * @param maxItems - `limits.maxPepItems`, also the value of `max` (XEP-0060 §16.4.4)
 */
export function parsePublishOptions(options: Element | undefined, maxItems: number): RequestedOptions | OptionsError {
  if (!options) return {};
  const form = options.getChild('x', DATA_FORMS_NS);
  if (!form) return options.getChildElements().length === 0 ? {} : { error: 'bad-request', text: 'publish-options holds a data form' };
  return parseConfigFields(form, PUBLISH_OPTIONS_FORM, maxItems, 'publish-options');
}

/**
 * Parses the submitted `<x xmlns='jabber:x:data' type='submit'>` of a node configuration
 * (XEP-0060 §8.1.3 create-and-configure, §8.2.4 configure). FORM_TYPE, when present, must
 * be `…#node_config` (Prosody 0.12 also takes a form without one); unknown fields are
 * ignored (as Prosody); the access models we do not offer (`authorize`, `roster`) get
 * `not-acceptable` (§8.2.5.4 unsupported option value, as Prosody), other invalid values
 * `bad-request` (§8.2.5.3), a `max_items` above `maxItems` too (as Prosody: "out of bounds").
 */
export function parseNodeConfigForm(form: Element, maxItems: number): RequestedOptions | OptionsError {
  return parseConfigFields(form, NODE_CONFIG_FORM, maxItems, 'node_config');
}

function parseConfigFields(form: Element, formTypeWanted: string, maxItems: number, kind: 'publish-options' | 'node_config'): RequestedOptions | OptionsError {
  const requested: RequestedOptions = {};
  const fields = new Map<string, string[]>();
  for (const f of form.getChildren('field')) {
    const name = f.attrs.var;
    if (typeof name !== 'string') continue;
    fields.set(name, f.getChildren('value').map((v) => v.getText().trim()));
  }
  const formType = fields.get('FORM_TYPE')?.[0];
  if (formType !== formTypeWanted && !(kind === 'node_config' && formType === undefined)) return { error: 'bad-request', text: `FORM_TYPE must be ${formTypeWanted}` };
  const single = (name: string) => fields.get(name)?.[0];
  const access = single('pubsub#access_model');
  if (access !== undefined) {
    if (kind === 'node_config' && (access === 'authorize' || access === 'roster')) return { error: 'not-acceptable', text: `unsupported pubsub#access_model ${access}` };
    if (access !== 'open' && access !== 'presence' && access !== 'whitelist') return { error: 'bad-request', text: `unsupported pubsub#access_model ${access}` };
    requested.access = access;
  }
  for (const [field, key] of [
    ['pubsub#persist_items', 'persist'],
    ['pubsub#notify_retract', 'notifyRetract'],
  ] as const) {
    const v = single(field);
    if (v === undefined) continue;
    const b = parseBool(v);
    if (b === undefined) return { error: 'bad-request', text: `${field} must be a boolean` };
    requested[key] = b;
  }
  const max = single('pubsub#max_items');
  if (max !== undefined) {
    const n = max === 'max' ? maxItems : /^\d{1,9}$/.test(max) ? Number(max) : NaN;
    if (!Number.isInteger(n) || n < 1) return { error: 'bad-request', text: 'pubsub#max_items must be a positive integer or max' };
    if (n > maxItems) return { error: kind === 'node_config' ? 'bad-request' : 'not-acceptable', text: `pubsub#max_items above this server's limit (${maxItems})` };
    requested.maxItems = n;
  }
  const sendLast = single('pubsub#send_last_published_item');
  if (sendLast !== undefined) {
    if (sendLast !== 'never' && sendLast !== 'on_sub' && sendLast !== 'on_sub_and_presence') return { error: 'bad-request', text: 'invalid pubsub#send_last_published_item' };
    requested.sendLast = sendLast;
  }
  const type = single('pubsub#notification_type');
  if (type !== undefined) {
    if (type !== 'headline' && type !== 'normal') return { error: 'bad-request', text: 'pubsub#notification_type is headline or normal' };
    requested.notificationType = type;
  }
  return requested;
}

/** Whether a parse result is a refusal. */
export const isOptionsError = (r: RequestedOptions | OptionsError): r is OptionsError => 'error' in r && typeof (r as OptionsError).text === 'string';

/** The configuration of a node created by a publish with `requested` (XEP-0060 §7.1.5: "the node MUST be created with those options"). */
export function configFor(requested: RequestedOptions): NodeConfig {
  return { ...DEFAULT_NODE_CONFIG, ...requested };
}

/**
 * XEP-0060 §7.1.5: the first requested option whose value differs from the existing node's
 * configuration (the publish then fails with `conflict` + `<precondition-not-met/>`), or
 * undefined when every precondition holds.
 */
export function unmetPrecondition(config: NodeConfig, requested: RequestedOptions): keyof NodeConfig | undefined {
  for (const key of Object.keys(requested) as Array<keyof NodeConfig>) {
    if (requested[key] !== config[key]) return key;
  }
  return undefined;
}

/** The stored form of a configuration (JSON). */
export const encodeConfig = (c: NodeConfig): string => JSON.stringify(c);

/** Reads a stored configuration; anything malformed falls back to the defaults field by field. */
export function decodeConfig(raw: string): NodeConfig {
  let v: Partial<Record<keyof NodeConfig, unknown>> = {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object') v = parsed as typeof v;
  } catch {
    // defaults
  }
  const d = DEFAULT_NODE_CONFIG;
  return {
    access: v.access === 'open' || v.access === 'presence' || v.access === 'whitelist' ? v.access : d.access,
    persist: typeof v.persist === 'boolean' ? v.persist : d.persist,
    maxItems: typeof v.maxItems === 'number' && Number.isInteger(v.maxItems) && v.maxItems >= 1 ? v.maxItems : d.maxItems,
    sendLast: v.sendLast === 'never' || v.sendLast === 'on_sub' || v.sendLast === 'on_sub_and_presence' ? v.sendLast : d.sendLast,
    notifyRetract: typeof v.notifyRetract === 'boolean' ? v.notifyRetract : d.notifyRetract,
    notificationType: v.notificationType === 'normal' ? 'normal' : 'headline',
  };
}

/**
 * The node configuration form (XEP-0060 §8.2.1 configure, §8.3 default; fields of §16.4.4):
 * `<x xmlns='jabber:x:data' type='form'>` with FORM_TYPE `…#node_config` and the fields we
 * serve, each with its current value; `max_items` carries XEP-0122 validation 1..`maxItems`.
 */
export function nodeConfigForm(config: NodeConfig, maxItems: number): Element {
  const x = new Element('x', { xmlns: DATA_FORMS_NS, type: 'form' });
  x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NODE_CONFIG_FORM);
  const list = (name: string, label: string, options: readonly string[], value: string) => {
    const f = x.c('field', { var: name, type: 'list-single', label });
    for (const o of options) f.c('option', { label: o }).c('value').t(o);
    f.c('value').t(value);
  };
  const bool = (name: string, label: string, value: boolean) => x.c('field', { var: name, type: 'boolean', label }).c('value').t(value ? '1' : '0');
  const max = x.c('field', { var: 'pubsub#max_items', type: 'text-single', label: 'Max # of items to persist' });
  max.c('validate', { xmlns: 'http://jabber.org/protocol/xdata-validate', datatype: 'pubsub:integer-or-max' }).c('range', { min: '1', max: String(maxItems) });
  max.c('value').t(String(config.maxItems));
  bool('pubsub#persist_items', 'Persist items to storage', config.persist);
  list('pubsub#access_model', 'Specify the subscriber model', ['open', 'presence', 'whitelist'], config.access);
  list('pubsub#send_last_published_item', 'When to send the last published item', ['never', 'on_sub', 'on_sub_and_presence'], config.sendLast);
  list('pubsub#notification_type', 'Specify the delivery style for notifications', ['normal', 'headline'], config.notificationType);
  bool('pubsub#notify_retract', 'Whether to notify subscribers when items are removed from the node', config.notifyRetract);
  return x;
}
