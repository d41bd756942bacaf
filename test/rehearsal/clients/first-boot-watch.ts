/**
 * The first-boot watcher: what anyone on the internet could see of a droplet while cloud-init
 * installs its packages and provisions it. Runs on the droplet's network until a stop file appears:
 *   node -r ts-node/register first-boot-watch.ts '{"addresses":[…],"port":3478,"out":FILE,"stopFile":FILE}'
 * Appends one JSON line per observation to `out`, as it goes (a watcher killed midway still tells):
 * - {kind: 'allocation', t, address, outcome, detail}: a TURN Allocate with made-up credentials,
 *   over UDP. 'open-relay' means a relay was allocated without checking them (then released);
 *   'refused' that the server asked for or rejected credentials; 'unreachable' that nothing answered.
 * - {kind: 'listeners', t, sockets}: every listening TCP and bound UDP socket, with its process.
 */
import { spawnSync } from 'child_process';
import { appendFileSync, existsSync } from 'fs';
import { turnAllocate } from '../../../lib/doctor/stun';

interface Args {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly out: string;
  readonly stopFile: string;
}

function record(out: string, entry: object): void {
  appendFileSync(out, `${JSON.stringify({ t: Date.now(), ...entry })}\n`);
}

function sockets(): { protocol: string; address: string; port: number; process: string }[] {
  const r = spawnSync('ss', ['-H', '-lntup'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map((line) => {
    const cols = line.trim().split(/\s+/);
    const local = cols[4];
    const i = local.lastIndexOf(':');
    const process = /users:\(\("([^"]+)"/.exec(line)?.[1] ?? '?';
    return { protocol: cols[0], address: local.slice(0, i).replace(/^\[|\]$/g, '').replace(/%.*$/, ''), port: Number(local.slice(i + 1)), process };
  });
}

async function main(): Promise<void> {
  const args: Args = JSON.parse(process.argv[2]);
  const look = async (): Promise<void> => {
    record(args.out, { kind: 'listeners', sockets: sockets() });
    await Promise.all(args.addresses.map(async (address) => {
      const result = await turnAllocate(address, args.port, { username: '1:nobody', password: 'not-a-credential' }, { timeoutMs: 400 });
      const outcome = result.ok || /open relay/.test(result.reason) ? 'open-relay' : result.stage === 'unreachable' ? 'unreachable' : 'refused';
      record(args.out, { kind: 'allocation', address, outcome, detail: result.ok ? 'allocated with made-up credentials' : result.reason });
    }));
  };
  while (!existsSync(args.stopFile)) {
    await look();
    await new Promise((r) => setTimeout(r, 100));
  }
  // One more look once told to stop: the boot is over, so this one sees the provisioned droplet.
  await look();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
