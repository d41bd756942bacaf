/**
 * A long-lived client session, as a phone that stays connected: logs in (SRV discovery, SCRAM,
 * stream management as @xmpp/client negotiates it), sends available presence, and then answers
 * commands, one JSON object per line on standard input, with one JSON line on standard output:
 *   {"id":1,"op":"ping"}                       → a round trip to the server over this connection
 *   {"id":2,"op":"send","to":J,"body":B}       → a chat message
 *   {"id":3,"op":"wait","body":B,"timeoutMs":N}→ the message with body B (received since start)
 *   {"id":4,"op":"stop"}                       → closes the stream and exits
 * Every answer carries `connection`: the session's TCP connection (local port), and `drops`: how
 * often it lost its connection. Reconnecting is switched off: a session that drops stays down, so a
 * test sees a server restart as a dropped session, never as one silently resumed.
 *   node -r ts-node/register session.ts '{"jid":…,"password":…,"resource":…}'
 * Prints `ONLINE {"jid":…,"connection":…}` once the session is up.
 */
import { createInterface } from 'readline';
import { connect, Element, iq, xml, XmppClient } from './xmpp';

interface Command {
  readonly id: number;
  readonly op: 'ping' | 'send' | 'wait' | 'stop';
  readonly to?: string;
  readonly body?: string;
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
  const waiters: { body: string; resolve: (e: Element) => void }[] = [];
  xmpp.on('stanza', (stanza: Element) => {
    if (!stanza.is('message')) return;
    received.push(stanza);
    const body = stanza.getChildText('body');
    for (const w of waiters.filter((w) => w.body === body)) w.resolve(stanza);
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
        const already = received.find((m) => m.getChildText('body') === command.body);
        const message = already ?? (await new Promise<Element>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no message "${command.body}" within ${command.timeoutMs ?? 10000} ms`)), command.timeoutMs ?? 10000);
          waiters.push({ body: command.body!, resolve: (e) => { clearTimeout(timer); resolve(e); } });
        }));
        answer = { from: message.attrs.from, to: message.attrs.to, body: message.getChildText('body') };
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
