/**
 * Calls: coturn answers STUN at every address of the TURN name, and — given an account — the
 * credentials Prosody hands out (XEP-0215) let a client allocate a relay, exactly as a calling
 * app does. A relay refused with 401 after authenticating means Prosody and coturn hold different
 * shared secrets.
 */
import * as tls from 'tls';
import type { DoctorPlan } from '../core/doctor-plan';
import { PROVISION_SCRIPT } from '../core/paths';
import { allAddresses, DoctorContext, message, withDeadline } from './net';
import { CheckResult } from './report';
import { stunBinding, turnAllocate } from './stun';

const EXTDISCO = 'urn:xmpp:extdisco:2';

/** An account to log in with; the password comes from the environment, never the command line. */
export interface DoctorAccount {
  readonly jid: string;
  readonly password: string;
}

/** A TURN service as XEP-0215 lists it. */
export interface TurnCredentials {
  readonly host: string;
  readonly port: number;
  readonly transport: string;
  readonly username: string;
  readonly password: string;
}

/**
 * Log in as `account` and ask its server for TURN services (XEP-0215). @xmpp/client is an optional
 * dependency of this package, loaded only here.
 */
export async function fetchTurnCredentials(account: DoctorAccount, timeoutMs: number, extraCa: readonly string[] = []): Promise<TurnCredentials[]> {
  return trustingExtraCa(extraCa, () => login(account, timeoutMs));
}

/**
 * Run `work` with `extraCa` trusted by TLS connections that name no CA of their own. @xmpp/client
 * takes no CA option, and Node 20 has no way to add a root at run time but NODE_EXTRA_CA_CERTS at
 * start; the doctor's own connections pass their CAs explicitly, so only the login is affected.
 */
async function trustingExtraCa<T>(extraCa: readonly string[], work: () => Promise<T>): Promise<T> {
  if (extraCa.length === 0) return work();
  // The module object itself (what @xmpp/tls calls through), not an import namespace's read-only view.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tlsModule = require('tls') as { connect: typeof tls.connect };
  const original = tlsModule.connect;
  const ca = [...tls.rootCertificates, ...extraCa];
  tlsModule.connect = ((...args: unknown[]) => {
    const options = args.find((a): a is tls.ConnectionOptions => typeof a === 'object' && a !== null);
    if (options && options.ca === undefined) options.ca = ca;
    return (original as (...a: unknown[]) => tls.TLSSocket)(...args);
  }) as typeof tls.connect;
  try {
    return await work();
  } finally {
    tlsModule.connect = original;
  }
}

async function login(account: DoctorAccount, timeoutMs: number): Promise<TurnCredentials[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { client, xml } = require('@xmpp/client') as typeof import('@xmpp/client');
  const [username, domain] = account.jid.split('@');
  const xmpp = client({ service: domain, domain, username, password: account.password, resource: 'xmpp-doctor' });
  xmpp.on('error', () => undefined); // surfaced through start()'s rejection
  try {
    await withDeadline(xmpp.start(), timeoutMs * 3, `logging in as ${account.jid}`);
    const reply = await withDeadline(xmpp.iqCaller.request(xml('iq', { type: 'get', to: domain }, xml('services', { xmlns: EXTDISCO, type: 'turn' }))), timeoutMs, 'asking for TURN services');
    const services = reply.getChild('services', EXTDISCO)?.getChildren('service') ?? [];
    return services
      .map((s) => s.attrs as Record<string, string>)
      .filter((a) => a.type === 'turn' && a.username !== undefined && a.password !== undefined)
      .map((a) => ({ host: a.host, port: Number(a.port), transport: a.transport ?? 'udp', username: a.username, password: a.password }));
  } finally {
    try {
      await withDeadline(xmpp.stop(), 5000, 'logging out');
    } catch {
      /* already gone */
    }
  }
}

export async function checkTurn(ctx: DoctorContext, plan: DoctorPlan, account?: DoctorAccount): Promise<CheckResult[]> {
  const turn = plan.turn;
  if (!turn) return [];
  const results: CheckResult[] = [];
  const addresses = await allAddresses(ctx, turn.host);
  if ('problem' in addresses) return [{ id: `turn:${turn.host}`, group: 'turn', title: turn.host, status: 'fail', detail: addresses.problem, fix: 'see the DNS checks' }];

  results.push(...await Promise.all(addresses.map(async (address): Promise<CheckResult> => {
    const id = `turn:stun:${turn.host}:${turn.port}@${address}`;
    const title = `STUN on ${turn.host} udp ${turn.port} at ${address}`;
    try {
      const mapped = await ctx.limit(() => stunBinding(address, turn.port, { timeoutMs: ctx.timeoutMs }));
      return { id, group: 'turn', title, status: 'pass', detail: `sees this machine as ${mapped.address}:${mapped.port}` };
    } catch (error) {
      return { id, group: 'turn', title, status: 'fail', detail: message(error), fix: `coturn must run on the host and the firewall must allow udp ${turn.port}` };
    }
  })));

  const allocateTitle = (address: string) => `a TURN relay on ${turn.host} udp ${turn.port} at ${address}, with the credentials Prosody issues`;
  if (!account) {
    results.push({ id: `turn:allocate:${turn.host}`, group: 'turn', title: `a TURN relay on ${turn.host}`, status: 'skip', detail: 'needs an account: --account user@domain with the password in XMPP_DOCTOR_PASSWORD' });
    return results;
  }
  let credentials: TurnCredentials[];
  try {
    credentials = await fetchTurnCredentials(account, ctx.timeoutMs, ctx.extraCa);
  } catch (error) {
    const missingClient = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    results.push({
      id: `turn:credentials:${turn.credentialsFrom}`, group: 'turn', title: `TURN credentials from ${account.jid.split('@')[1]} (XEP-0215)`, status: missingClient ? 'skip' : 'fail',
      detail: missingClient ? '@xmpp/client (an optional dependency) is not installed' : message(error),
      fix: missingClient ? 'npm install @xmpp/client' : 'check the account and its password; the server must offer urn:xmpp:extdisco:2 (mod_turn_external)',
    });
    return results;
  }
  const udp = credentials.find((c) => c.transport === 'udp') ?? credentials[0];
  if (!udp) {
    results.push({
      id: `turn:credentials:${turn.credentialsFrom}`, group: 'turn', title: `TURN credentials from ${account.jid.split('@')[1]} (XEP-0215)`, status: 'fail',
      detail: 'the server lists no TURN service with credentials', fix: `Prosody's mod_turn_external needs turn_external_secret: on the host, \`sudo ${PROVISION_SCRIPT}\` writes it from the volume`,
    });
    return results;
  }
  results.push({ id: `turn:credentials:${turn.credentialsFrom}`, group: 'turn', title: `TURN credentials from ${account.jid.split('@')[1]} (XEP-0215)`, status: 'pass', detail: `for ${udp.host} port ${udp.port}` });
  if (udp.host !== turn.host) {
    results.push({ id: `turn:announced-host`, group: 'turn', title: 'the TURN host Prosody announces', status: 'fail', detail: `${udp.host}, planned ${turn.host}`, fix: 'deploy the current stack: Prosody announces an old TURN name' });
  }
  results.push(...await Promise.all(addresses.map(async (address): Promise<CheckResult> => {
    const id = `turn:allocate:${turn.host}:${turn.port}@${address}`;
    const outcome = await ctx.limit(() => turnAllocate(address, turn.port, { username: udp.username, password: udp.password }, { timeoutMs: ctx.timeoutMs }));
    if (outcome.ok) return { id, group: 'turn', title: allocateTitle(address), status: 'pass', detail: `relayed at ${outcome.relayed.address}:${outcome.relayed.port} (released again)` };
    if (outcome.stage === 'authenticate' && outcome.code === 401) {
      // coturn answers expired credentials exactly as a wrong secret; the expiry is in the username.
      const expiry = Number(udp.username.split(':')[0]);
      if (Number.isFinite(expiry) && expiry * 1000 <= ctx.now().getTime()) {
        return {
          id, group: 'turn', title: allocateTitle(address), status: 'fail',
          detail: `Prosody issued credentials that had already expired (${new Date(expiry * 1000).toISOString()})`,
          fix: "the host's clock is wrong: check `timedatectl` on it (systemd-timesyncd keeps it right)",
        };
      }
      return {
        id, group: 'turn', title: allocateTitle(address), status: 'fail',
        detail: 'coturn refused the credentials Prosody issued (401): the two hold different shared secrets',
        fix: `on the host, \`sudo ${PROVISION_SCRIPT}\` writes the volume's secret to both; with a TURN droplet of its own, give both the same calls.sharedSecret`,
      };
    }
    return {
      id, group: 'turn', title: allocateTitle(address), status: 'fail',
      detail: `${outcome.stage}: ${outcome.code ? `${outcome.code} ` : ''}${outcome.reason}`,
      fix: outcome.stage === 'unreachable' ? `coturn must run and the firewall must allow udp ${turn.port}` : 'coturn\'s log (/var/log/coturn.log or the journal) says why',
    };
  })));
  return results;
}
