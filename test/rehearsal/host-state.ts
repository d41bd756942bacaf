/**
 * What the durability and upgrade rehearsals read on a droplet to tell whether state survived a
 * replacement and whether provisioning again changed anything, and the certbot recorder both use to
 * prove that no certificate was requested.
 */
import { PROSODY_SECRETS_INCLUDE, TURN_SECRET_FILE, VOLUME_MOUNT } from '../../lib/core/paths';
import { BootOptions, BootResult, Rehearsal, SynthesizedStack } from './harness';

/** Which Prosody release last ran on the volume, written by provisioning. */
export const RELEASE_MARKER = `${VOLUME_MOUNT}/prosody-release`;

/** What provisioning writes; a second run must leave every one of these byte for byte. */
export const STATE_PATHS = ['/etc/xmpp-constructs', '/etc/prosody', '/etc/nginx', '/etc/turnserver.conf', '/etc/systemd/system', '/etc/fstab', '/usr/local/sbin',
  `${VOLUME_MOUNT}/secrets`, `${VOLUME_MOUNT}/self-signed`, RELEASE_MARKER, '/etc/letsencrypt', '/var/lib/turn'];

/**
 * Wraps certbot: records each request, then passes it on to the real certbot (and so to Pebble),
 * or fails it while /run/rehearsal/certbot.fail exists.
 */
export function installCertbotRecorder(r: Rehearsal): void {
  const wrapper = '#!/bin/sh\necho "$*" >> /run/rehearsal/certbot.log\n[ -e /run/rehearsal/certbot.fail ] && exit 1\nexec /usr/bin/certbot "$@"\n';
  r.mustRun('install the certbot recorder', ['sh', '-c', 'cat > /usr/local/bin/certbot && chmod 0755 /usr/local/bin/certbot && mkdir -p /run/rehearsal && : > /run/rehearsal/certbot.log'], { input: wrapper });
}

/** Every certbot command line since the recorder was installed. */
export function certbotRequests(r: Rehearsal): string[] {
  return r.readFile('/run/rehearsal/certbot.log').split('\n').filter(Boolean);
}

/** What must survive, as the host sees it: the secrets and the certificates, by checksum. */
export function keptOnHost(r: Rehearsal): Record<string, string> {
  const sums = r.mustRun('checksum secrets and certificates', ['sh', '-c', `sha256sum ${TURN_SECRET_FILE} ${PROSODY_SECRETS_INCLUDE} /etc/letsencrypt/live/*/fullchain.pem /etc/letsencrypt/live/*/privkey.pem`]).stdout;
  return Object.fromEntries(sums.trim().split('\n').map((line) => line.split(/\s+/).reverse()));
}

/** Every file provisioning writes, by checksum. */
export function checksums(r: Rehearsal): string {
  return r.mustRun('checksum state', ['sh', '-c', `find ${STATE_PATHS.join(' ')} -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum`]).stdout;
}

/**
 * Boot `stack` for a test of what survives: fails with provisioning's output unless it succeeded,
 * waits until every one of `listeners` listens, records certbot's requests from then on, and makes
 * clients trust `ca`, the CA of an earlier droplet whose certificates this one finds on its volume.
 */
export async function bootRecorded(stack: SynthesizedStack, options: BootOptions, listeners: readonly string[], ca?: string): Promise<BootResult> {
  const booted = await Rehearsal.boot(stack, options);
  const { rehearsal, provision } = booted;
  if (provision.status !== 0) {
    const logs = rehearsal.logTails();
    await rehearsal.stop();
    throw new Error(`provisioning failed (exit ${provision.status}):\n${provision.stdout}\n${provision.stderr}\n${logs}`);
  }
  await rehearsal.waitForListeners(listeners);
  installCertbotRecorder(rehearsal);
  if (ca !== undefined) rehearsal.trustCa(ca);
  return booted;
}
