import { writeFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import {
  CLOUD_CONFIG_KEYS,
  hostPackages,
  REDACTED,
  renderCloudInit,
  renderHostFiles,
  USER_DATA_LIMIT_BYTES,
  UserDataTooLargeError,
} from '../../lib/core/cloud-init';
import { CERTS_SCRIPT, renderCertsScript, renderProvisionScript } from '../../lib/core/host-scripts';
import { renderNginxFiles } from '../../lib/core/nginx';
import { NGINX_SITE, PROSODY_CONFIG, PROVISION_SCRIPT, TURN_CONFIG } from '../../lib/core/paths';
import { renderProsodyConfig } from '../../lib/core/prosody';
import { renderTurnFiles } from '../../lib/core/turn';
import { resolveSpec } from '../../lib/core/validate';
import { closedSpec, minimalSpec, representativeSpecs } from '../support/specs';
import { makeTempDir, removeDir, run, testWith } from '../support/tools';

interface WriteFile {
  path: string;
  content: string;
  owner: string;
  permissions: string;
  defer?: boolean;
}

function parseUserData(userData: string): { [key: string]: unknown; write_files: WriteFile[] } {
  return parse(userData);
}

describe.each(representativeSpecs)('renderCloudInit for the %s spec', (_name, input) => {
  const spec = resolveSpec(input);
  const userData = renderCloudInit(spec);
  const doc = parseUserData(userData);
  const byPath = new Map(doc.write_files.map((f) => [f.path, f]));

  test('THEN it is a #cloud-config document with only known top-level keys', () => {
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(Object.keys(doc).every((k) => (CLOUD_CONFIG_KEYS as readonly string[]).includes(k))).toBe(true);
  });

  test('THEN it stays within DigitalOcean\'s 64 KiB', () => {
    expect(Buffer.byteLength(userData)).toBeLessThan(USER_DATA_LIMIT_BYTES);
  });

  test('THEN every rendered service file is in write_files at its real path, byte for byte', () => {
    const expected: Record<string, string> = {
      [PROSODY_CONFIG]: renderProsodyConfig(spec),
      ...renderNginxFiles(spec),
      ...renderTurnFiles(spec),
    };
    for (const [path, content] of Object.entries(expected)) {
      expect(byPath.get(path)?.content).toBe(content);
    }
    expect(byPath.has(NGINX_SITE)).toBe(true);
    expect(byPath.has(TURN_CONFIG)).toBe(spec.calls.enabled);
  });

  test('THEN files of package users and package conffiles are deferred until the packages exist', () => {
    for (const f of doc.write_files) {
      if (/prosody|turnserver/.test(f.owner) || f.path.startsWith('/etc/nginx/') || f.path === TURN_CONFIG || f.path.startsWith('/var/www/')) {
        expect({ path: f.path, defer: f.defer }).toEqual({ path: f.path, defer: true });
      }
    }
  });

  test('THEN permissions are quoted octal strings, and scripts are executable', () => {
    for (const f of doc.write_files) expect(f.permissions).toMatch(/^0[0-7]{3}$/);
    expect(byPath.get(PROVISION_SCRIPT)?.permissions).toBe('0755');
    expect(byPath.get(CERTS_SCRIPT)?.permissions).toBe('0755');
  });

  test('THEN runcmd runs the one provisioning script', () => {
    expect(doc.runcmd).toEqual([[PROVISION_SCRIPT]]);
  });

  test('THEN the packages are the ones the services need', () => {
    expect(doc.packages).toEqual(hostPackages(spec));
    expect(doc.packages).toEqual(expect.arrayContaining(['prosody', 'prosody-modules', 'nginx', 'certbot']));
    expect((doc.packages as string[]).includes('coturn')).toBe(spec.calls.enabled);
  });

  test('THEN no TURN secret is in it when the host generates one', () => {
    expect(userData).not.toMatch(/static-auth-secret|turn_external_secret\s*=\s*"[^%]/);
  });

  test('THEN the same spec renders byte-identical user_data', () => {
    expect(renderCloudInit(resolveSpec(input))).toBe(userData);
  });

  testWith('cloud-init')('THEN cloud-init schema accepts it', () => {
    const dir = makeTempDir('cloud-init');
    try {
      writeFileSync(join(dir, 'user-data'), userData);
      const r = run('cloud-init', ['schema', '-c', join(dir, 'user-data')]);
      expect(r.stdout + r.stderr).toContain('Valid cloud-config');
      expect(r.status).toBe(0);
    } finally {
      removeDir(dir);
    }
  });
});

describe('secrets', () => {
  const secret = 'S3cr3t-'.repeat(6);
  const spec = resolveSpec({ ...minimalSpec, calls: { sharedSecret: secret } });

  test('GIVEN a user-supplied TURN secret THEN the droplet receives it, flagged sensitive', () => {
    const file = renderHostFiles(spec).find((f) => f.content === secret);
    expect(file).toMatchObject({ sensitive: true, permissions: '0600', owner: 'root:root' });
    expect(renderCloudInit(spec)).toContain(secret);
  });

  test('GIVEN a user-supplied TURN secret WHEN rendering for review THEN it is redacted', () => {
    const review = renderCloudInit(spec, { redactSecrets: true });
    expect(review).not.toContain(secret);
    expect(review).toContain(REDACTED);
  });

  test('GIVEN calls are off THEN no secret file and no coturn package', () => {
    const closed = resolveSpec(closedSpec);
    expect(renderHostFiles(closed).some((f) => f.sensitive)).toBe(false);
    expect(hostPackages(closed)).not.toContain('coturn');
  });
});

describe('size limit', () => {
  test('fails when the user_data would exceed 64 KiB, naming the size and the fix', () => {
    const domains = Array.from({ length: 120 }, (_, i) => `customer${i}.example`);
    const spec = resolveSpec({ ...minimalSpec, domains, admins: ['admin@customer0.example'] });
    expect(() => renderCloudInit(spec)).toThrow(UserDataTooLargeError);
    expect(() => renderCloudInit(spec)).toThrow(/over DigitalOcean's limit of 65536.*Fix: /);
  });
});

describe('host scripts', () => {
  testWith('shellcheck')('GIVEN the provisioning and certificate scripts THEN shellcheck finds nothing', () => {
    const dir = makeTempDir('shellcheck');
    try {
      writeFileSync(join(dir, 'provision'), renderProvisionScript());
      writeFileSync(join(dir, 'certs'), renderCertsScript());
      const r = run('shellcheck', ['-s', 'bash', join(dir, 'provision'), join(dir, 'certs')]);
      expect(r.stdout).toBe('');
      expect(r.status).toBe(0);
    } finally {
      removeDir(dir);
    }
  });

  test('GIVEN the provisioning script THEN it stops on the first error and names the step', () => {
    const script = renderProvisionScript();
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(script).toMatch(/trap 'fail "step/);
  });

  test('GIVEN a volume device THEN it is formatted only when blkid finds no filesystem at all', () => {
    const script = renderProvisionScript();
    const probe = script.indexOf('blkid -p');
    const mkfs = script.indexOf('mkfs.ext4');
    expect(probe).toBeGreaterThan(0);
    expect(script.slice(probe, mkfs)).toMatch(/if \[ "\$rc" -eq 2 \]; then/);
  });
});
