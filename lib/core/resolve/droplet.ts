/** `droplet` (and the TURN droplet's name, which follows it) and `adminSourceCidrs`. */
import { DEFAULTS, defaultDropletName, defaultReservedIpv6 } from '../defaults';
import {
  checkBoolean,
  checkDropletMemory,
  checkDropletName,
  checkInteger,
  checkRegionSlug,
  checkReservedIpv6,
  checkSizeSlug,
  checkSourceCidr,
  checkSshKey,
  estimateProsodyMemoryMiB,
} from '../rules';
import { checkImage, checkPlatform, platformOfImage } from '../platforms';
import { DropletSpec, ResolvedDomain, ResolvedSpec, XmppServiceSpec } from '../spec';
import { IssueCollector, section } from './collector';

export function resolveDroplet(
  declared: DropletSpec | undefined,
  context: { readonly primaryDomain: string; readonly domains: readonly ResolvedDomain[]; readonly dedicatedTurn: boolean; readonly federated: boolean },
  c: IssueCollector,
): { readonly droplet: ResolvedSpec['droplet']; readonly turnDropletName: string } {
  const { primaryDomain, domains, dedicatedTurn, federated } = context;
  const dropletIn = section<DropletSpec>(declared);
  const droplet = { ...DEFAULTS.droplet, name: defaultDropletName(primaryDomain), ...dropletIn };
  c.check('droplet.name', droplet.name, checkDropletName(droplet.name));
  const turnDropletName = `${droplet.name}-turn`;
  if (dedicatedTurn && !checkDropletName(droplet.name) && checkDropletName(turnDropletName)) {
    c.check('droplet.name', droplet.name, {
      problem: `the TURN droplet is named after it ("${turnDropletName}"), which is longer than 59 characters`,
      fix: 'shorten droplet.name to at most 54 characters',
    });
  }
  c.check('droplet.region', droplet.region, checkRegionSlug(droplet.region));
  c.check('droplet.image', droplet.image, checkImage(droplet.image));
  c.check('droplet.platform', dropletIn.platform, checkPlatform(dropletIn.platform, droplet.image));
  const platform = platformOfImage(droplet.image, dropletIn.platform).name;
  c.check('droplet.size', droplet.size, checkSizeSlug(droplet.size) ?? checkDropletMemory(droplet.size, estimateProsodyMemoryMiB({ domains, droplet: { platform }, federation: { enabled: federated } }), domains.length));
  c.check('droplet.ipv6', droplet.ipv6, checkBoolean(droplet.ipv6));
  c.check('droplet.reservedIpv6', dropletIn.reservedIpv6, checkReservedIpv6(dropletIn.reservedIpv6, droplet.region, droplet.ipv6));
  // A declared `true` never applies without IPv6 (and is reported above).
  const reservedIpv6 = droplet.ipv6 === true && (dropletIn.reservedIpv6 ?? defaultReservedIpv6(droplet.ipv6, droplet.region));
  c.check('droplet.monitoring', droplet.monitoring, checkBoolean(droplet.monitoring));
  c.check('droplet.backups', droplet.backups, checkBoolean(droplet.backups));
  c.check('droplet.volumeSizeGib', droplet.volumeSizeGib, checkInteger(droplet.volumeSizeGib, 1, 16384, ' GiB'));
  if (!Array.isArray(droplet.sshKeyFingerprints)) {
    c.check('droplet.sshKeyFingerprints', droplet.sshKeyFingerprints, { problem: 'must be a list', fix: 'write ["aa:bb:…"]' });
  } else {
    droplet.sshKeyFingerprints.forEach((k, i) => c.check(`droplet.sshKeyFingerprints[${i}]`, k, checkSshKey(k)));
  }
  return {
    droplet: {
      name: droplet.name,
      region: droplet.region,
      size: droplet.size,
      image: droplet.image,
      platform,
      sshKeyFingerprints: [...droplet.sshKeyFingerprints],
      ipv6: droplet.ipv6,
      reservedIpv6,
      monitoring: droplet.monitoring,
      backups: droplet.backups,
      volumeSizeGib: droplet.volumeSizeGib,
      volumeName: `${droplet.name}-data`,
    },
    turnDropletName,
  };
}

/** The networks SSH is open to: each an address or block, none of them "everything". */
export function resolveAdminSourceCidrs(declared: XmppServiceSpec['adminSourceCidrs'], c: IssueCollector): string[] {
  const adminSourceCidrs = declared ?? DEFAULTS.service.adminSourceCidrs;
  if (!Array.isArray(adminSourceCidrs)) {
    c.check('adminSourceCidrs', adminSourceCidrs, { problem: 'must be a list', fix: 'write ["203.0.113.7/32"]' });
    return [];
  }
  adminSourceCidrs.forEach((cidr, i) => c.check(`adminSourceCidrs[${i}]`, cidr, checkSourceCidr(cidr)));
  return [...adminSourceCidrs];
}
