/**
 * Boot ordering for the services that keep their state on the data volume.
 *
 * The provisioning script writes the volume and its bind mounts (/srv/xmpp-data/prosody over
 * /var/lib/prosody, /srv/xmpp-data/letsencrypt over /etc/letsencrypt) into /etc/fstab with
 * `nofail`, so that a droplet whose volume is slow or missing still boots and stays reachable over
 * SSH. `nofail` alone would let every service start at boot without the volume: Prosody on the
 * empty /var/lib/prosody of the root disk (its accounts gone, new data written where the next
 * boot no longer sees it), certbot renewing into the root disk's /etc/letsencrypt, nginx failing
 * on certificate links that point into the volume.
 *
 * So each of those services gets a drop-in with `RequiresMountsFor=` on the paths it reads or
 * writes: systemd then starts it only after those mounts (and, through the fstab options, the
 * volume under them) are mounted. A volume that appears late is waited for (up to the device
 * timeout in fstab); one that never appears fails the mount, and the service is not started at all
 * ("Dependency failed"), rather than started on the root disk.
 *
 * coturn needs none: its configuration, its copy of the certificate and its secret database are on
 * the root disk, written by provisioning. The backup service (backup.ts) and the certificate
 * service (host-scripts.ts) are units of this library and say it in their own [Unit] section.
 */
import { VOLUME_BINDS, VOLUME_MOUNT } from './paths';

/** Where each bind mount of the volume is seen by the services. */
const PROSODY_DATA = VOLUME_BINDS.find((b) => b.volumeDir === `${VOLUME_MOUNT}/prosody`)!.systemDir;
const LETSENCRYPT = VOLUME_BINDS.find((b) => b.volumeDir === `${VOLUME_MOUNT}/letsencrypt`)!.systemDir;

/**
 * The mounts the certificates live on: Let's Encrypt's lineages (/etc/letsencrypt) and the
 * self-signed stand-ins (on the volume itself), which the links in /etc/xmpp-constructs/certs point to.
 */
export const CERTIFICATE_MOUNTS: readonly string[] = [LETSENCRYPT, VOLUME_MOUNT];

/** A Debian package's service that reads or writes volume state, and the mounts it needs. */
export interface VolumeUnit {
  /** The unit, as its package names it. */
  readonly unit: string;
  /** Absolute paths for `RequiresMountsFor=`: every mount under them must be up first. */
  readonly mounts: readonly string[];
  /** Why it needs them. */
  readonly why: string;
  /** Extra [Service] lines. */
  readonly service?: readonly string[];
}

/** How long nginx waits before it tries again after a failed start. */
export const NGINX_RESTART_SECONDS = 10;

/** The packaged services on the Prosody droplet that need the volume, with what they need. */
export const VOLUME_UNITS: readonly VolumeUnit[] = [
  {
    unit: 'prosody.service',
    mounts: [PROSODY_DATA, VOLUME_MOUNT],
    why: `Prosody keeps accounts, rosters, archives and uploads in ${PROSODY_DATA}, the volume's ${VOLUME_MOUNT}/prosody.`,
  },
  {
    unit: 'nginx.service',
    mounts: CERTIFICATE_MOUNTS,
    why: `nginx reads the certificates through /etc/xmpp-constructs/certs, links into ${LETSENCRYPT} and ${VOLUME_MOUNT}/self-signed.`,
    // nginx has no restart policy in Debian: a start that failed (a certificate not readable yet,
    // a configuration being replaced) would leave the web side down until someone noticed. It is
    // tried again; a missing volume is a failed dependency, which is never retried.
    service: ['Restart=on-failure', `RestartSec=${NGINX_RESTART_SECONDS}s`],
  },
  {
    unit: 'certbot.service',
    mounts: CERTIFICATE_MOUNTS,
    why: `certbot renews the lineages in ${LETSENCRYPT}; its deploy hook links them and the self-signed stand-ins on ${VOLUME_MOUNT}.`,
  },
];

/** Where the drop-in for `unit` goes. */
export function volumeDropinPath(unit: string): string {
  return `/etc/systemd/system/${unit}.d/xmpp-constructs-volume.conf`;
}

/**
 * The drop-in that holds `unit` back until the volume and its bind mounts are mounted. Bare: user_data
 * has little room left under DigitalOcean's 64 KiB; its name says whose it is, the README ("Reboots") why.
 */
export function renderVolumeDropin(unit: VolumeUnit): string {
  return [
    '[Unit]',
    `RequiresMountsFor=${unit.mounts.join(' ')}`,
    ...(unit.service && unit.service.length > 0 ? ['[Service]', ...unit.service] : []),
    '',
  ].join('\n');
}
