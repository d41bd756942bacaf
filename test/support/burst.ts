/**
 * A burst of chat messages, as a crowd of clients sends it: `accounts` × `resources` connections
 * (STARTTLS on the client port, SASL PLAIN, a bound resource, initial presence), each sending
 * `messagesEach` messages at once to random other full JIDs, every message tagged with its sender
 * and number so that each one is counted on arrival.
 *
 * Completion is decided by count and by the stream's order, never by a clock: after its burst each
 * connection pings the server, and the reply comes only after the server has processed (and
 * routed) everything sent before it; once every sender has its reply, each connection pings again,
 * and that reply comes after every message routed to it. What has not arrived by then never will.
 * A connection whose ping is never answered has stopped being read: `stalledMs` (a safety net for
 * the test run, not a measure) ends the wait and reports it.
 */
import { ChildProcess, spawn } from 'child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as net from 'net';
import { join } from 'path';
import { StringDecoder } from 'string_decoder';
import * as tls from 'tls';
import { xmppName } from '../../lib/core/expansion';
import { PROSODY_CERTS_DIR, PROSODY_SECRETS_INCLUDE } from '../../lib/core/paths';
import { renderProsodyConfig, renderProsodySecretsInclude } from '../../lib/core/prosody';
import { withPackageModules } from './package-modules';
import { certificateNames, ResolvedSpec } from '../../lib/core/spec';
import type { PlatformTools } from './platform';
import { makeSelfSignedCert, makeTempDir, readOrEmpty, removeDir, stopProcess, waitFor } from './tools';

/** A top-level element of the server's stream: its name, its attributes, and its text as received. */
interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string | undefined>>;
  readonly xml: string;
}

const unescape = (text: string): string => text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);

/**
 * Splits the server's stream into its top-level elements. Enough for what Prosody writes (it escapes
 * `<` and `>` in text and attribute values), and with no dependency: the XML parser @xmpp/client uses
 * is an ES module, which the test runner does not load.
 */
class StreamSplitter {
  private buffer = '';
  /** Where scanning resumes, the open top-level element's start, and how deep the scan is in it. */
  private pos = 0;
  private start = -1;
  private depth = 0;

  constructor(private readonly onElement: (e: XmlElement) => void) {}

  write(chunk: string): void {
    this.buffer += chunk;
    const tag = /<[^>]*>/g;
    tag.lastIndex = this.pos;
    let consumed = 0;
    for (let m = tag.exec(this.buffer); m !== null; m = tag.exec(this.buffer)) {
      const t = m[0];
      this.pos = tag.lastIndex;
      if (t.startsWith('<?')) {
        consumed = tag.lastIndex;
      } else if (t.startsWith('<stream:stream')) {
        consumed = tag.lastIndex;
      } else if (t.startsWith('</')) {
        if (t === '</stream:stream>') throw new Error('the server closed the stream');
        if (--this.depth === 0) this.emit(this.buffer.slice(this.start, (consumed = tag.lastIndex)));
      } else {
        if (this.depth === 0) this.start = m.index;
        if (t.endsWith('/>')) {
          if (this.depth === 0) {
            consumed = tag.lastIndex;
            this.emit(t);
          }
        } else this.depth++;
      }
    }
    this.buffer = this.buffer.slice(consumed);
    this.pos -= consumed;
    this.start -= consumed;
  }

  private emit(xml: string): void {
    const head = /^<([^\s/>]+)([^>]*)>/.exec(xml)!;
    const attrs: Record<string, string> = {};
    for (const a of head[2].matchAll(/([\w:-]+)=(?:'([^']*)'|"([^"]*)")/g)) attrs[a[1]] = unescape(a[2] ?? a[3]);
    this.onElement({ name: head[1], attrs, xml });
  }
}

/** The text of the first `<name>` child in `xml`, or undefined. */
function childText(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(xml);
  return m === null ? undefined : unescape(m[1]);
}

export interface BurstOptions {
  /** Where the server's client port is. */
  readonly host: string;
  readonly port: number;
  /** The XMPP domain the accounts are on (stream `to`). */
  readonly domain: string;
  /** The name the server's certificate is checked for. @default domain */
  readonly servername?: string;
  /** CA certificates (PEM) that the server's certificate chains to. */
  readonly ca: string | Buffer;
  /** Account names `${prefix}1` … `${prefix}${accounts}`, all with `password`. */
  readonly prefix: string;
  readonly accounts: number;
  readonly password: string;
  readonly resources: number;
  readonly messagesEach: number;
  /** Each message in a write (a TLS record) of its own, as most clients send them; else each connection's burst in one write. @default true */
  readonly writeEach?: boolean;
  /** How many connections log in at a time. @default 20 */
  readonly loginConcurrency?: number;
  /**
   * The longest a barrier ping may go unanswered before its connection counts as stalled: a safety
   * net that ends a hung run, generous enough for a starved machine. @default 300000
   */
  readonly stalledMs?: number;
  /** Called once every connection is online and before the burst (e.g. to start a CPU hog). */
  readonly beforeBurst?: () => void | Promise<void>;
}

export interface BurstResult {
  /** Messages sent, and the distinct messages that arrived. */
  readonly sent: number;
  readonly delivered: number;
  /** Copies beyond the first, and messages that arrived at the wrong address. */
  readonly duplicates: number;
  readonly misrouted: number;
  /** What never arrived, by sender (full JID): the message numbers. */
  readonly missing: Readonly<Record<string, number[]>>;
  /** Connections whose barrier ping went unanswered (their streams stopped being read or written). */
  readonly stalled: readonly string[];
  /** From the first message sent to the last delivered, and the delivery latencies. */
  readonly elapsedMs: number;
  readonly latenciesMs: readonly number[];
  /** Stream errors and closes seen during the run. */
  readonly errors: readonly string[];
}

class Connection {
  readonly jid: string;
  private socket!: net.Socket;
  private splitter!: StreamSplitter;
  private readonly waiters = new Map<string, (e: XmlElement) => void>();
  private pending: ((e: XmlElement) => void) | undefined;
  ended: string | undefined;

  constructor(
    private readonly options: BurstOptions,
    readonly user: string,
    readonly resource: string,
    private readonly onMessage: (to: string, message: XmlElement) => void,
    private readonly onError: (what: string) => void,
  ) {
    this.jid = `${user}@${options.domain}/${resource}`;
  }

  async open(): Promise<void> {
    const { host, port, domain } = this.options;
    const plain = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => plain.once('connect', resolve).once('error', reject));
    this.attach(plain);
    await this.stream();
    this.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    const proceed = await this.nextTopLevel();
    if (proceed.name !== 'proceed') throw new Error(`${this.jid}: STARTTLS refused: ${proceed.xml}`);
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, servername: this.options.servername ?? domain, ca: this.options.ca });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.attach(secure);
    await this.stream();
    const auth = Buffer.from(`\0${this.user}\0${this.options.password}`).toString('base64');
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
    const outcome = await this.nextTopLevel();
    if (outcome.name !== 'success') throw new Error(`${this.jid}: authentication failed: ${outcome.xml}`);
    await this.stream();
    const bound = await this.iq(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${this.resource}</resource></bind></iq>`, 'bind');
    if (bound.attrs.type !== 'result') throw new Error(`${this.jid}: bind failed: ${bound.xml}`);
    this.write('<presence/>');
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** Send an IQ with the id `id` and resolve with its reply. */
  iq(xml: string, id: string): Promise<XmlElement> {
    const reply = new Promise<XmlElement>((resolve) => this.waiters.set(id, resolve));
    this.write(xml);
    return reply;
  }

  close(): void {
    if (!this.socket.destroyed) {
      this.ended ??= 'closed by the client';
      this.socket.end('</stream:stream>');
      this.socket.destroy();
    }
  }

  private async stream(): Promise<void> {
    this.splitter = new StreamSplitter((e) => this.receive(e));
    this.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${this.options.domain}' version='1.0'>`);
    const features = await this.nextTopLevel();
    if (features.name !== 'stream:features') throw new Error(`${this.jid}: expected stream features, got ${features.xml}`);
  }

  private nextTopLevel(): Promise<XmlElement> {
    return new Promise((resolve) => (this.pending = resolve));
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    const decoder = new StringDecoder('utf8');
    socket.on('data', (data: Buffer) => {
      try {
        this.splitter.write(decoder.write(data));
      } catch (e) {
        this.fail(String(e));
      }
    });
    socket.on('error', (e) => this.fail(`socket error: ${e.message}`));
    socket.on('close', () => this.fail('the connection closed'));
  }

  private receive(e: XmlElement): void {
    if (e.name === 'message') return this.onMessage(this.jid, e);
    if (e.name === 'iq' && e.attrs.id !== undefined && this.waiters.has(e.attrs.id)) {
      const waiter = this.waiters.get(e.attrs.id)!;
      this.waiters.delete(e.attrs.id);
      return waiter(e);
    }
    if (e.name === 'presence') return;
    if (e.name === 'stream:error') this.fail(`stream error: ${e.xml}`);
    const pending = this.pending;
    this.pending = undefined;
    pending?.(e);
  }

  private fail(what: string): void {
    if (this.ended === undefined) {
      this.ended = what;
      this.onError(`${this.jid}: ${what}`);
    }
  }
}

/** Resolves with `promise`'s value, or with undefined after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}

/** The `p`-th percentile (0–100) of `values` by the nearest-rank method. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs the burst described by `options` and counts what arrived. */
export async function runBurst(options: BurstOptions): Promise<BurstResult> {
  const errors: string[] = [];
  /** For each sent message key (`sender#n`): its addressee and when it was sent. */
  const sent = new Map<string, { to: string; at: number }>();
  const arrivals = new Map<string, number>();
  let misrouted = 0;
  let lastArrival = 0;
  const latencies: number[] = [];
  const onMessage = (to: string, message: XmlElement): void => {
    const key = childText(message.xml, 'body');
    const meta = key === undefined ? undefined : sent.get(key);
    if (meta === undefined || meta.to !== to) {
      misrouted++;
      return;
    }
    const count = (arrivals.get(key!) ?? 0) + 1;
    arrivals.set(key!, count);
    if (count === 1) {
      lastArrival = performance.now();
      latencies.push(lastArrival - meta.at);
    }
  };
  const connections: Connection[] = [];
  for (let a = 1; a <= options.accounts; a++) {
    for (let r = 1; r <= options.resources; r++) connections.push(new Connection(options, `${options.prefix}${a}`, `r${r}`, onMessage, (what) => errors.push(what)));
  }
  try {
    const queue = [...connections];
    await Promise.all(Array.from({ length: options.loginConcurrency ?? 20 }, async () => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) await c.open();
    }));
    // Presence round trips settle before the burst: a ping to the server from each.
    await Promise.all(connections.map((c) => c.iq(`<iq type='get' id='ready' to='${options.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`, 'ready')));
    await options.beforeBurst?.();

    const started = performance.now();
    for (const c of connections) {
      const others = connections.filter((o) => o !== c);
      let burst = '';
      for (let n = 1; n <= options.messagesEach; n++) {
        const to = others[Math.floor(Math.random() * others.length)].jid;
        const key = `${c.jid}#${n}`;
        sent.set(key, { to, at: performance.now() });
        const message = `<message type='chat' to='${to}' id='m${n}'><body>${key}</body></message>`;
        if (options.writeEach ?? true) c.write(message);
        else burst += message;
      }
      if (!(options.writeEach ?? true)) c.write(burst);
    }
    const stalledMs = options.stalledMs ?? 300000;
    const stalled = new Set<string>();
    const barrier = async (id: string): Promise<void> => {
      await Promise.all(connections.map(async (c) => {
        if (stalled.has(c.jid)) return;
        const reply = await within(c.iq(`<iq type='get' id='${id}' to='${options.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`, id), stalledMs);
        if (reply === undefined) stalled.add(c.jid);
      }));
    };
    // Every sender's messages have been routed; then every receiver has been written all of its own.
    await barrier('sent');
    await barrier('delivered');

    const missing: Record<string, number[]> = {};
    let duplicates = 0;
    for (const key of sent.keys()) {
      const count = arrivals.get(key) ?? 0;
      if (count > 1) duplicates += count - 1;
      if (count === 0) {
        const [sender, n] = key.split('#');
        (missing[sender] ??= []).push(Number(n));
      }
    }
    return {
      sent: sent.size,
      delivered: arrivals.size,
      duplicates,
      misrouted,
      missing,
      stalled: [...stalled],
      elapsedMs: lastArrival === 0 ? 0 : lastArrival - started,
      latenciesMs: latencies,
      errors,
    };
  } finally {
    for (const c of connections) c.close();
  }
}

/** The issue's burst: 40 accounts × 5 resources, 50 messages each, 10,000 in all. */
export const ISSUE_BURST = { accounts: 40, resources: 5, messagesEach: 50 } as const;

/**
 * The rendered prosody.cfg.lua with only its host paths and ports moved into `dir` (nothing else
 * changed), logging at info: a debug log of 10,000 messages would be the run's main load.
 * `withoutFloodProtection` leaves mod_limits out, for the benchmark's anchor.
 */
export function burstServerConfig(spec: ResolvedSpec, dir: string, c2sPort: number, withoutFloodProtection = false): string {
  let cfg = renderProsodyConfig(spec)
    .replaceAll(PROSODY_SECRETS_INCLUDE, join(dir, 'secrets.cfg.lua'))
    .replaceAll(`"${PROSODY_CERTS_DIR}"`, `"${join(dir, 'certs')}"`)
    .replace(/^pidfile = .*$/m, `pidfile = "${join(dir, 'prosody.pid')}"`)
    .replace(/^log = .*$/m, `log = { info = "${join(dir, 'prosody.log')}" }`)
    .replace(/^c2s_ports = .*$/m, `c2s_ports = { ${c2sPort} }`)
    .replace(/^c2s_direct_tls_ports = .*$/m, `c2s_direct_tls_ports = { ${c2sPort + 1} }`)
    .replace(/^s2s_ports = .*$/m, `s2s_ports = { ${c2sPort + 2} }`)
    .replace(/^proxy65_ports = .*$/m, `proxy65_ports = { ${c2sPort + 3} }`)
    .replace(/^http_ports = .*$/m, `http_ports = { ${c2sPort + 4} }`);
  if (withoutFloodProtection) cfg = cfg.replace(/^modules_disabled = \{ (.*) \}$/m, (_, list: string) => `modules_disabled = { ${list ? `${list}, ` : ''}"limits" }`).replace(/^modules_disabled = \{\}$/m, 'modules_disabled = { "limits" }');
  return `data_path = "${join(dir, 'data')}"\n${withPackageModules(cfg, dir)}`;
}

/**
 * The platform's real Prosody on the rendered configuration, with `accounts` accounts
 * `burst1`…`burstN` (password `burst-password`) on the spec's first domain, for `runBurst`.
 */
export class BurstServer {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly spec: ResolvedSpec,
    private readonly prosody: ChildProcess,
  ) {}

  static async start(tools: PlatformTools, spec: ResolvedSpec, port: number, accounts: number, options: { withoutFloodProtection?: boolean } = {}): Promise<BurstServer> {
    const domain = spec.domains[0];
    const dir = makeTempDir('bursts');
    let prosody: ChildProcess | undefined;
    try {
      mkdirSync(join(dir, 'data'));
      mkdirSync(join(dir, 'certs', domain.name), { recursive: true });
      makeSelfSignedCert(join(dir, 'certs', domain.name), certificateNames(spec, domain));
      writeFileSync(join(dir, 'secrets.cfg.lua'), renderProsodySecretsInclude('0123456789abcdef'.repeat(4)));
      const config = join(dir, 'run.cfg.lua');
      writeFileSync(config, burstServerConfig(spec, dir, port, options.withoutFloodProtection));
      const chown = tools.run(['chown', '-R', 'prosody:prosody', dir]);
      if (chown.status !== 0) throw new Error(`chown -R prosody:prosody ${dir} failed inside the image: ${chown.stderr}`);
      prosody = tools.start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
      const log = () => readOrEmpty(join(dir, 'prosody.log'));
      await waitFor(() => /Activated service 'c2s'/.test(log()) && existsSync(join(dir, 'data', 'prosody.sock')), 30000, () => log().slice(-3000));
      const create = `(function() for i = 1, ${accounts} do assert(require"core.usermanager".create_user("burst" .. i, "burst-password", ${JSON.stringify(xmppName(domain.name))})) end return "created" end)()`;
      let said = '';
      await waitFor(() => /created/.test((said = tools.run(['runuser', '-u', 'prosody', '--', 'prosodyctl', '--config', config, 'shell', `>${create}`]).stdout)), 60000, () => `the accounts were not created: ${said}`);
      return new BurstServer(dir, port, spec, prosody);
    } catch (e) {
      await stopProcess(prosody);
      removeDir(dir);
      throw e;
    }
  }

  /** What `runBurst` needs to reach this server as `accounts` accounts. */
  target(): Pick<BurstOptions, 'host' | 'port' | 'domain' | 'servername' | 'ca' | 'prefix' | 'password'> {
    const domain = this.spec.domains[0];
    return {
      host: '127.0.0.1',
      port: this.port,
      domain: xmppName(domain.name),
      servername: domain.name,
      ca: readFileSync(join(this.dir, 'certs', domain.name, 'fullchain.pem')),
      prefix: 'burst',
      password: 'burst-password',
    };
  }

  /** Warnings and errors Prosody logged. */
  problems(): string[] {
    return readOrEmpty(join(this.dir, 'prosody.log')).split('\n').filter((l) => /\t(error|warn)\t/.test(l));
  }

  async stop(): Promise<void> {
    await stopProcess(this.prosody);
    if (!process.env.KEEP_TMP) removeDir(this.dir);
  }
}

/** Processes that keep a CPU each busy until stopped (by their pids, `stopProcess`). */
export function startCpuHogs(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
}
