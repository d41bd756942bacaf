#!/usr/bin/env node
/**
 * The `xmpp-doctor` command. Everything it does is in ./index.ts; here are only the arguments, the
 * output and the exit code.
 */
import { readFileSync } from 'fs';
import { parseArgs } from 'util';
import { ADDRESS_SOURCES, AddressSource } from '../core/dns';
import { defaultDoctorPlan, DoctorOptions, DoctorUsageError, EXIT, formatReport, loadDoctorPlan, narrowPlan, runDoctor, spacesCredentialsFrom } from './index';
import type { CheckGroup } from './report';

export const USAGE = `usage: xmpp-doctor [domain ...] [--plan PATH] [options]

Checks a live XMPP service from outside: DNS records, TLS on every port and name, host-meta with
CORS, open and closed ports, STUN, and with an account a TURN relay; the data volume, and the
off-host backups when the plan has them.

  domain ...              check these domains (of the plan, or against the library's defaults)
  --plan PATH             doctor-plan.json, or a directory holding one (cdktf.out, a review directory)
  --json                  print the report as JSON
  --account JID           log in as JID to check TURN credentials and a relay; the password is read
                          from the XMPP_DOCTOR_PASSWORD environment variable
  --address SOURCE=IP     a deployed address (reservedIpv4, reservedIpv6, dropletIpv4, dropletIpv6,
                          turnIpv4, turnIpv6) to compare A/AAAA records with; repeatable
  --resolver IP[:PORT]    ask this DNS server instead of the system's; repeatable
  --ca-file PATH          also trust this CA (PEM), e.g. a staging or test CA
  --only GROUPS           comma-separated: dns,tls,http,ports,turn,bundle,volume,backup
  --bundle SHA256         the configuration bundle the host must run (default: the plan's; the
                          stack's output <service>_config_bundle)
  --wait-bundle SECONDS   wait up to SECONDS for the host to run it before the other checks
                          (after an apply: the host fetches every minute; 300 is plenty)
  --timeout SECONDS       per network operation (default 5)
  --min-days N            fail certificates expiring within N days (default 14)
  --parallel N            network operations at a time (default 16)
  -h, --help

Environment: XMPP_DOCTOR_PASSWORD, the password of --account. XMPP_DOCTOR_SPACES_KEY and
XMPP_DOCTOR_SPACES_SECRET (else SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY, which the
DigitalOcean provider reads too): a Spaces key that may read the backup bucket, to check the
newest snapshot there; read access is enough, and the backup password is never needed.

Exit status: 0 all checks passed, 1 a check failed, 2 the doctor could not run.
`;

const GROUPS: readonly CheckGroup[] = ['dns', 'tls', 'http', 'ports', 'turn', 'bundle', 'volume', 'backup'];

export interface ParsedCommand {
  readonly help: boolean;
  readonly json: boolean;
  readonly domains: readonly string[];
  readonly planPath?: string;
  readonly options: DoctorOptions;
}

/** The command line as options; throws DoctorUsageError naming the bad argument and the fix. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        plan: { type: 'string' },
        json: { type: 'boolean', default: false },
        account: { type: 'string' },
        address: { type: 'string', multiple: true },
        resolver: { type: 'string', multiple: true },
        'ca-file': { type: 'string', multiple: true },
        only: { type: 'string' },
        timeout: { type: 'string' },
        'min-days': { type: 'string' },
        parallel: { type: 'string' },
        bundle: { type: 'string' },
        'wait-bundle': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new DoctorUsageError(`${(error as Error).message}. Fix: see xmpp-doctor --help`);
  }
  const v = parsed.values;
  const number = (flag: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new DoctorUsageError(`--${flag} ${text}: not a number ≥ ${min}. Fix: e.g. --${flag} ${fallback}`);
    return n;
  };
  const only = v.only?.split(',').map((g) => g.trim()).filter(Boolean);
  const badGroup = only?.find((g) => !GROUPS.includes(g as CheckGroup));
  if (badGroup !== undefined) throw new DoctorUsageError(`--only ${v.only}: "${badGroup}" is not a group. Fix: choose from ${GROUPS.join(',')}`);
  const addresses: Partial<Record<AddressSource, string>> = {};
  for (const pair of v.address ?? []) {
    const [source, ip] = pair.split('=');
    if (!ADDRESS_SOURCES.includes(source as AddressSource) || !ip) {
      throw new DoctorUsageError(`--address ${pair}: expected SOURCE=IP with SOURCE one of ${ADDRESS_SOURCES.join(', ')}. Fix: e.g. --address reservedIpv4=203.0.113.20`);
    }
    addresses[source as AddressSource] = ip;
  }
  if (v.bundle !== undefined && !/^[0-9a-f]{64}$/.test(v.bundle)) {
    throw new DoctorUsageError(`--bundle ${v.bundle}: not a SHA-256 in hex. Fix: give the stack's output, e.g. --bundle "$(terraform output -raw <service>_config_bundle)"`);
  }
  let account: DoctorOptions['account'];
  if (v.account !== undefined) {
    if (!/^[^@/\s]+@[^@/\s]+$/.test(v.account)) throw new DoctorUsageError(`--account ${v.account}: not a bare JID. Fix: e.g. --account alice@example.net`);
    const password = env.XMPP_DOCTOR_PASSWORD;
    if (!password) throw new DoctorUsageError(`--account ${v.account}: XMPP_DOCTOR_PASSWORD is not set. Fix: export XMPP_DOCTOR_PASSWORD with the account's password (never on the command line, where ps shows it)`);
    account = { jid: v.account, password };
  }
  let spacesCredentials: DoctorOptions['spacesCredentials'];
  try {
    spacesCredentials = spacesCredentialsFrom(env);
  } catch (error) {
    throw new DoctorUsageError((error as Error).message);
  }
  const extraCa = (v['ca-file'] ?? []).map((path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new DoctorUsageError(`--ca-file ${path}: ${(error as Error).message}. Fix: give a readable PEM file`);
    }
  });
  return {
    help: v.help ?? false,
    json: v.json ?? false,
    domains: parsed.positionals,
    planPath: v.plan,
    options: {
      resolvers: v.resolver,
      extraCa,
      addresses,
      account,
      only: only as CheckGroup[] | undefined,
      timeoutMs: number('timeout', v.timeout, 5, 0.1) * 1000,
      minValidDays: number('min-days', v['min-days'], 14, 0),
      parallel: Math.floor(number('parallel', v.parallel, 16, 1)),
      ...(v.bundle !== undefined ? { bundle: v.bundle } : {}),
      waitBundleSeconds: number('wait-bundle', v['wait-bundle'], 0, 0),
      ...(spacesCredentials ? { spacesCredentials } : {}),
    },
  };
}

/** Run the command; resolves to the exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  try {
    const command = parseCommandLine(argv, env);
    if (command.help) {
      out(USAGE);
      return EXIT.ok;
    }
    if (command.planPath === undefined && command.domains.length === 0) throw new DoctorUsageError('no domain and no --plan. Fix: xmpp-doctor example.net, or xmpp-doctor --plan cdktf.out');
    let plan = command.planPath !== undefined ? loadDoctorPlan(command.planPath) : defaultDoctorPlan(command.domains);
    if (command.planPath !== undefined && command.domains.length > 0) plan = narrowPlan(plan, command.domains);
    const report = await runDoctor(plan, command.options);
    out(command.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    if (error instanceof DoctorUsageError) {
      err(`xmpp-doctor: ${error.message}\n`);
      return EXIT.usage;
    }
    err(`xmpp-doctor: unexpected failure: ${error instanceof Error ? error.stack : String(error)}\n`);
    return EXIT.usage;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, (t) => process.stdout.write(t), (t) => process.stderr.write(t)).then((code) => {
    process.exitCode = code;
  });
}
