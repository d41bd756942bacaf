/** The part of @xmpp/client 0.14 (which ships no types) that xmpp-doctor and the rehearsal scenarios use. */
declare module '@xmpp/client' {
  import { EventEmitter } from 'events';

  export interface Element {
    name: string;
    attrs: { [name: string]: any };
    children: (Element | string)[];
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    is(name: string, xmlns?: string): boolean;
    append(...children: (Element | string)[]): Element;
    toString(): string;
  }

  export interface Client extends EventEmitter {
    jid?: { toString(): string; bare(): { toString(): string }; local: string; domain: string; resource: string };
    status: string;
    socket?: unknown;
    iqCaller: { request(stanza: Element, timeout?: number): Promise<Element> };
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(...stanzas: Element[]): Promise<void>;
  }

  export interface ClientOptions {
    service?: string;
    domain?: string;
    username?: string;
    password?: string;
    resource?: string;
    lang?: string;
  }

  export function client(options: ClientOptions): Client;
  export function xml(name: string, attrs?: { [name: string]: any } | null, ...children: (Element | string | undefined | null)[]): Element;
  export function jid(value: string): { toString(): string; bare(): { toString(): string }; local: string; domain: string; resource: string };
}
