/**
 * The droplet's side of the reserved IPv6 address: the script that puts it on the loopback
 * interface once DigitalOcean has assigned it, its boot service and timer, and where provisioning
 * starts them. The script runs under the platform's own bash, with `curl` answering from a
 * stand-in metadata directory and `ip` keeping the interface's state in files, so every case is
 * seen as the droplet would see it, without touching this machine's network.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { renderCloudInit } from '../../lib/core/cloud-init';
import {
  COMMON_SCRIPT,
  HOST_ENV,
  renderCommonScript,
  renderHostEnv,
  renderProvisionScript,
  renderReservedIpv6Script,
  renderReservedIpv6Service,
  renderReservedIpv6Timer,
  RESERVED_IPV6_SCRIPT,
  RESERVED_IPV6_SERVICE,
  RESERVED_IPV6_TIMER,
} from '../../lib/core/host-scripts';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { PLATFORM_PATH, PLATFORMS, platformToolsForFile, platformUnavailable } from '../support/platform';
import { closedSpec, minimalSpec } from '../support/specs';
import { makeTempDir, removeDir, run, testUnless, testWith } from '../support/tools';

const onPlatform = testUnless(platformUnavailable());

describe.each<[string, XmppServiceSpec, boolean]>([
  ['a region with reserved IPv6', minimalSpec, true],
  ['a region without', { ...minimalSpec, droplet: { region: 'zzz1' } }, false],
  ['reserved IPv6 declined', { ...minimalSpec, droplet: { reservedIpv6: false } }, false],
  ['no IPv6', closedSpec, false],
])('user_data GIVEN %s', (_, input, reserved) => {
  const spec = resolveSpec(input);
  const files = new Map((parse(renderCloudInit(spec)).write_files as { path: string; content: string; owner: string; permissions: string }[]).map((f) => [f.path, f]));

  test(`THEN host.env says RESERVED_IPV6=${reserved ? 1 : 0}`, () => {
    expect(files.get(HOST_ENV)?.content).toContain(`\nRESERVED_IPV6='${reserved ? 1 : 0}'\n`);
    expect(renderHostEnv(spec)).toBe(files.get(HOST_ENV)?.content);
  });

  test(`THEN the script, its service and its timer are ${reserved ? '' : 'not '}written`, () => {
    if (!reserved) {
      for (const path of [RESERVED_IPV6_SCRIPT, RESERVED_IPV6_SERVICE, RESERVED_IPV6_TIMER]) expect(files.has(path)).toBe(false);
      return;
    }
    // Owned by root:root (cloud-init's default, which user_data leaves unsaid); only the script's mode is not the default.
    expect(files.get(RESERVED_IPV6_SCRIPT)).toEqual({ path: RESERVED_IPV6_SCRIPT, content: renderReservedIpv6Script(), permissions: '0755' });
    expect(files.get(RESERVED_IPV6_SERVICE)).toEqual({ path: RESERVED_IPV6_SERVICE, content: renderReservedIpv6Service() });
    expect(files.get(RESERVED_IPV6_TIMER)).toEqual({ path: RESERVED_IPV6_TIMER, content: renderReservedIpv6Timer() });
  });
});

describe('provisioning', () => {
  const lines = renderProvisionScript().split('\n').map((l) => l.trim());
  const step = lines.indexOf('step "reserved IPv6 address"');

  test('THEN it configures the address only when host.env asks for it, once the services run', () => {
    expect(step).toBeGreaterThan(lines.indexOf('step "starting services"'));
    expect(lines.slice(0, step).reverse().find((l) => l.startsWith('if '))).toBe('if [ "$RESERVED_IPV6" = 1 ]; then');
    expect(step).toBeLessThan(lines.indexOf('step "done"'));
  });

  test('THEN an address not assigned yet does not fail provisioning, and the boot service and the timer are enabled', () => {
    const block = lines.slice(step, lines.indexOf('fi', step));
    expect(block).toContain(`${RESERVED_IPV6_SCRIPT} || echo "xmpp-constructs: the reserved IPv6 address is not in place yet; xmpp-constructs-reserved-ipv6.timer retries every minute"`);
    expect(block).toContain('systemctl enable xmpp-constructs-reserved-ipv6.service');
    expect(block).toContain('systemctl enable --now xmpp-constructs-reserved-ipv6.timer');
  });
});

describe('the units', () => {
  test('THEN the service runs the script once the network is up, at every boot', () => {
    expect(renderReservedIpv6Service()).toMatch(/^After=network-online\.target\nWants=network-online\.target$/m);
    expect(renderReservedIpv6Service()).toContain(`\nType=oneshot\nExecStart=${RESERVED_IPV6_SCRIPT}\n`);
    expect(renderReservedIpv6Service()).toContain('\n[Install]\nWantedBy=multi-user.target\n');
  });

  test('THEN the timer runs it every minute, from a minute after boot', () => {
    expect(renderReservedIpv6Timer()).toContain('\n[Timer]\nOnBootSec=1min\nOnUnitActiveSec=1min\n');
    expect(renderReservedIpv6Timer()).toContain('\n[Install]\nWantedBy=timers.target\n');
  });
});

describe.each(Object.values(PLATFORMS))('on $name', (platform) => {
  /** The platform's image, opened by the first test that needs it, closed after this platform's tests. */
  const image = platformToolsForFile(platform);

  describe('the units', () => {
    onPlatform('THEN the platform\'s systemd accepts both', () => {
      const r = image().verifyUnits([
        [RESERVED_IPV6_SCRIPT, renderReservedIpv6Script(), 0o755],
        [RESERVED_IPV6_SERVICE, renderReservedIpv6Service(), 0o644],
        [RESERVED_IPV6_TIMER, renderReservedIpv6Timer(), 0o644],
      ], ['xmpp-constructs-reserved-ipv6.service', 'xmpp-constructs-reserved-ipv6.timer']);
      expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: '' });
    });
  });

  describe('the script', () => {
    testWith('shellcheck')('THEN shellcheck finds nothing', () => {
      const dir = makeTempDir('shellcheck-reserved-ipv6');
      try {
        writeFileSync(join(dir, 'common.sh'), renderCommonScript());
        writeFileSync(join(dir, 'reserved-ipv6'), renderReservedIpv6Script());
        const r = run('shellcheck', ['-x', '-s', 'bash', join(dir, 'reserved-ipv6')]);
        expect(r.stdout).toBe('');
        expect(r.status).toBe(0);
      } finally {
        removeDir(dir);
      }
    });

    test('THEN it stops on the first error', () => {
      expect(renderReservedIpv6Script()).toMatch(/^set -euo pipefail$/m);
    });

    /** What the metadata service answers, by path under /metadata/v1/ (absent: 404). */
    type Metadata = { readonly active?: string; readonly address?: string };
    /** The droplet's IPv6 state the script sees and changes. */
    interface Interfaces {
      /** Global-scope addresses on lo, as `address/prefix`. */
      readonly lo: readonly string[];
      /** The IPv6 default route, or none. */
      readonly defaultRoute?: string;
    }

    const RESERVED = '2001:db8:5::10';
    const withRoute = 'default via 2001:db8:5::1 dev eth0 metric 1024 pref medium';

    /**
     * Runs the script under the platform's bash. `curl` answers from files, `ip` reads and changes
     * files and logs every change it is asked for; both stand in for the real ones on PATH.
     */
    function runScript(metadata: Metadata, interfaces: Interfaces): { status: number | null; stdout: string; stderr: string; changes: string[]; lo: string[] } {
      const dir = makeTempDir('reserved-ipv6');
      try {
        const meta = join(dir, 'metadata');
        mkdirSync(join(meta, 'reserved_ip/ipv6'), { recursive: true });
        if (metadata.active !== undefined) writeFileSync(join(meta, 'reserved_ip/ipv6/active'), metadata.active);
        if (metadata.address !== undefined) writeFileSync(join(meta, 'reserved_ip/ipv6/ip_address'), metadata.address);
        writeFileSync(join(dir, 'lo'), interfaces.lo.map((a) => `${a}\n`).join(''));
        writeFileSync(join(dir, 'default'), interfaces.defaultRoute ? `${interfaces.defaultRoute}\n` : '');
        writeFileSync(join(dir, 'changes'), '');
        mkdirSync(join(dir, 'bin'));
        const stub = (name: string, body: string) => {
          writeFileSync(join(dir, 'bin', name), `#!/bin/bash\nset -eu\nstate='${dir}'\n${body}`);
          chmodSync(join(dir, 'bin', name), 0o755);
        };
        stub('curl', `url=\${*: -1}; f="$state/metadata/\${url#http://169.254.169.254/metadata/v1/}"
[ -f "$f" ] || { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
cat "$f"
`);
        stub('ip', `case "$*" in
  "-6 -o addr show dev lo scope global") while read -r a; do echo "1: lo    inet6 $a scope global \\\\       valid_lft forever preferred_lft forever"; done < "$state/lo" ;;
  "-6 addr add "*" dev lo scope global") echo "$*" >> "$state/changes"; echo "$4" >> "$state/lo" ;;
  "-6 addr del "*" dev lo") echo "$*" >> "$state/changes"; grep -vxF "$4" "$state/lo" > "$state/lo.new" || true; mv "$state/lo.new" "$state/lo" ;;
  "-6 route show default") cat "$state/default" ;;
  "-6 route replace default dev eth0") echo "$*" >> "$state/changes"; echo "default dev eth0 metric 1024 pref medium" > "$state/default" ;;
  *) echo "ip stand-in: unexpected ip $*" >&2; exit 2 ;;
esac
`);
        writeFileSync(join(dir, 'script'), renderReservedIpv6Script());
        // The functions it sources, where user_data puts them (in the image's throwaway layer).
        writeFileSync(join(dir, 'common.sh'), renderCommonScript());
        expect(image().run(['install', '-D', '-m', '0644', join(dir, 'common.sh'), COMMON_SCRIPT]).status).toBe(0);
        const r = image().run(['bash', join(dir, 'script')], { env: { PATH: `${join(dir, 'bin')}:${PLATFORM_PATH}` } });
        const lines = (file: string) => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean);
        return { status: r.status, stdout: r.stdout, stderr: r.stderr, changes: lines('changes'), lo: lines('lo') };
      } finally {
        removeDir(dir);
      }
    }

    onPlatform.each<[string, Metadata, Interfaces, { status: number; changes: string[]; lo: string[]; stdout?: RegExp; stderr?: RegExp }]>([
      [
        'assigned, not on the droplet yet: it goes on lo as a /128',
        { active: 'true', address: RESERVED },
        { lo: [], defaultRoute: withRoute },
        { status: 0, changes: [`-6 addr add ${RESERVED}/128 dev lo scope global`], lo: [`${RESERVED}/128`], stdout: /reserved IPv6 address 2001:db8:5::10 is on this droplet/ },
      ],
      [
        'assigned and in place (every later run): nothing changes',
        { active: 'true', address: RESERVED },
        { lo: [`${RESERVED}/128`], defaultRoute: withRoute },
        { status: 0, changes: [], lo: [`${RESERVED}/128`] },
      ],
      [
        'another address assigned now: the old one goes, the new one comes',
        { active: 'true', address: '2001:db8:5::11' },
        { lo: [`${RESERVED}/128`], defaultRoute: withRoute },
        { status: 0, changes: [`-6 addr del ${RESERVED}/128 dev lo`, '-6 addr add 2001:db8:5::11/128 dev lo scope global'], lo: ['2001:db8:5::11/128'] },
      ],
      [
        'assigned, and no IPv6 default route: an on-link one is added, as DigitalOcean\'s script does',
        { active: 'true', address: RESERVED },
        { lo: [] },
        { status: 0, changes: [`-6 addr add ${RESERVED}/128 dev lo scope global`, '-6 route replace default dev eth0'], lo: [`${RESERVED}/128`] },
      ],
      [
        'no longer assigned: the address is taken off',
        { active: 'false' },
        { lo: [`${RESERVED}/128`], defaultRoute: withRoute },
        { status: 0, changes: [`-6 addr del ${RESERVED}/128 dev lo`], lo: [], stdout: /no longer assigned here; removed it/ },
      ],
      [
        'not assigned yet, nothing there: nothing changes',
        { active: 'false' },
        { lo: [], defaultRoute: withRoute },
        { status: 0, changes: [], lo: [] },
      ],
      [
        'the metadata service does not answer: it fails loudly and changes nothing',
        {},
        { lo: [`${RESERVED}/128`], defaultRoute: withRoute },
        { status: 1, changes: [], lo: [`${RESERVED}/128`], stderr: /the metadata service did not answer; nothing changed/ },
      ],
      [
        'the metadata service gives something that is no address: it fails loudly and changes nothing',
        { active: 'true', address: '2001:db8::1; rm -rf /' },
        { lo: [], defaultRoute: withRoute },
        { status: 1, changes: [], lo: [], stderr: /gave 2001:db8::1; rm -rf \/ as the reserved IPv6 address/ },
      ],
      [
        'an answer that is neither true nor false: it fails loudly and changes nothing',
        { active: 'maybe' },
        { lo: [`${RESERVED}/128`], defaultRoute: withRoute },
        { status: 1, changes: [], lo: [`${RESERVED}/128`], stderr: /answered maybe for reserved_ip\/ipv6\/active; nothing changed/ },
      ],
    ])('GIVEN %s', (_, metadata, interfaces, expected) => {
      const r = runScript(metadata, interfaces);
      expect({ status: r.status, changes: r.changes, lo: r.lo }).toEqual({ status: expected.status, changes: expected.changes, lo: expected.lo });
      if (expected.stdout) expect(r.stdout).toMatch(expected.stdout);
      if (expected.stderr) expect(r.stderr).toMatch(expected.stderr);
      if (expected.status === 0) expect(r.stderr).toBe('');
    });
  });
});
