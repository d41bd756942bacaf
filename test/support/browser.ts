/**
 * A real browser for the rehearsal: Debian's headless chromium, driven by playwright-core, inside
 * an existing network namespace (the one a process with a known PID is in), as a user's browser
 * would be on a network where only the rehearsal's servers exist.
 *
 * - Namespace: playwright starts an executable of ours (`executablePath`) that `exec`s
 *   `nsenter --target <pid> --net -- chromium …`. Each exec keeps the PID and the file
 *   descriptors, so playwright's pipe to the browser (--remote-debugging-pipe, fds 3 and 4) and its
 *   kill-on-close both still reach chromium. Only the network namespace is entered: the browser
 *   sees this machine's files, so it also reads this machine's /etc/resolv.conf; hence the
 *   resolver rules below rather than the namespace's DNS server.
 * - Certificates are verified for real (no ignoreHTTPSErrors, no --ignore-certificate-errors):
 *   the caller's CAs are made trust anchors in an NSS database in a temporary HOME
 *   ($HOME/.pki/nssdb, where chromium on Linux reads locally added anchors), given only to this
 *   browser's environment.
 * - Names: every name the caller maps resolves to its address; every other name maps to
 *   127.0.0.1:1 in the namespace, where the connection is refused. Chromium thus sends no DNS
 *   query at all. Not `MAP * ~NOTFOUND`: a page that fails with a DNS error makes chromium's
 *   error page run a DNS probe (DnsProbeService) that bypasses the rules and queries the
 *   nameserver of this machine's /etc/resolv.conf and 8.8.8.8/8.8.4.4 from the namespace, as
 *   chromium's net log showed here; a refused connection starts no probe.
 * - Nothing else: the switches in BROWSER_FLAGS turn off what chromium fetches on its own
 *   (component updates, safe browsing lists, translation, metrics, …). What still tries, as its
 *   net log shows (an on-demand update of the "Optimization Guide On Device Models Manifest"
 *   component at update.googleapis.com, a captive-portal check at connectivitycheck.gstatic.com
 *   after a certificate error), meets the refused port above. Its IPv6 reachability check
 *   connect()s a UDP socket to [2001:4860:4860::8888]:443, which sends no packet.
 *
 * Needs root (nsenter into another namespace), the Debian packages chromium and libnss3-tools
 * (certutil), and the npm package playwright-core: `browserUnavailable()` names what is missing.
 */
import { execFileSync } from 'child_process';
import { accessSync, constants as fsConstants, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { isIP } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { hasCommand, notInstalled } from './tools';

/**
 * The browser itself, not Debian's /usr/bin/chromium: that launcher script sources
 * /etc/chromium.d/*, which exports Google API keys (turning on Google services), adds
 * --enable-remote-extensions and --load-extension, and runs a /dev/shm size check that fails
 * noisily on some machines. The browser binary takes only the switches below.
 */
const CHROMIUM_CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

/**
 * Switches added to playwright's own (which already include most of the "quiet" ones; they are
 * repeated here so this file does not depend on playwright's choice, and a repeated switch is
 * harmless). Chromium honours only the last --disable-features, so the wrapper merges every
 * --disable-features (and --enable-features) it is given, playwright's and ours, into one.
 */
export const BROWSER_FLAGS: readonly string[] = [
  // No first-run UI, default-browser prompt, bundled apps or sync: each would fetch something.
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-default-apps',
  '--disable-sync',
  // Background fetches: variations seed, component updater (CRLSets, CT logs, …), safe browsing
  // lists and pings, domain reliability and crash uploads, hyperlink-auditing pings.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-component-extensions-with-background-pages',
  '--disable-extensions',
  '--safebrowsing-disable-auto-update',
  '--disable-client-side-phishing-detection',
  '--disable-domain-reliability',
  '--disable-breakpad',
  '--metrics-recording-only',
  '--no-pings',
  // Direct connections only, whatever http_proxy/https_proxy this process inherited.
  '--no-proxy-server',
  // Features that would contact Google (translation, optimization hints, network time, media
  // router discovery, CT log list updates, autofill server), or send DNS to a DoH server
  // instead of through the resolver rules.
  '--disable-features=' + [
    'Translate', 'OptimizationHints', 'OptimizationHintsFetching', 'NetworkTimeServiceQuerying', 'MediaRouter',
    'DialMediaRouteProvider', 'CertificateTransparencyComponentUpdater', 'AutofillServerCommunication',
    'InterestFeedContentSuggestions', 'DnsOverHttps', 'PreconnectToSearch',
  ].join(','),
];

/** Chromium's --host-resolver-rules for `hosts`: each name to its address, every other name to a refused port. */
export function hostResolverRules(hosts: Readonly<Record<string, string>>): string {
  const rules = Object.entries(hosts).map(([name, address]) => {
    if (!/^[A-Za-z0-9.-]+$/.test(name)) throw new Error(`not a host name: ${JSON.stringify(name)}`);
    const family = isIP(address);
    if (family === 0) throw new Error(`not an IP address for ${name}: ${JSON.stringify(address)}`);
    return `MAP ${name} ${family === 6 ? `[${address}]` : address}`;
  });
  // localhost keeps its usual meaning (/etc/hosts); any other name goes to a port where nothing
  // listens, so it is refused there and then (see the header for why not ~NOTFOUND).
  return [...rules, 'MAP * 127.0.0.1:1', 'EXCLUDE localhost'].join(', ');
}

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The chromium binary this module runs, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  return CHROMIUM_CANDIDATES.find(executable);
}

/**
 * Why launchBrowser cannot run here (each missing thing, and how to get it), or undefined when it
 * can. For testUnless/describeUnless (./tools): under CI the tests fail naming it.
 */
export function browserUnavailable(): string | undefined {
  const missing: string[] = [];
  if (chromiumPath() === undefined) missing.push(notInstalled('chromium'));
  if (!hasCommand('certutil')) missing.push(notInstalled('certutil'));
  if (!hasCommand('nsenter')) missing.push(notInstalled('nsenter'));
  try {
    require.resolve('playwright-core');
  } catch {
    missing.push('playwright-core is not installed (an npm devDependency of this project): npm ci');
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('entering another network namespace (nsenter) needs root');
  return missing.length === 0 ? undefined : missing.join('; ');
}

/** One `securitypolicyviolation` event, as the page saw it. */
export interface CspViolation {
  readonly violatedDirective: string;
  readonly effectiveDirective: string;
  readonly blockedURI: string;
  readonly sourceFile: string;
  readonly lineNumber: number;
  readonly sample: string;
  readonly disposition: string;
}

/** What went wrong in a page, as far as the browser reported it. */
export interface PageProblems {
  /** console messages of type "error" (CSP refusals and failed loads among them), and uncaught exceptions. */
  readonly consoleErrors: readonly string[];
  /** securitypolicyviolation events, recorded by an init script (see cspViolations()). */
  readonly cspViolations: readonly CspViolation[];
  /** Requests that failed (no answer, refused, certificate, blocked), with the reason. */
  readonly failedRequests: readonly { readonly url: string; readonly failure: string }[];
  /** Every URL the page requested (documents, scripts, fetches, WebSockets), in order. */
  readonly requestedUrls: readonly string[];
}

interface Collected {
  consoleErrors: string[];
  failedRequests: { url: string; failure: string }[];
  requestedUrls: string[];
}

const collected = new WeakMap<Page, Collected>();

/** Recorded on window by the init script, before any of the page's own scripts run. */
const CSP_INIT_SCRIPT = `(() => {
  const seen = [];
  Object.defineProperty(window, '__cspViolations', { value: seen, configurable: false });
  window.addEventListener('securitypolicyviolation', (e) => {
    seen.push({ violatedDirective: e.violatedDirective, effectiveDirective: e.effectiveDirective, blockedURI: e.blockedURI,
      sourceFile: e.sourceFile, lineNumber: e.lineNumber, sample: e.sample, disposition: e.disposition });
  }, true);
})();`;

function watch(page: Page): void {
  if (collected.has(page)) return;
  const c: Collected = { consoleErrors: [], failedRequests: [], requestedUrls: [] };
  collected.set(page, c);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location();
    c.consoleErrors.push(where.url ? `${m.text()} (${where.url}:${where.lineNumber})` : m.text());
  });
  page.on('pageerror', (e) => c.consoleErrors.push(`uncaught: ${e.stack ?? e.message}`));
  page.on('request', (r) => c.requestedUrls.push(r.url()));
  page.on('websocket', (w) => c.requestedUrls.push(w.url()));
  page.on('requestfailed', (r) => c.failedRequests.push({ url: r.url(), failure: r.failure()?.errorText ?? 'unknown' }));
}

/** The securitypolicyviolation events of the page's current document. */
export async function cspViolations(page: Page): Promise<CspViolation[]> {
  return page.evaluate(() => ((globalThis as unknown as { __cspViolations?: CspViolation[] }).__cspViolations ?? []).slice());
}

/**
 * The console errors, failed and made requests of `page` since it opened, and the CSP violations
 * of its current document. Pages of a context from launchBrowser are watched from the start.
 */
export async function pageProblems(page: Page): Promise<PageProblems> {
  const c = collected.get(page) ?? { consoleErrors: [], failedRequests: [], requestedUrls: [] };
  return { consoleErrors: [...c.consoleErrors], cspViolations: await cspViolations(page), failedRequests: [...c.failedRequests], requestedUrls: [...c.requestedUrls] };
}

export interface LaunchBrowserOptions {
  /** A process in the network namespace the browser is to use. */
  readonly netnsPid: number;
  /** CA certificates (PEM text; a PEM may hold several) the browser trusts, besides chromium's own roots. */
  readonly caPems: readonly string[];
  /** Host name → IP address: the only names the browser can resolve (besides localhost). */
  readonly hosts: Readonly<Record<string, string>>;
  /** Options of the context created (viewport, locale, …). ignoreHTTPSErrors is refused. */
  readonly contextOptions?: BrowserContextOptions;
  /** More chromium switches (e.g. --log-net-log=…); --disable-features here is merged, not replaced. */
  readonly extraArgs?: readonly string[];
  readonly timeoutMs?: number;
}

export interface LaunchedBrowser {
  readonly browser: Browser;
  /** A fresh context; its pages are watched for pageProblems(). */
  readonly context: BrowserContext;
  /** The browser's HOME (its NSS database is in .pki/nssdb). Removed by close(). */
  readonly home: string;
  /** Another context, set up as `context` is (a fresh profile: no cookies, storage or session). */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** Close the browser and remove its temporary files. */
  close(): Promise<void>;
}

/** The PEM certificates in `pem`, one by one (certutil -A imports only the first of a file). */
export function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** An NSS database in `home`/.pki/nssdb trusting each certificate in `caPems` as a CA for TLS servers. */
function makeNssDb(home: string, caPems: readonly string[]): void {
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true, mode: 0o700 });
  execFileSync('certutil', ['-d', `sql:${db}`, '-N', '--empty-password'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const certs = caPems.flatMap(pemCertificates);
  if (certs.length === 0) throw new Error('launchBrowser: caPems holds no PEM certificate');
  certs.forEach((cert, i) => {
    const file = join(home, `ca-${i}.pem`);
    writeFileSync(file, cert + '\n');
    // C,, : a trusted CA for TLS servers (not for e-mail or code signing).
    execFileSync('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', `rehearsal-ca-${i}`, '-i', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  });
}

/**
 * The executable playwright starts: it enters the namespace and becomes chromium (exec, so the
 * PID, and the pipe on fds 3 and 4, are chromium's), with the feature lists merged.
 */
function wrapperScript(netnsPid: number, nsenter: string, chromium: string, pidFile: string): string {
  return `#!/bin/sh
# Written by test/support/browser.ts: chromium in the network namespace of PID ${netnsPid}.
# This shell's PID is chromium's once it execs: kept for close() as a last resort.
echo $$ > '${pidFile}'
disabled=''
enabled=''
for arg in "$@"; do
  shift
  case "$arg" in
    --disable-features=*) disabled="\${disabled:+$disabled,}\${arg#--disable-features=}" ;;
    --enable-features=*) enabled="\${enabled:+$enabled,}\${arg#--enable-features=}" ;;
    *) set -- "$@" "$arg" ;;
  esac
done
exec ${nsenter} --target ${netnsPid} --net -- ${chromium} "$@" \${disabled:+"--disable-features=$disabled"} \${enabled:+"--enable-features=$enabled"}
`;
}

function commandPath(name: string): string {
  return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
}

/**
 * Headless chromium in the network namespace of `netnsPid`, trusting `caPems`, resolving only
 * `hosts`. The caller must close() it (which also removes the temporary HOME).
 */
export async function launchBrowser(options: LaunchBrowserOptions): Promise<LaunchedBrowser> {
  const unavailable = browserUnavailable();
  if (unavailable !== undefined) throw new Error(`cannot launch the browser: ${unavailable}`);
  if (!Number.isInteger(options.netnsPid) || options.netnsPid <= 0) throw new Error(`not a PID: ${options.netnsPid}`);
  if (options.contextOptions?.ignoreHTTPSErrors) throw new Error('launchBrowser verifies certificates: pass the CA in caPems instead of ignoreHTTPSErrors');
  const rules = hostResolverRules(options.hosts);

  const dir = mkdtempSync(join(tmpdir(), 'xc-browser-'));
  const home = join(dir, 'home');
  let browser: Browser | undefined;
  try {
    mkdirSync(home, { mode: 0o700 });
    makeNssDb(home, options.caPems);
    const wrapper = join(dir, 'chromium-in-netns');
    const pidFile = join(dir, 'chromium.pid');
    writeFileSync(wrapper, wrapperScript(options.netnsPid, commandPath('nsenter'), chromiumPath()!, pidFile));
    chmodSync(wrapper, 0o755);

    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      // No proxy from this process's environment (chromium on Linux honours these variables).
      if (v !== undefined && !/^(https?|ftp|all|no)_proxy$/i.test(k)) env[k] = v;
    }
    Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), XDG_DATA_HOME: join(home, '.local', 'share') });

    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    browser = await chromium.launch({
      executablePath: wrapper,
      headless: true,
      // --no-sandbox: nsenter needs root, so chromium runs as root, and chromium refuses to start
      // as root with its sandbox ("Running as root without --no-sandbox is not supported"): the
      // setuid/user-namespace sandbox is built to drop from an ordinary user. Playwright adds
      // --no-sandbox when chromiumSandbox is false. The pages it loads are the rehearsal's own.
      chromiumSandbox: false,
      args: [...BROWSER_FLAGS, `--host-resolver-rules=${rules}`, ...(options.extraArgs ?? [])],
      env,
      timeout: options.timeoutMs ?? 30000,
    });
    const launched = browser;
    const newContext = async (contextOptions?: BrowserContextOptions): Promise<BrowserContext> => {
      if (contextOptions?.ignoreHTTPSErrors) throw new Error('launchBrowser verifies certificates: pass the CA in caPems instead of ignoreHTTPSErrors');
      const c = await launched.newContext({ serviceWorkers: 'block', ...contextOptions, ignoreHTTPSErrors: false });
      await c.addInitScript({ content: CSP_INIT_SCRIPT });
      c.on('page', watch);
      return c;
    };
    const context = await newContext(options.contextOptions);
    let closed = false;
    return {
      browser: launched,
      context,
      home,
      newContext,
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        try {
          // Closing can hang (seen here once in a few runs after navigations that ended on
          // error pages): bounded, then the browser's own process group is killed.
          await within(context.close(), 10000);
          if (!(await within(launched.close(), 10000))) killBrowser(pidFile);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    if (browser && !(await within(browser.close(), 10000))) killBrowser(join(dir, 'chromium.pid'));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Whether `promise` settled within `ms` (its outcome is not needed). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); }),
  ]);
  clearTimeout(timer);
  return settled;
}

/**
 * SIGKILL to the process group of the chromium this module started (playwright starts it as a
 * group leader; its PID is in `pidFile`), and to nothing else.
 */
function killBrowser(pidFile: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}
