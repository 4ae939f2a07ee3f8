import { Element } from 'ltx';
import { NS } from '@parley/xml';

/** XEP-0440 SASL Channel-Binding Type Capability. */
export const SASL_CB_NS = 'urn:xmpp:sasl-cb:0';

/**
 * Stream features before authentication (RFC 6120 §4.3.2, §5.3.1, §6.3.1): STARTTLS when
 * it can be offered, and the SASL mechanisms, unless TLS is required first; with them the
 * channel binding types the -PLUS mechanisms accept (XEP-0440 §2: a `<sasl-channel-binding/>`
 * stream feature next to `<mechanisms/>`, one `<channel-binding type=…/>` per type; left out
 * when `channelBindings` is empty or absent).
 */
export function preAuthFeatures(opts: {
  startTls: 'no' | 'optional' | 'required';
  mechanisms: readonly string[];
  channelBindings?: readonly string[];
}): Element {
  const features = new Element('stream:features');
  if (opts.startTls !== 'no') {
    const tls = features.c('starttls', { xmlns: NS.TLS });
    if (opts.startTls === 'required') tls.c('required').up();
  }
  if (opts.startTls !== 'required' && opts.mechanisms.length > 0) {
    const mechs = features.c('mechanisms', { xmlns: NS.SASL });
    for (const m of opts.mechanisms) mechs.c('mechanism').t(m).up();
    if (opts.channelBindings && opts.channelBindings.length > 0) {
      const cb = features.c('sasl-channel-binding', { xmlns: SASL_CB_NS });
      for (const type of opts.channelBindings) cb.c('channel-binding', { type }).up();
    }
  }
  return features;
}

/**
 * Stream features after SASL (RFC 6120 §7.2): resource binding, the legacy session
 * feature marked optional (RFC 6121 Appendix E; draft-cridland-xmpp-session), roster
 * versioning (RFC 6121 §2.6.1) and subscription pre-approval (§3.4.1).
 */
export function postAuthFeatures(): Element {
  const features = new Element('stream:features');
  features.c('bind', { xmlns: NS.BIND }).up();
  features.c('session', { xmlns: NS.SESSION }).c('optional').up().up();
  // RFC 6121 §2.6.1 roster versioning and §3.4.1 subscription pre-approval.
  features.c('ver', { xmlns: 'urn:xmpp:features:rosterver' }).up();
  features.c('sub', { xmlns: 'urn:xmpp:features:pre-approval' }).up();
  return features;
}
