/**
 * What users write by hand for the same service: a droplet, volume, reserved IP and firewall, and
 * per domain a zone and its records, one resource each (A, AAAA, CNAMEs for upload and conference,
 * client/server SRV incl. direct TLS, CAA). The host configuration itself is left out: it only
 * makes the comparison kinder to this program. The resource modules are passed in, so the same
 * program runs with the provider's index (as users write it) and with deep imports.
 */
import { App, TerraformStack } from 'cdktf';
import type * as Digitalocean from '@cdktf/provider-digitalocean';
import { benchDomains } from './domains';

export type ResourceModules = Pick<typeof Digitalocean, 'provider' | 'volume' | 'droplet' | 'reservedIp' | 'reservedIpAssignment' | 'firewall' | 'domain' | 'record'>;

export function synthesizeHandwritten(digitalocean: ResourceModules, count: number, outdir: string): void {
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'bench');
  new digitalocean.provider.DigitaloceanProvider(stack, 'do', {});
  const volume = new digitalocean.volume.Volume(stack, 'data', { name: 'xmpp-data', region: 'ams3', size: 10 });
  const droplet = new digitalocean.droplet.Droplet(stack, 'xmpp', {
    name: 'xmpp', image: 'debian-13-x64', region: 'ams3', size: 's-4vcpu-8gb', ipv6: true, volumeIds: [volume.id], userData: '#cloud-config\n',
  });
  const ip = new digitalocean.reservedIp.ReservedIp(stack, 'ip', { region: 'ams3' });
  new digitalocean.reservedIpAssignment.ReservedIpAssignment(stack, 'ip-assignment', { ipAddress: ip.ipAddress, dropletId: Number(droplet.id) });
  new digitalocean.firewall.Firewall(stack, 'fw', {
    name: 'xmpp', dropletIds: [Number(droplet.id)],
    inboundRule: ['5222', '5223', '5269', '443', '80', '3478'].map((port) => ({ protocol: 'tcp', portRange: port, sourceAddresses: ['0.0.0.0/0', '::/0'] })),
  });
  for (const name of benchDomains(count)) {
    const id = name.replace(/\./g, '-');
    const zone = new digitalocean.domain.Domain(stack, `zone-${id}`, { name });
    const record = (key: string, config: Omit<Digitalocean.record.RecordConfig, 'domain'>) =>
      new digitalocean.record.Record(stack, `${id}-${key}`, { domain: zone.name, ttl: 1800, ...config });
    record('a', { type: 'A', name: '@', value: ip.ipAddress });
    record('aaaa', { type: 'AAAA', name: '@', value: droplet.ipv6Address });
    record('upload', { type: 'CNAME', name: 'upload', value: `${name}.` });
    record('conference', { type: 'CNAME', name: 'conference', value: `${name}.` });
    record('c2s', { type: 'SRV', name: '_xmpp-client._tcp', value: `${name}.`, priority: 0, weight: 5, port: 5222 });
    record('c2s-tls', { type: 'SRV', name: '_xmpps-client._tcp', value: `${name}.`, priority: 0, weight: 5, port: 5223 });
    record('s2s', { type: 'SRV', name: '_xmpp-server._tcp', value: `${name}.`, priority: 0, weight: 5, port: 5269 });
    record('s2s-tls', { type: 'SRV', name: '_xmpps-server._tcp', value: `${name}.`, priority: 0, weight: 5, port: 5270 });
    record('upload-c2s', { type: 'SRV', name: '_xmpp-client._tcp.upload', value: `${name}.`, priority: 0, weight: 5, port: 5222 });
    record('caa-issue', { type: 'CAA', name: '@', value: 'letsencrypt.org.', flags: 0, tag: 'issue' });
    record('caa-iodef', { type: 'CAA', name: '@', value: `mailto:hostmaster@${name}`, flags: 0, tag: 'iodef' });
    record('conference-srv', { type: 'SRV', name: '_xmpp-server._tcp.conference', value: `${name}.`, priority: 0, weight: 5, port: 5269 });
  }
  app.synth();
}
