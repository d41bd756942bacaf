/**
 * Boot ordering for the services that keep state on the data volume (lib/core/volume-units.ts):
 * what the Prosody droplet receives, and what each platform's own systemd makes of it, together
 * with the mount units its own fstab generator makes from the lines provisioning writes.
 */
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { BACKUP_SERVICE, renderBackupService } from '../../lib/core/backup';
import { renderHostFiles, renderTurnHostFiles } from '../../lib/core/cloud-init';
import { CERTS_SERVICE, renderCertsService, renderHostEnv } from '../../lib/core/host-scripts';
import { VOLUME_BINDS, VOLUME_MOUNT } from '../../lib/core/paths';
import { resolveSpec } from '../../lib/core/validate';
import { renderVolumeDropin, volumeDropinPath, VOLUME_UNITS } from '../../lib/core/volume-units';
import { PLATFORMS, platformToolsForFile, platformUnavailable } from '../support/platform';
import { dedicatedTurnSpec, minimalSpec } from '../support/specs';
import { makeTempDir, removeDir, testUnless } from '../support/tools';

const onPlatform = testUnless(platformUnavailable());
const spec = resolveSpec(minimalSpec);

/** The `RequiresMountsFor=` paths of a unit file or drop-in. */
function requiresMountsFor(unit: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith('RequiresMountsFor=')).flatMap((l) => l.slice('RequiresMountsFor='.length).split(' '));
}

/**
 * The lines lib/host/provision.sh appends to /etc/fstab, read from the script itself and filled in
 * as the script fills them in: with host.env's values, and each bind mount's pair.
 */
function provisionedFstab(): string {
  const script = readFileSync(join(__dirname, '..', '..', 'lib', 'host', 'provision.sh'), 'utf8');
  const env = Object.fromEntries(renderHostEnv(spec).split('\n').filter((l) => /^[A-Z_0-9]+=/.test(l)).map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1).replace(/^'|'$/g, '')]));
  const templates = [...script.matchAll(/fstab_line "([^"]+)"/g)].map((m) => m[1]);
  expect(templates).toHaveLength(2);
  const fill = (t: string, vars: Record<string, string>) => t.replace(/\$\{?([A-Za-z_]+)\}?/g, (_, name: string) => {
    if (vars[name] === undefined) throw new Error(`provision.sh's fstab line uses $${name}, which this test does not know`);
    return vars[name];
  });
  const [device, bind] = templates;
  return [fill(device, env), ...VOLUME_BINDS.map((b) => fill(bind, { ...env, vol: b.volumeDir, sys: b.systemDir }))].join('\n') + '\n';
}

describe('GIVEN the Prosody droplet, whose state is on the data volume', () => {
  const files = new Map(renderHostFiles(spec).map((f) => [f.path, f]));

  test.each([
    ['prosody.service', ['/var/lib/prosody', VOLUME_MOUNT]],
    ['nginx.service', ['/etc/letsencrypt', VOLUME_MOUNT]],
    ['certbot.service', ['/etc/letsencrypt', VOLUME_MOUNT]],
  ])('THEN %s waits for the mounts it reads and writes: %j', (unit, mounts) => {
    const dropin = files.get(volumeDropinPath(unit));
    expect(dropin).toMatchObject({ owner: 'root:root', permissions: '0644', defer: false });
    expect(requiresMountsFor(dropin!.content)).toEqual(mounts);
  });

  test('THEN the certificate and backup services of this library wait for the volume in their own units', () => {
    expect(requiresMountsFor(files.get(CERTS_SERVICE)!.content)).toEqual(['/etc/letsencrypt', VOLUME_MOUNT]);
    expect(requiresMountsFor(files.get(BACKUP_SERVICE)!.content)).toEqual([VOLUME_MOUNT]);
  });

  test('THEN every bind mount of the volume is waited for by the services that use it', () => {
    const waitedFor = new Set(VOLUME_UNITS.flatMap((u) => u.mounts));
    for (const { systemDir } of VOLUME_BINDS) expect(waitedFor).toContain(systemDir);
  });

  test('THEN nginx, which Debian does not restart, is tried again after a failed start', () => {
    expect(files.get(volumeDropinPath('nginx.service'))!.content).toContain('\n[Service]\nRestart=on-failure\nRestartSec=10s\n');
  });

  test('THEN coturn gets no such drop-in: everything it reads is on the root disk', () => {
    expect([...files.keys()].filter((p) => p.startsWith('/etc/systemd/system/coturn.service.d/xmpp-constructs-volume'))).toEqual([]);
  });

  test('WHEN the droplet is a dedicated TURN droplet THEN it has no volume and none of these drop-ins', () => {
    const turn = renderTurnHostFiles(resolveSpec(dedicatedTurnSpec)).map((f) => f.path);
    expect(turn.filter((p) => p.endsWith('/xmpp-constructs-volume.conf'))).toEqual([]);
  });
});

describe.each(Object.values(PLATFORMS))('on $name, with its own systemd and fstab generator', (platform) => {
  const image = platformToolsForFile(platform);
  let root: string;
  let fstab: string;

  beforeAll(() => {
    root = makeTempDir(`volume-units-${platform.name}`);
    fstab = provisionedFstab();
    for (const [path, content] of [
      [CERTS_SERVICE, renderCertsService()],
      [BACKUP_SERVICE, renderBackupService()],
      ...VOLUME_UNITS.map((u) => [volumeDropinPath(u.unit), renderVolumeDropin(u)]),
      ['/etc/fstab', fstab],
    ]) {
      mkdirSync(join(root, dirname(path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    // The programs the units run, as stand-ins: verify checks that each is there and executable.
    for (const script of ['/usr/local/sbin/xmpp-constructs-certs', '/usr/local/sbin/xmpp-constructs-backup', '/usr/bin/prosody', '/usr/bin/kill', '/usr/sbin/nginx', '/usr/bin/certbot']) {
      mkdirSync(join(root, dirname(script)), { recursive: true });
      writeFileSync(join(root, script), '#!/bin/sh\n');
      chmodSync(join(root, script), 0o755);
    }
    symlinkSync('usr/bin', join(root, 'bin'));
    symlinkSync('usr/sbin', join(root, 'sbin'));
  });
  afterAll(() => removeDir(root));

  /** The platform's own units, the generator's mount units from the droplet's fstab, and ours: `systemd-analyze verify` on `units`. */
  function verify(units: readonly string[], dropins: Record<string, string> = {}): { status: number | null; output: string; mounts: Record<string, string> } {
    for (const [path, content] of Object.entries(dropins)) writeFileSync(join(root, path), content);
    const r = image().run(['sh', '-c', [
      'set -e',
      'mkdir -p "$1/usr/lib/systemd" && rm -rf "$1/usr/lib/systemd/system" && cp -a /usr/lib/systemd/system "$1/usr/lib/systemd/"',
      // The generator systemd runs at boot, on the droplet's fstab; its units go where verify reads units.
      'rm -rf "$1/gen" && mkdir -p "$1/gen" "$1/etc/systemd/system"',
      'SYSTEMD_FSTAB="$1/etc/fstab" /usr/lib/systemd/system-generators/systemd-fstab-generator "$1/gen" "$1/gen" "$1/gen"',
      'cp "$1"/gen/*.mount "$1/etc/systemd/system/"',
      'r=$1; shift; systemd-analyze verify --man=no --root="$r" "$@"',
    ].join('\n'), 'sh', root, ...units], { timeoutMs: 30000 });
    const mounts: Record<string, string> = {};
    for (const name of ['srv-xmpp\\x2ddata.mount', 'var-lib-prosody.mount', 'etc-letsencrypt.mount']) {
      try {
        mounts[name] = readFileSync(join(root, 'etc/systemd/system', name), 'utf8');
      } catch {
        mounts[name] = '';
      }
    }
    return { status: r.status, output: `${r.stdout}${r.stderr}`, mounts };
  }

  const UNITS = ['prosody.service', 'nginx.service', 'certbot.service', 'xmpp-constructs-certificates.service', 'xmpp-constructs-backup.service'];

  onPlatform('THEN its systemd accepts every unit and drop-in, over the units its packages ship, without a complaint', () => {
    const r = verify(UNITS);
    expect({ status: r.status, output: r.output }).toEqual({ status: 0, output: '' });
  });

  onPlatform('THEN its fstab generator makes a mount unit of the volume and of each bind mount, the binds requiring the volume, none of them failing the boot', () => {
    const { mounts } = verify(['prosody.service']);
    expect(mounts['srv-xmpp\\x2ddata.mount']).toContain(`\nWhere=${VOLUME_MOUNT}\n`);
    expect(mounts['srv-xmpp\\x2ddata.mount']).toMatch(/\nOptions=defaults,nofail\n/);
    for (const { volumeDir, systemDir } of VOLUME_BINDS) {
      const unit = mounts[`${systemDir.slice(1).replace(/\//g, '-')}.mount`];
      expect(unit).toContain(`\nRequiresMountsFor=${VOLUME_MOUNT}\n`);
      expect(unit).toContain(`\nWhat=${volumeDir}\nWhere=${systemDir}\n`);
    }
    // nofail: local-fs.target does not require them (a boot without the volume still reaches SSH).
    const r = image().run(['sh', '-c', 'cat "$1"/gen/local-fs.target.requires/* 2>/dev/null | grep -c "^Where=" || true', 'sh', root]);
    expect(r.stdout.trim()).toBe('0');
  });

  onPlatform('(control) it complains about a RequiresMountsFor= it cannot honour, so a silent verify means something', () => {
    const r = verify(['prosody.service'], { [volumeDropinPath('prosody.service')]: renderVolumeDropin(VOLUME_UNITS[0]).replace('RequiresMountsFor=/var/lib/prosody', 'RequiresMountsFor=var/lib/prosody') });
    expect(r.output).toMatch(/RequiresMountsFor/);
    writeFileSync(join(root, volumeDropinPath('prosody.service')), renderVolumeDropin(VOLUME_UNITS[0]));
  });
});
