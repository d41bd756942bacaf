/**
 * Which configuration bundle the live host runs (`configDelivery.channel: "spaces"`). The host
 * publishes the SHA-256 of the bundle it applied, and of the last one it refused with the reason,
 * at https://<primary domain>/.well-known/xmpp-constructs/bundle. The plan names the bundle the
 * stack wrote. After an apply the host needs up to a minute to fetch the new bundle and a few
 * seconds to apply it: `waitSeconds` polls until it runs it, refuses it, or the time is up, so a
 * pipeline's post-apply check waits for the change instead of racing it.
 */
import type { DoctorPlan } from '../core/doctor-plan';
import { statusAtEveryAddress } from './http-checks';
import { DoctorContext } from './net';
import { CheckResult } from './report';

/** What the host says: the applied bundle's hash, and the last refused one with its reason. */
export interface BundleStatus {
  readonly applied?: string;
  readonly refused?: { readonly sha256: string; readonly reason: string };
}

/** The status document: `applied <sha256>` and, after a refusal, `refused <sha256> <reason>`. */
export function parseBundleStatus(text: string): BundleStatus {
  let applied: string | undefined;
  let refused: BundleStatus['refused'];
  for (const line of text.split('\n')) {
    const a = /^applied ([0-9a-f]{64})\s*$/.exec(line);
    if (a) applied = a[1];
    const r = /^refused ([0-9a-f]{64}) ?(.*)$/.exec(line);
    if (r) refused = { sha256: r[1], reason: r[2].trim() };
  }
  return { ...(applied ? { applied } : {}), ...(refused ? { refused } : {}) };
}

export interface BundleCheckOptions {
  /** The bundle the host must run. @default - the plan's */
  readonly expected?: string;
  /** How long to wait for the host to run it. @default 0 (look once) */
  readonly waitSeconds?: number;
  /** Between two looks while waiting. @default 10 */
  readonly pollSeconds?: number;
  /** @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

const short = (sha256: string) => sha256.slice(0, 12);

export async function checkBundle(ctx: DoctorContext, plan: DoctorPlan, options: BundleCheckOptions = {}): Promise<CheckResult[]> {
  const planned = plan.configBundle;
  const expected = options.expected ?? planned?.sha256;
  if (!planned || !expected) return [];
  const url = new URL(planned.statusUrl);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
  const id = `bundle:${url.host}`;
  const title = `the host runs configuration bundle ${short(expected)}`;
  for (;;) {
    const looks = await statusAtEveryAddress(ctx, url, parseBundleStatus);
    if ('problem' in looks) {
      if (Date.now() >= deadline) return [{ id, group: 'bundle', title, status: 'fail', detail: looks.problem, fix: 'see the DNS and TLS checks; the status is served by nginx on the primary domain' }];
    } else {
      const refusal = looks.find((l) => l.status.refused?.sha256 === expected);
      if (refusal) {
        return [{
          id, group: 'bundle', title, status: 'fail',
          detail: `${refusal.address} refused it: ${refusal.status.refused!.reason || '(no reason given)'}; it keeps running ${refusal.status.applied ? short(refusal.status.applied) : 'its previous configuration'}`,
          fix: 'correct the declaration and apply again; the refusal is also in the host\'s journal (journalctl -t xmpp-constructs)',
        }];
      }
      const behind = looks.filter((l) => l.status.applied !== expected);
      if (behind.length === 0) return [{ id, group: 'bundle', title, status: 'pass', detail: `applied on ${looks.map((l) => l.address).join(', ')}` }];
      if (Date.now() >= deadline) {
        const waited = options.waitSeconds ? ` after waiting ${options.waitSeconds} s` : '';
        return [{
          id, group: 'bundle', title, status: 'fail',
          detail: `${behind.map((l) => `${l.address} runs ${l.status.applied ? short(l.status.applied) : 'no bundle yet'}`).join('; ')}${waited}`,
          fix: 'the host fetches a new bundle every minute: wait (--wait-bundle SECONDS), or look at xmpp-constructs-config.service on the host (journalctl -u xmpp-constructs-config)',
        }];
      }
    }
    await sleep(Math.max(0, Math.min((options.pollSeconds ?? 10) * 1000, deadline - Date.now())));
  }
}
