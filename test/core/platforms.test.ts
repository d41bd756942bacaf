/**
 * The modules each platform's VirtualHosts load for mobile clients — push (XEP-0357) and its iOS
 * extensions, SASL2 (XEP-0388) with Bind2 (XEP-0386), FAST (XEP-0484) and stream management inline —
 * and, against the platforms' own packages, that every module a host loads (and every module it
 * depends on) is installed there.
 */
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { PLATFORM_NAMES, PLATFORMS, PlatformName } from '../../lib/core/platforms';
import { prosodyHostModules } from '../../lib/core/prosody';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { platformImage, platformUnavailable, testPlatform } from '../support/platform';
import { fullSpec, minimalSpec } from '../support/specs';
import { describeUnless } from '../support/tools';

const IMAGE: Record<PlatformName, string> = { 'debian-13': 'debian-13-x64', 'debian-12': 'debian-12-x64' };

function onPlatform(spec: XmppServiceSpec, platform: PlatformName): XmppServiceSpec {
  return { ...spec, droplet: { ...spec.droplet, image: IMAGE[platform] } };
}

/** Push for Conversations: mod_cloud_notify (in Prosody 13's core, in prosody-modules for 0.12). */
const PUSH = ['cloud_notify'];
/** What only Prosody 13 gets: the iOS push extensions and the SASL2 family (upstream: "0.12: Does not work"). */
const PROSODY_13_MOBILE = ['cloud_notify_extensions', 'sasl2', 'sasl2_bind2', 'sasl2_fast', 'sasl2_sm'];

describe('prosodyHostModules, by platform', () => {
  test.each([['minimal', minimalSpec], ['full', fullSpec]] as const)('the %s declaration on Debian 13 loads push, the iOS push extensions and the SASL2 family (Bind2, FAST, stream management) on every VirtualHost', (_name, spec) => {
    const modules = prosodyHostModules(resolveSpec(onPlatform(spec, 'debian-13')));
    expect(modules).toEqual(expect.arrayContaining([...PUSH, ...PROSODY_13_MOBILE, 'smacks', 'saslauth']));
    // Loaded once each: Prosody would load a module named twice only once, but a review would show it twice.
    expect(new Set(modules).size).toBe(modules.length);
  });

  test.each([['minimal', minimalSpec], ['full', fullSpec]] as const)('the %s declaration on Debian 12 loads push for Conversations, and neither the iOS extensions (bookworm does not package them) nor the SASL2 family (it needs Prosody 13)', (_name, spec) => {
    const modules = prosodyHostModules(resolveSpec(onPlatform(spec, 'debian-12')));
    expect(modules).toEqual(expect.arrayContaining([...PUSH, 'smacks', 'saslauth']));
    for (const module of PROSODY_13_MOBILE) expect(modules).not.toContain(module);
  });

  test('the default image is Debian 13, so an undeclared platform gets the mobile modules', () => {
    expect(prosodyHostModules(resolveSpec(minimalSpec))).toEqual(expect.arrayContaining(PROSODY_13_MOBILE));
  });
});

/** This package's own Prosody modules, as user_data carries them to plugin_paths. */
const PACKAGE_MODULES_DIR = join(__dirname, '../../lib/host');

/** Where Prosody's plugin loader (util/pluginloader.lua) finds a module in its modules directory, or among this package's. */
function moduleFile(modulesDir: string, name: string): string | undefined {
  const file = `mod_${name}.lua`;
  const packaged = [join(`mod_${name}`, name, file), join(`mod_${name}`, file), join(name, file), file].map((p) => join(modulesDir, p)).find((path) => existsSync(path));
  return packaged ?? (existsSync(join(PACKAGE_MODULES_DIR, file)) ? join(PACKAGE_MODULES_DIR, file) : undefined);
}

/** Every module `names` load, with what each depends on (`module:depends`), transitively; missing ones as `missing`. */
function withDependencies(modulesDir: string, names: readonly string[]): { found: Map<string, string>; missing: string[] } {
  const found = new Map<string, string>();
  const missing: string[] = [];
  const pending = [...names];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (found.has(name) || missing.includes(name)) continue;
    const file = moduleFile(modulesDir, name);
    if (file === undefined) {
      missing.push(name);
      continue;
    }
    found.set(name, file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/module:depends\(\s*["']([a-z0-9_]+)["']/g)) {
      // A dependency taken only when the host loads that module anyway (invites_register_web's on
      // conversejs, `if …:contains("conversejs") then module:depends("conversejs")`) is no dependency.
      if (!source.includes(`:contains("${m[1]}")`)) pending.push(m[1]);
    }
  }
  return { found, missing };
}

describeUnless(platformUnavailable(), 'against each platform\'s own Prosody packages (the test platforms\' tools layer)', () => {
  test.each([...PLATFORM_NAMES])('on %s every module a VirtualHost of the full declaration loads, and every module those depend on, is installed', (platform) => {
    const modulesDir = join(platformImage(testPlatform(platform)).toolsLayer, 'usr', 'lib', 'prosody', 'modules');
    const { found, missing } = withDependencies(modulesDir, prosodyHostModules(resolveSpec(onPlatform(fullSpec, platform))));
    expect(missing).toEqual([]);
    if (platform === 'debian-13') {
      // cloud_notify_extensions is only a list of what iOS clients need; those must be there too.
      expect([...found.keys()]).toEqual(expect.arrayContaining(['cloud_notify_encrypted', 'cloud_notify_priority_tag', 'cloud_notify_filters']));
    }
  });

  test.each([...PLATFORM_NAMES])('on %s every module the group chat component of a federating declaration loads, with its dependencies, is installed', (platform) => {
    const modulesDir = join(platformImage(testPlatform(platform)).toolsLayer, 'usr', 'lib', 'prosody', 'modules');
    const prosody = PLATFORMS[platform].prosody;
    const { missing } = withDependencies(modulesDir, ['muc', ...prosody.mucModules, ...prosody.abuse.mucFederatedModules]);
    expect(missing).toEqual([]);
  });

  test('neither platform\'s prosody-modules packages mod_limit_auth, which is why failed logins are throttled by this package\'s own module', () => {
    for (const platform of PLATFORM_NAMES) {
      const modulesDir = join(platformImage(testPlatform(platform)).toolsLayer, 'usr', 'lib', 'prosody', 'modules');
      expect({ platform, limit_auth: moduleFile(modulesDir, 'limit_auth') }).toEqual({ platform, limit_auth: undefined });
      expect(moduleFile(modulesDir, 'login_throttle')).toBe(join(PACKAGE_MODULES_DIR, 'mod_login_throttle.lua'));
    }
  });

  test('bookworm (Debian 12) packages no mod_spam_reporting, which is why Debian 12 hosts take no XEP-0377 reports', () => {
    const modulesDir = join(platformImage(testPlatform('debian-12')).toolsLayer, 'usr', 'lib', 'prosody', 'modules');
    expect(moduleFile(modulesDir, 'spam_reporting')).toBeUndefined();
    // Its mod_muc_rtbl reads event.occupant in the private-message hook, which Prosody 0.12 does not set.
    expect(readFileSync(moduleFile(modulesDir, 'muc_rtbl')!, 'utf8')).toMatch(/"muc-private-message"[\s\S]*get_affiliation\(event\.occupant\.bare_jid\)/);
    expect(readFileSync(join(modulesDir, 'muc', 'muc.lib.lua'), 'utf8')).toContain('module:fire_event("muc-private-message", { room = self, origin = origin, stanza = stanza })');
  });

  test('bookworm (Debian 12) packages the invitation pages but not mod_password_policy, which the web registration depends on: why Debian 12 serves no invitation pages', () => {
    const modulesDir = join(platformImage(testPlatform('debian-12')).toolsLayer, 'usr', 'lib', 'prosody', 'modules');
    for (const name of ['invites_page', 'register_apps', 'invites_register_web']) expect({ name, file: moduleFile(modulesDir, name) }).toEqual({ name, file: expect.any(String) });
    expect(withDependencies(modulesDir, ['invites_register_web']).missing).toEqual(['password_policy']);
    expect(PLATFORMS['debian-12'].prosody.invitationPageModules).toEqual([]);
    expect(withDependencies(join(platformImage(testPlatform('debian-13')).toolsLayer, 'usr', 'lib', 'prosody', 'modules'), PLATFORMS['debian-13'].prosody.invitationPageModules).missing).toEqual([]);
  });

  test('bookworm (Debian 12) does not package the iOS push extensions, which is why Debian 12 hosts leave them out', () => {
    const modulesDir = join(platformImage(testPlatform('debian-12')).toolsLayer, 'usr', 'lib', 'prosody', 'modules');
    expect(moduleFile(modulesDir, 'cloud_notify')).toBeDefined();
    expect(moduleFile(modulesDir, 'cloud_notify_extensions')).toBeUndefined();
  });
});
