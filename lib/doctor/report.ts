/**
 * The doctor's findings: one result per check, printed as a checklist for people or as JSON for
 * machines. A failure always carries the fix, in the words an operator would act on.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type CheckGroup = 'dns' | 'tls' | 'http' | 'ports' | 'turn' | 'bundle' | 'volume' | 'backup';

export interface CheckResult {
  /** Stable identifier, e.g. `dns:_xmpp-client._tcp.example.net/SRV`, for scripts reading --json. */
  readonly id: string;
  readonly group: CheckGroup;
  /** What was checked, in one line. */
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail?: string;
  /** What to do about a failure or warning. */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly counts: Readonly<Record<CheckStatus, number>>;
  readonly checks: readonly CheckResult[];
}

const GROUP_TITLES: Record<CheckGroup, string> = {
  dns: 'DNS records',
  tls: 'TLS certificates',
  http: 'host-meta (XEP-0156) and CORS',
  ports: 'Ports',
  turn: 'Audio and video calls (STUN/TURN)',
  bundle: 'Configuration bundle (changes applied in place)',
  volume: 'Data volume',
  backup: 'Off-host backups',
};

const MARKS: Record<CheckStatus, string> = { pass: '✔', warn: '!', fail: '✘', skip: '-' };

/** The report of `checks`: failed when any check failed; warnings and skips do not fail it. */
export function summarize(checks: readonly CheckResult[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0, counts, checks };
}

/** The checklist: grouped, failures with their fix, and a last line to read first. */
export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const group of Object.keys(GROUP_TITLES) as CheckGroup[]) {
    const checks = report.checks.filter((c) => c.group === group);
    if (checks.length === 0) continue;
    lines.push(GROUP_TITLES[group]);
    for (const c of checks) {
      lines.push(`  ${MARKS[c.status]} ${c.title}${c.detail ? `: ${c.detail}` : ''}`);
      if (c.fix && (c.status === 'fail' || c.status === 'warn')) lines.push(`      fix: ${c.fix}`);
    }
    lines.push('');
  }
  const { pass, warn, fail, skip } = report.counts;
  lines.push(`${report.ok ? 'OK' : 'FAILED'}: ${pass} passed, ${fail} failed, ${warn} warnings, ${skip} skipped`);
  return `${lines.join('\n')}\n`;
}

/** Exit codes: 0 all checks passed (warnings allowed), 1 a check failed, 2 the doctor could not run. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
