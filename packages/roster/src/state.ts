/**
 * The presence subscription state machine of RFC 6121 Appendix A, as pure functions.
 *
 * A roster item's subscription state is the pair (subscription, pending flags):
 * `subscription` is `none`, `to`, `from` or `both` (RFC 6121 §2.1.2.5); `pendingOut` is the
 * item's `ask='subscribe'` (the user asked the contact, no answer yet, §3.1.2); `pendingIn`
 * is an inbound request the user has not answered (§3.1.3; never shown in the roster).
 * Together they form the nine states of Appendix A.1 ("None + Pending Out", "To + Pending
 * In", ...). `approved` is the pre-approval flag of §3.4.
 */

/** The four values of the `subscription` attribute a roster item can hold (RFC 6121 §2.1.2.5). */
export type Subscription = 'none' | 'to' | 'from' | 'both';

/** The four subscription-related presence types (RFC 6121 §3). */
export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

/** One side's subscription state toward one contact (RFC 6121 Appendix A.1). */
export interface SubState {
  subscription: Subscription;
  /** The user sent a subscription request the contact has not answered ("Pending Out"). */
  pendingOut: boolean;
  /** The contact sent a subscription request the user has not answered ("Pending In"). */
  pendingIn: boolean;
  /** The user pre-approved the contact's subscription (RFC 6121 §3.4). */
  approved: boolean;
}

/** The state of a contact that is in no roster and has no pending request: "None". */
export const NONE: Readonly<SubState> = Object.freeze({ subscription: 'none', pendingOut: false, pendingIn: false, approved: false });

/** What the user's server does with a subscription stanza the user sent (RFC 6121 Appendix A.2). */
export interface OutboundResult {
  /** The user's new state toward the contact (equal to the old one when nothing changes). */
  state: SubState;
  /** Whether the state changed, so the user's interested resources get a roster push (§2.1.6). */
  push: boolean;
  /** Whether the stanza is routed to the contact (stamped with the user's bare JID, §3.1.2). */
  route: boolean;
  /**
   * §3.1.5/§3.2: after approving a subscription (`subscribed` that changed the state) the
   * user's server sends the contact the presence of each of the user's available resources;
   * after cancelling one (`unsubscribed` that ended it, §3.2.2) it sends unavailable presence.
   */
  sendPresence: 'available' | 'unavailable' | undefined;
}

/** What the contact's server does with a subscription stanza that arrived for the contact (RFC 6121 Appendix A.3). */
export interface InboundResult {
  /** The contact's new state toward the sender. */
  state: SubState;
  /** Whether the state changed: the contact's interested resources get a roster push. */
  push: boolean;
  /** Whether the stanza is delivered to the contact's resources. */
  deliver: boolean;
  /**
   * An answer the server sends on the contact's behalf, from the contact's bare JID:
   * `subscribed` for a request from a contact who is already subscribed (§3.1.3 "from"/"both")
   * or pre-approved (§3.4), `unsubscribed` for a probe from a non-subscriber (§4.3.2).
   */
  autoReply: 'subscribed' | undefined;
}

const same = (a: SubState, b: SubState) =>
  a.subscription === b.subscription && a.pendingOut === b.pendingOut && a.pendingIn === b.pendingIn && a.approved === b.approved;

const hasFrom = (s: Subscription) => s === 'from' || s === 'both';
const hasTo = (s: Subscription) => s === 'to' || s === 'both';
const withFrom = (s: Subscription, on: boolean): Subscription =>
  on ? (s === 'to' || s === 'both' ? 'both' : 'from') : s === 'both' || s === 'to' ? 'to' : 'none';
const withTo = (s: Subscription, on: boolean): Subscription =>
  on ? (s === 'from' || s === 'both' ? 'both' : 'to') : s === 'both' || s === 'from' ? 'from' : 'none';

/**
 * The user sent a subscription stanza to a contact (RFC 6121 Appendix A.2, §3.1.2, §3.2.2,
 * §3.3.2, §3.4.1):
 * - `subscribe` (A.2.1): Pending Out is set unless the user is subscribed already; always routed.
 * - `subscribed` (A.2.2): with Pending In, grants "from"; without, a pre-approval (§3.4: noted,
 *   pushed, not routed; none when the contact is subscribed already).
 * - `unsubscribe` (A.2.3): clears "to" and Pending Out; always routed (the contact's server
 *   cleans its side even when ours had nothing).
 * - `unsubscribed` (A.2.4): clears "from", Pending In and a pre-approval; routed when it changed something.
 */
export function outbound(s: SubState, type: SubscriptionType): OutboundResult {
  let next: SubState = { ...s };
  let route = true;
  let sendPresence: OutboundResult['sendPresence'];
  switch (type) {
    case 'subscribe':
      if (!hasTo(s.subscription)) next.pendingOut = true;
      break;
    case 'subscribed':
      if (s.pendingIn) {
        next = { ...next, subscription: withFrom(s.subscription, true), pendingIn: false, approved: false };
        sendPresence = 'available';
      } else if (!hasFrom(s.subscription)) {
        // §3.4.1: pre-approval, noted and pushed with approved='true', not routed.
        next.approved = true;
        route = false;
      } else {
        route = false;
      }
      break;
    case 'unsubscribe':
      next = { ...next, subscription: withTo(s.subscription, false), pendingOut: false };
      break;
    case 'unsubscribed':
      next = { ...next, subscription: withFrom(s.subscription, false), pendingIn: false, approved: false };
      route = !same(s, next);
      if (hasFrom(s.subscription)) sendPresence = 'unavailable';
      break;
  }
  const changed = !same(s, next);
  // Pending In is not part of the roster item: a change of it alone is not pushed.
  const push = changed && !(s.subscription === next.subscription && s.pendingOut === next.pendingOut && s.approved === next.approved);
  return { state: next, push, route, sendPresence };
}

/**
 * A subscription stanza from `contact` arrived for the user (RFC 6121 Appendix A.3, §3.1.3,
 * §3.1.6, §3.2.3, §3.3.3):
 * - `subscribe` (A.3.1): from a contact with "from"/"both" or pre-approved, auto-answered
 *   `subscribed` (pre-approval turns into "from"); otherwise Pending In is set and the
 *   request delivered (once: a repeated request is not delivered again).
 * - `subscribed` (A.3.2 "subscribed"): only meaningful with Pending Out: grants "to".
 * - `unsubscribe`: ends "from" and Pending In.
 * - `unsubscribed`: ends "to" and Pending Out.
 * Stanzas that change nothing are neither delivered nor pushed.
 */
export function inbound(s: SubState, type: SubscriptionType): InboundResult {
  let next: SubState = { ...s };
  let autoReply: InboundResult['autoReply'];
  let deliver = false;
  switch (type) {
    case 'subscribe':
      if (hasFrom(s.subscription)) {
        autoReply = 'subscribed';
      } else if (s.approved) {
        next = { ...next, subscription: withFrom(s.subscription, true), pendingIn: false, approved: false };
        autoReply = 'subscribed';
      } else if (!s.pendingIn) {
        next.pendingIn = true;
        deliver = true;
      }
      break;
    case 'subscribed':
      if (s.pendingOut) {
        next = { ...next, subscription: withTo(s.subscription, true), pendingOut: false };
        deliver = true;
      }
      break;
    case 'unsubscribe':
      if (hasFrom(s.subscription) || s.pendingIn) {
        next = { ...next, subscription: withFrom(s.subscription, false), pendingIn: false };
        deliver = true;
      }
      break;
    case 'unsubscribed':
      if (hasTo(s.subscription) || s.pendingOut) {
        next = { ...next, subscription: withTo(s.subscription, false), pendingOut: false };
        deliver = true;
      }
      break;
  }
  const push = !(s.subscription === next.subscription && s.pendingOut === next.pendingOut && s.approved === next.approved);
  return { state: next, push, deliver, autoReply };
}

/** Whether a presence type is one of the four subscription types. */
export function isSubscriptionType(type: string | undefined): type is SubscriptionType {
  return type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed';
}

/** Whether the contact receives the user's presence: the user's item has "from" or "both" (RFC 6121 §4.2.2). */
export function sendsPresenceTo(s: Subscription): boolean {
  return hasFrom(s);
}

/** Whether the user receives the contact's presence: "to" or "both" (RFC 6121 §4.2.1: probe these). */
export function receivesPresenceFrom(s: Subscription): boolean {
  return hasTo(s);
}
