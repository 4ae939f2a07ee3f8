/*
 * The part of @xmpp/client 0.14 (untyped JavaScript) these tests use. Elements are ltx
 * elements (@xmpp/xml's Element extends ltx's).
 */
declare module '@xmpp/client' {
  import type { Element } from 'ltx';

  export interface XmppClientOptions {
    service: string;
    domain?: string;
    username?: string;
    password?: string;
    resource?: string;
    timeout?: number;
  }

  export interface XmppJid {
    toString(): string;
    bare(): XmppJid;
    local: string;
    domain: string;
    resource: string;
  }

  export interface XmppClient {
    status: string;
    jid: XmppJid | null;
    options: XmppClientOptions;
    reconnect: { stop(): void };
    iqCaller: { request(iq: Element, timeoutMs?: number): Promise<Element> };
    socket: { end?(): void; destroy?(): void } | null;
    start(): Promise<XmppJid>;
    stop(): Promise<void>;
    disconnect(timeoutMs?: number): Promise<void>;
    send(...elements: Element[]): Promise<void>;
    on(event: 'stanza' | 'element' | 'nonza' | 'send', listener: (el: Element) => void): this;
    on(event: 'error', listener: (err: Error & { condition?: string }) => void): this;
    on(event: 'offline' | 'online' | 'disconnect' | 'close' | 'status', listener: (...args: unknown[]) => void): this;
    once(event: string, listener: (...args: unknown[]) => void): this;
  }

  export function client(options: XmppClientOptions): XmppClient;
  export function xml(name: string, attrs?: Record<string, string | number | undefined> | null, ...children: Array<Element | string>): Element;
  export function jid(local: string, domain?: string, resource?: string): XmppJid;
}
