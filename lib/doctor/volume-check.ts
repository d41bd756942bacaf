/**
 * How full the live host's data volume is. The host publishes the figure every few minutes at
 * https://<primary domain>/.well-known/xmpp-constructs/volume (`used-percent N`, `updated <epoch>`).
 * A volume that fills up stops Prosody writing messages, rosters and archives, and the daily backup
 * refuses to run when it could leave too little room: the doctor warns before that, and fails once
 * the backup refuses.
 */
import type { DoctorPlan } from '../core/doctor-plan';
import { statusAtEveryAddress } from './http-checks';
import { DoctorContext } from './net';
import { CheckResult } from './report';

/** What the host says: the volume's use in percent, and when it measured it (seconds since 1970). */
export interface VolumeStatus {
  readonly usedPercent?: number;
  readonly updated?: number;
}

/** The status document: `used-percent <0-100>` and `updated <epoch seconds>`, one per line. */
export function parseVolumeStatus(text: string): VolumeStatus {
  const used = /^used-percent (\d{1,3})\s*$/m.exec(text);
  const updated = /^updated (\d+)\s*$/m.exec(text);
  const usedPercent = used && Number(used[1]) <= 100 ? Number(used[1]) : undefined;
  return { ...(usedPercent !== undefined ? { usedPercent } : {}), ...(updated ? { updated: Number(updated[1]) } : {}) };
}

const GROW = 'grow droplet.volumeSizeGib (the volume grows in place), lower components.fileShare.globalQuotaBytes, or shorten historyExpireAfterSeconds';

export async function checkVolume(ctx: DoctorContext, plan: DoctorPlan): Promise<CheckResult[]> {
  const planned = plan.volume;
  if (!planned) return [];
  const url = new URL(planned.statusUrl);
  const id = `volume:${url.host}`;
  const title = `the data volume is less than ${planned.warnPercent}% full`;
  const looks = await statusAtEveryAddress(ctx, url, parseVolumeStatus);
  if ('problem' in looks) {
    return [{ id, group: 'volume', title, status: 'warn', detail: looks.problem, fix: 'see the DNS and TLS checks; the host publishes the figure through nginx on the primary domain every few minutes (xmpp-constructs-volume-status.timer)' }];
  }
  const results: CheckResult[] = [];
  for (const { address, status } of looks) {
    const at = looks.length > 1 ? `${address}: ` : '';
    if (status.usedPercent === undefined) {
      results.push({ id, group: 'volume', title, status: 'warn', detail: `${at}the host's answer names no figure`, fix: 'provision the host with this release of xmpp-constructs' });
      continue;
    }
    const used = status.usedPercent;
    const ageMinutes = status.updated === undefined ? undefined : Math.floor((ctx.now().getTime() / 1000 - status.updated) / 60);
    const measured = ageMinutes === undefined ? '' : `, measured ${ageMinutes < 1 ? 'just now' : `${ageMinutes} min ago`}`;
    const detail = `${at}${used}% used${measured}`;
    if (used >= planned.failPercent) {
      results.push({ id, group: 'volume', title, status: 'fail', detail: `${detail}: the daily backup refuses to run, and Prosody stops writing when it is full`, fix: GROW });
    } else if (used >= planned.warnPercent) {
      results.push({ id, group: 'volume', title, status: 'warn', detail, fix: GROW });
    } else if (ageMinutes === undefined || ageMinutes > planned.staleAfterMinutes) {
      results.push({ id, group: 'volume', title, status: 'warn', detail: `${detail}: older than ${planned.staleAfterMinutes} min`, fix: 'on the host: systemctl status xmpp-constructs-volume-status.timer' });
    } else {
      results.push({ id, group: 'volume', title, status: 'pass', detail });
    }
  }
  return results;
}
