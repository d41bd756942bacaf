/**
 * A long-lived client session, as a phone that stays connected: logs in (SRV discovery, SCRAM,
 * stream management as @xmpp/client negotiates it), sends available presence, and then answers
 * commands, one JSON object per line on standard input, with one JSON line on standard output:
 *   {"id":1,"op":"ping"}                       → a round trip to the server over this connection
 *   {"id":2,"op":"send","to":J,"body":B}       → a chat message
 *   {"id":3,"op":"wait","body":B,"timeoutMs":N}→ the message with body B (received since start);
 *                                                with "pattern":P instead, the first whose body matches P
 *   {"id":4,"op":"join","room":R,"nick":N}     → enters group chat R (XEP-0045) as N
 *   {"id":5,"op":"sendRoom","room":R,"body":B} → a group chat message
 *   {"id":6,"op":"download","url":U}           → GETs U over HTTPS: its HTTP status, type, size and SHA-256
 *   {"id":7,"op":"stop"}                       → closes the stream and exits
 * Every answer carries `connection`: the session's TCP connection (local port), and `drops`: how
 * often it lost its connection. Reconnecting is switched off: a session that drops stays down, so a
 * test sees a server restart as a dropped session, never as one silently resumed.
 *   node -r ts-node/register session.ts '{"jid":…,"password":…,"resource":…}'
 * Prints `ONLINE {"jid":…,"connection":…}` once the session is up.
 */
import { createHash } from 'crypto';
import { createInterface } from 'readline';
import { connect, Element, iq, xml, XmppClient } from './xmpp';

interface Command {
  readonly id: number;
  readonly op: 'ping' | 'send' | 'wait' | 'join' | 'sendRoom' | 'download' | 'stop';
  readonly to?: string;
  readonly body?: string;
  readonly pattern?: string;
  readonly room?: string;
  readonly nick?: string;
  readonly url?: string;
  readonly timeoutMs?: number;
}

function localPort(xmpp: XmppClient): number | undefined {
  const socket = xmpp.socket as unknown as { localPort?: number; socket?: { localPort?: number } } | undefined;
  return socket?.localPort ?? socket?.socket?.localPort;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as { jid: string; password: string; resource?: string };
  const xmpp = await connect({ jid: args.jid, password: args.password, resource: args.resource ?? 'session' });
  (xmpp as unknown as { reconnect: { stop(): void } }).reconnect.stop();
  const connection = localPort(xmpp);
  let drops = 0;
  const events: string[] = [];
  xmpp.on('disconnect', () => {
    drops += 1;
    events.push(`${new Date().toISOString()} disconnect`);
  });
  xmpp.on('offline', () => events.push(`${new Date().toISOString()} offline`));
  const received: Element[] = [];
  const waiters: { matches: (body: string | null) => boolean; resolve: (e: Element) => void }[] = [];
  const presences: Element[] = [];
  xmpp.on('stanza', (stanza: Element) => {
    if (stanza.is('presence')) presences.push(stanza);
    if (!stanza.is('message')) return;
    received.push(stanza);
    const body = stanza.getChildText('body');
    for (const w of waiters.filter((w) => w.matches(body))) w.resolve(stanza);
  });
  await xmpp.send(xml('presence'));
  const state = () => ({ connection: localPort(xmpp) ?? null, firstConnection: connection ?? null, drops, events, status: xmpp.status });
  process.stdout.write(`ONLINE ${JSON.stringify({ jid: xmpp.jid?.toString(), ...state() })}\n`);

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const command = JSON.parse(line) as Command;
    let answer: Record<string, unknown>;
    try {
      if (command.op === 'ping') {
        const reply = await iq(xmpp, xml('iq', { type: 'get', to: args.jid.split('@')[1] }, xml('ping', { xmlns: 'urn:xmpp:ping' })), command.timeoutMs ?? 10000);
        answer = { ping: reply.attrs.type };
      } else if (command.op === 'send') {
        await xmpp.send(xml('message', { type: 'chat', to: command.to, id: `m${command.id}` }, xml('body', {}, command.body)));
        answer = { sent: true };
      } else if (command.op === 'wait') {
        const pattern = command.pattern === undefined ? undefined : new RegExp(command.pattern);
        const matches = (body: string | null): boolean => (pattern === undefined ? body === command.body : body !== null && pattern.test(body));
        const already = received.find((m) => matches(m.getChildText('body')));
        const message = already ?? (await new Promise<Element>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no message ${pattern ?? `"${command.body}"`} within ${command.timeoutMs ?? 10000} ms`)), command.timeoutMs ?? 10000);
          waiters.push({ matches, resolve: (e) => { clearTimeout(timer); resolve(e); } });
        }));
        const oob = message.getChild('x', 'jabber:x:oob');
        answer = { from: message.attrs.from, to: message.attrs.to, type: message.attrs.type, body: message.getChildText('body'), oobUrl: oob?.getChildText('url') ?? null };
      } else if (command.op === 'join') {
        const occupant = `${command.room}/${command.nick}`;
        await xmpp.send(xml('presence', { to: occupant }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' }, xml('history', { maxstanzas: '0' }))));
        const deadline = Date.now() + (command.timeoutMs ?? 10000);
        let self: Element | undefined;
        while (self === undefined && Date.now() < deadline) {
          self = presences.find((p) => p.attrs.from === occupant && (p.attrs.type === 'error' || p.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChildren('status').some((st) => st.attrs.code === '110')));
          if (self === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        if (self === undefined) throw new Error(`no self-presence from ${occupant}`);
        if (self.attrs.type === 'error') throw new Error(`${occupant} refused: ${self.toString()}`);
        const created = self.getChild('x', 'http://jabber.org/protocol/muc#user')!.getChildren('status').some((st) => st.attrs.code === '201');
        // A room just created stays locked until its owner accepts a configuration: the default one (an instant room).
        if (created) await iq(xmpp, xml('iq', { type: 'set', to: command.room }, xml('query', { xmlns: 'http://jabber.org/protocol/muc#owner' }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }))), 10000);
        answer = { joined: occupant, created };
      } else if (command.op === 'sendRoom') {
        await xmpp.send(xml('message', { type: 'groupchat', to: command.room, id: `m${command.id}` }, xml('body', {}, command.body)));
        answer = { sent: true };
      } else if (command.op === 'download') {
        const response = await fetch(command.url!);
        const bytes = Buffer.from(await response.arrayBuffer());
        answer = { httpStatus: response.status, contentType: response.headers.get('content-type'), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      } else {
        const before = state();
        await xmpp.stop().catch(() => undefined);
        process.stdout.write(`${JSON.stringify({ id: command.id, ok: true, ...before })}\n`);
        process.exit(0);
      }
      process.stdout.write(`${JSON.stringify({ id: command.id, ok: true, ...answer, ...state() })}\n`);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ id: command.id, ok: false, error: error instanceof Error ? error.message : String(error), ...state() })}\n`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
