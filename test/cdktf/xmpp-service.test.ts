import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { DEPLOY_TIME_SECRET_PLACEHOLDER, renderCloudInit, SPACES_ACCESS_KEY_PLACEHOLDER, SPACES_SECRET_KEY_PLACEHOLDER, substituteDeployTimeSecret } from '../../lib/core/cloud-init';
import { BACKUP_ACCESS_KEY_PLACEHOLDER, BACKUP_SECRET_KEY_PLACEHOLDER } from '../../lib/core/backup';
import { isAddressRef, planDnsRecords } from '../../lib/core/dns';
import { planFirewall, planTurnFirewall } from '../../lib/core/firewall';
import { hasDedicatedTurnDroplet } from '../../lib/core/spec';
import { renderTurnCloudInit } from '../../lib/core/cloud-init';
import { renderReviewFiles } from '../../lib/core/review';
import { resolveSpec } from '../../lib/core/validate';
import { XmppServiceSpec } from '../../lib/core/spec';
import { renderExternalZoneFiles } from '../../lib/core/zone';
import { planForCdktf, XmppDomainRecords, XmppService, XmppStack } from '../../lib/cdktf';
import { closedSpec, fullSpec, minimalSpec, representativeSpecs } from '../support/specs';
import { evaluateTemplate } from '../support/terraform-template';
import { named, newStack, only, onlyName, resources, synth } from './synth';
import { synthRecords, synthZones } from '../support/synth-records';

/** A stack with the minimal service and these props. */
function withService(props: { movedFromFormerDnsLayout?: boolean }): TerraformStack {
  const stack = newStack();
  new XmppService(stack, 'Xmpp', { spec: minimalSpec, writeReviewFiles: false, ...props });
  return stack;
}

describe.each(representativeSpecs)('XmppService for the %s spec', (_name, input) => {
  const spec = resolveSpec(input);
  const stack = newStack();
  new XmppService(stack, 'Xmpp', { spec: input });
  const out = synth(stack);
  const droplet = named(out, 'digitalocean_droplet', 'Host_Droplet');
  const dropletName = droplet.name;
  const reservedIpName = onlyName(out, 'digitalocean_reserved_ip');
  const dedicated = hasDedicatedTurnDroplet(spec);
  const turnDropletName = dedicated ? named(out, 'digitalocean_droplet', 'Turn_Droplet').name : dropletName;
  const volumeName = onlyName(out, 'digitalocean_volume');

  test('THEN the droplet user_data, as Terraform reads the JSON, is exactly the core rendering', () => {
    // The configuration channel's read key and the backups' key, as the core leaves room for them.
    const keys = Object.keys(out.resource.digitalocean_spaces_key ?? {});
    const backupKeys = keys.filter((k) => /BackupKey/.test(k));
    const references = Object.fromEntries(
      keys.flatMap((k) => [
        [`digitalocean_spaces_key.${k}.access_key`, backupKeys.includes(k) ? BACKUP_ACCESS_KEY_PLACEHOLDER : SPACES_ACCESS_KEY_PLACEHOLDER],
        [`digitalocean_spaces_key.${k}.secret_key`, backupKeys.includes(k) ? BACKUP_SECRET_KEY_PLACEHOLDER : SPACES_SECRET_KEY_PLACEHOLDER],
      ]),
    );
    expect(keys.length - backupKeys.length).toBe(spec.configDelivery.channel === 'spaces' ? 1 : 0);
    expect(backupKeys).toHaveLength(spec.offsiteBackups ? 1 : 0);
    expect(evaluateTemplate(droplet.body.user_data, references)).toBe(renderCloudInit(spec));
  });

  test('THEN with configDelivery "spaces" the bundle goes into a private bucket that only the droplet\'s key may read', () => {
    const channel = planForCdktf(input).host.configChannel;
    // The off-host backups' bucket and key are another test's subject.
    const ofChannel = (resources: { [name: string]: any } | undefined) => Object.entries(resources ?? {}).filter(([name]) => !/Backup/.test(name));
    if (!channel) {
      expect(ofChannel(out.resource.digitalocean_spaces_bucket)).toEqual([]);
      return;
    }
    const bucket = ofChannel(out.resource.digitalocean_spaces_bucket);
    expect(bucket).toHaveLength(1);
    const [bucketName, bucketBody] = bucket[0];
    expect(bucketBody).toMatchObject({ name: channel.bucket.name, region: channel.bucket.region, acl: 'private' });
    const key = ofChannel(out.resource.digitalocean_spaces_key).map(([, body]) => body);
    expect(key).toEqual([expect.objectContaining({ name: channel.readKey.name, grant: [{ bucket: `\${digitalocean_spaces_bucket.${bucketName}.name}`, permission: 'read' }] })]);
    const object = Object.entries(out.resource.digitalocean_spaces_bucket_object ?? {});
    expect(object.map(([, body]) => body)).toEqual([expect.objectContaining({ bucket: `\${digitalocean_spaces_bucket.${bucketName}.name}`, key: 'bundle.tar.gz', content_base64: channel.object.contentBase64, acl: 'private' })]);
    // The droplet is created once its bundle is in the bucket, so first boot finds it.
    expect(droplet.body.depends_on).toEqual([`digitalocean_spaces_bucket_object.${object[0][0]}`]);
    expect(out.output!.Xmpp_config_bundle.value).toBe(channel.bundleSha256);
  });

  test('THEN the droplet has the declared image, region, size, IPv6, monitoring and keys', () => {
    expect(droplet.body).toMatchObject({
      name: spec.droplet.name,
      image: spec.droplet.image,
      region: spec.droplet.region,
      size: spec.droplet.size,
      ipv6: spec.droplet.ipv6,
      monitoring: spec.droplet.monitoring,
      backups: spec.droplet.backups,
      ssh_keys: spec.droplet.sshKeyFingerprints,
    });
  });

  test('THEN the volume is attached at boot and protected from destroy', () => {
    const volume = only(out, 'digitalocean_volume');
    expect(volume).toMatchObject({ name: spec.droplet.volumeName, region: spec.droplet.region, size: spec.droplet.volumeSizeGib });
    expect(volume.lifecycle).toEqual({ prevent_destroy: true });
    expect(droplet.body.volume_ids).toEqual([`\${digitalocean_volume.${volumeName}.id}`]);
  });

  test('THEN the reserved IP is assigned to the droplet by its numeric ID, and refuses destruction', () => {
    expect(only(out, 'digitalocean_reserved_ip')).toEqual({ region: spec.droplet.region, lifecycle: { prevent_destroy: true } });
    expect(only(out, 'digitalocean_reserved_ip_assignment')).toEqual({
      ip_address: `\${digitalocean_reserved_ip.${reservedIpName}.ip_address}`,
      droplet_id: `\${digitalocean_droplet.${dropletName}.id}`,
    });
  });

  test('THEN the reserved IPv6 exists, in the region, assigned to the droplet, exactly where the spec uses one', () => {
    if (!spec.droplet.reservedIpv6) {
      expect(out.resource.digitalocean_reserved_ipv6).toBeUndefined();
      expect(out.resource.digitalocean_reserved_ipv6_assignment).toBeUndefined();
      return;
    }
    // Its region is its only attribute: no other change of the spec replaces it; and like the
    // reserved IPv4 it refuses destruction.
    expect(only(out, 'digitalocean_reserved_ipv6')).toEqual({ region_slug: spec.droplet.region, lifecycle: { prevent_destroy: true } });
    expect(only(out, 'digitalocean_reserved_ipv6_assignment')).toEqual({
      ip: `\${digitalocean_reserved_ipv6.${onlyName(out, 'digitalocean_reserved_ipv6')}.ip}`,
      droplet_id: `\${digitalocean_droplet.${dropletName}.id}`,
    });
  });

  test('THEN every planned DNS record is present with its type, name, value, priority, weight and port', () => {
    const addressOf = {
      reservedIpv4: `\${digitalocean_reserved_ip.${reservedIpName}.ip_address}`,
      reservedIpv6: spec.droplet.reservedIpv6 ? `\${digitalocean_reserved_ipv6.${onlyName(out, 'digitalocean_reserved_ipv6')}.ip}` : undefined,
      dropletIpv4: `\${digitalocean_droplet.${dropletName}.ipv4_address}`,
      dropletIpv6: `\${digitalocean_droplet.${dropletName}.ipv6_address}`,
      turnIpv4: `\${digitalocean_droplet.${turnDropletName}.ipv4_address}`,
      turnIpv6: `\${digitalocean_droplet.${turnDropletName}.ipv6_address}`,
    } as Record<string, string>;
    const actual = synthRecords(out);
    const plan = planDnsRecords(spec);
    expect(actual).toHaveLength(plan.length);
    for (const r of plan) {
      const expected: Record<string, unknown> = {
        key: r.key,
        domain: r.zone,
        type: r.type,
        name: r.name,
        value: isAddressRef(r.value) ? addressOf[r.value.of] : r.value,
        ttl: r.ttlSeconds,
      };
      for (const k of ['priority', 'weight', 'port', 'flags', 'tag'] as const) if (r[k] !== undefined) expected[k] = r[k];
      expect(actual).toContainEqual(expected);
    }
  });

  test('THEN one zone is created per domain whose zone is not declared existing, and each zone\'s records wait for their zone', () => {
    expect(synthZones(out)).toEqual(spec.domains.filter((d) => d.zone === 'create').map((d) => d.name));
    const zoneByName = Object.fromEntries(Object.entries(out.resource.digitalocean_domain).map(([logical, body]) => [body.name, logical]));
    for (const records of resources(out, 'digitalocean_record')) {
      const zone = /^\$\{local\.[A-Za-z0-9_-]+\}$/.test(records.for_each) ? Object.values(out.locals![records.for_each.slice(8, -1)] as Record<string, { domain: string }>)[0].domain : undefined;
      expect(records.depends_on).toEqual(zoneByName[zone!] ? [`digitalocean_domain.${zoneByName[zone!]}`] : []);
    }
  });

  test('THEN the records are one resource block per zone with for_each, keyed by plan key, and moved blocks carry the former single resources\' state over', () => {
    const zones = new Set(planDnsRecords(spec).map((r) => r.zone));
    expect(Object.keys(out.resource.digitalocean_record)).toHaveLength(zones.size);
    const moved = (out as unknown as { moved: { from: string; to: string }[] }).moved;
    expect(moved.filter((m) => m.from.startsWith('digitalocean_record.'))).toHaveLength(planDnsRecords(spec).length);
    const index = (address: string) => /\[".*"\]$/.exec(address)?.[0];
    // A record keeps its key; a zone moves from the former for_each instance to its own resource.
    for (const m of moved.filter((m) => m.from.startsWith('digitalocean_record.'))) expect(index(m.to)).toBe(index(m.from));
    const zoneMoves = moved.filter((m) => m.from.startsWith('digitalocean_domain.'));
    expect(zoneMoves.map((m) => JSON.parse(index(m.from)!.slice(1, -1)))).toEqual(synthZones(out));
  });

  test('THEN the records read named fields of objects in a local per zone, which for_each refers to', () => {
    const all = resources(out, 'digitalocean_record');
    const entries: Record<string, Record<string, unknown>> = {};
    for (const records of all) {
      const local = /^\$\{local\.([A-Za-z0-9_-]+)\}$/.exec(records.for_each)?.[1];
      expect(local).toBeDefined();
      const zoneEntries = out.locals![local!] as Record<string, Record<string, unknown>>;
      expect(new Set(Object.values(zoneEntries).map((e) => e.domain)).size).toBe(1);
      Object.assign(entries, zoneEntries);
    }
    const records = all[0];
    // Keyed by plan key, every entry an object with every field (null where absent).
    expect(Object.keys(entries).sort()).toEqual(planDnsRecords(spec).map((r) => r.key).sort());
    for (const entry of Object.values(entries)) {
      expect(Object.keys(entry).sort()).toEqual(['address', 'domain', 'flags', 'name', 'port', 'priority', 'tag', 'ttl', 'type', 'value', 'weight']);
    }
    const srv = `${spec.primaryDomain}/_xmpp-client._tcp/SRV`;
    expect(entries[srv]).toEqual({ domain: spec.primaryDomain, type: 'SRV', name: '_xmpp-client._tcp', value: `${spec.primaryDomain}.`, address: null, ttl: spec.dns.ttlSeconds, priority: 0, weight: 5, port: spec.ports.c2s, flags: null, tag: null });
    expect(entries[`${spec.primaryDomain}/@/A`]).toMatchObject({ type: 'A', value: null, address: 'reservedIpv4' });
    for (const attribute of ['domain', 'type', 'name', 'ttl', 'priority', 'weight', 'port', 'flags', 'tag']) {
      expect(records[attribute]).toBe(`\${each.value.${attribute}}`);
    }
    expect(records.value).toMatch(/^\$\{each\.value\.address == null \? each\.value\.value : local\.[A-Za-z0-9_-]+\[each\.value\.address\]\}$/);
  });

  test('THEN the firewall rules equal the core plan and protect the droplet', () => {
    const plan = planFirewall(spec);
    const fw = named(out, 'digitalocean_firewall', 'Xmpp_Firewall').body;
    expect(fw.droplet_ids).toEqual([`\${digitalocean_droplet.${dropletName}.id}`]);
    const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    expect(fw.inbound_rule).toEqual(plan.inbound.map((r) => strip({ protocol: r.protocol, port_range: r.ports, source_addresses: r.addresses })));
    expect(fw.outbound_rule).toEqual(plan.outbound.map((r) => strip({ protocol: r.protocol, port_range: r.ports, destination_addresses: r.addresses })));
  });

  test('THEN the outputs have stable names and hold nothing secret', () => {
    const names = Object.keys(out.output ?? {}).sort();
    expect(names).toEqual(
      ['Xmpp_domains', 'Xmpp_first_admin', 'Xmpp_ipv4', ...(spec.droplet.ipv6 ? ['Xmpp_ipv6'] : []), 'Xmpp_reserved_ipv4', ...(spec.droplet.reservedIpv6 ? ['Xmpp_reserved_ipv6'] : []), 'Xmpp_ssh', ...(dedicated ? ['Xmpp_turn_ipv4'] : []), ...(spec.configDelivery.channel === 'spaces' ? ['Xmpp_config_bundle'] : [])].sort(),
    );
    if (spec.droplet.reservedIpv6) expect(out.output!.Xmpp_reserved_ipv6.value).toBe(`\${digitalocean_reserved_ipv6.${onlyName(out, 'digitalocean_reserved_ipv6')}.ip}`);
    expect(out.output!.Xmpp_domains.value).toEqual(spec.domains.map((d) => d.name));
    expect(out.output!.Xmpp_reserved_ipv4.value).toBe(`\${digitalocean_reserved_ip.${reservedIpName}.ip_address}`);
    const values = JSON.stringify(Object.values(out.output!).map((o) => o.value));
    expect(values).not.toMatch(/placeholder|turn_external_secret|static-auth-secret|user_data|var\./);
  });
});

describe('TURN on its own droplet', () => {
  const input = { ...minimalSpec, calls: { placement: 'dedicated' as const, sharedSecret: 'c'.repeat(64) } };
  const spec = resolveSpec(input);
  const stack = newStack();
  const service = new XmppService(stack, 'Xmpp', { spec: input });
  const out = synth(stack);
  const turn = named(out, 'digitalocean_droplet', 'Turn_Droplet');

  test('THEN coturn gets its own droplet with the core\'s TURN user_data, size and region', () => {
    expect(turn.body).toMatchObject({ name: 'xmpp-example-net-turn', size: 's-1vcpu-1gb', region: 'ams3', image: 'debian-13-x64' });
    expect(evaluateTemplate(turn.body.user_data)).toBe(renderTurnCloudInit(spec));
    expect(service.turn.droplet?.terraformResourceType).toBe('digitalocean_droplet');
  });

  test('THEN the TURN droplet has its own firewall from the TURN plan, and the Prosody host\'s has no TURN ports', () => {
    const fw = named(out, 'digitalocean_firewall', 'Turn_Firewall').body;
    expect(fw.droplet_ids).toEqual([`\${digitalocean_droplet.${turn.name}.id}`]);
    expect(fw.inbound_rule.map((r: { port_range?: string }) => r.port_range)).toEqual(planTurnFirewall(spec).inbound.map((r) => r.ports));
    const hostRules = named(out, 'digitalocean_firewall', 'Xmpp_Firewall_').body.inbound_rule as { port_range?: string }[];
    expect(hostRules.map((r) => r.port_range)).not.toContain('3478');
  });

  test('THEN the TURN name points at the TURN droplet and both hosts carry the secret', () => {
    const turnA = synthRecords(out).find((r) => r.name === 'turn' && r.type === 'A');
    expect(turnA?.value).toBe(`\${digitalocean_droplet.${turn.name}.ipv4_address}`);
    expect(turn.body.user_data).toContain('c'.repeat(64));
    expect(named(out, 'digitalocean_droplet', 'Host_Droplet').body.user_data).toContain('c'.repeat(64));
    expect(JSON.stringify(out.output)).not.toContain('c'.repeat(64));
  });

  test('fails when no shared secret is supplied, with the core\'s message', () => {
    expect(() => new XmppService(newStack(), 'Xmpp', { spec: { ...minimalSpec, calls: { placement: 'dedicated' } } })).toThrow(/calls\.sharedSecret.*must be supplied.*Fix: generate one/s);
  });
});

describe('outputs', () => {
  test('GIVEN invite registration and admin SSH sources THEN the outputs tell how to invite the first admin and SSH in', () => {
    const stack = newStack();
    new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, adminSourceCidrs: ['203.0.113.0/24'], droplet: { sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] } } });
    const out = synth(stack);
    // On Debian 13 (the default): a link that sets the password of the account provisioning created.
    expect(out.output!.Xmpp_first_admin.value).toMatch(/prosodyctl shell invite create_reset admin@example\.net .*choose the password of admin@example\.net/);
    expect(out.output!.Xmpp_ssh.value).toMatch(/^ssh root@\$\{digitalocean_reserved_ip\./);
  });

  test('GIVEN Debian 12 THEN the first admin\'s link is Prosody 0.12\'s password reset for that account', () => {
    const stack = newStack();
    new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, droplet: { image: 'debian-12-x64' } } });
    expect(synth(stack).output!.Xmpp_first_admin.value).toBe("On the host, run: prosodyctl mod_invites generate example.net --reset admin — open the link (valid for a day) on the admin's device and choose the password of admin@example.net");
  });

  test.each([
    ['debian-13-x64', "On the host, run: prosodyctl shell invite create_reset admin@bücher.example — open the link (valid for a day) on the admin's device and choose the password of admin@bücher.example"],
    ['debian-12-x64', "On the host, run: prosodyctl mod_invites generate bücher.example --reset admin — open the link (valid for a day) on the admin's device and choose the password of admin@bücher.example"],
  ])('GIVEN an internationalised domain on %s THEN the first admin is named by the address Prosody and clients use, in Unicode', (image, expected) => {
    const stack = newStack();
    new XmppService(stack, 'Xmpp', { spec: { domains: ['xn--bcher-kva.example'], admins: ['admin@xn--bcher-kva.example'], acme: { email: 'hostmaster@example.net' }, droplet: { image } } });
    expect(synth(stack).output!.Xmpp_first_admin.value).toBe(expected);
  });

  test('GIVEN a closed server without SSH sources THEN the outputs point at prosodyctl adduser and the console', () => {
    const stack = newStack();
    new XmppService(stack, 'Xmpp', { spec: closedSpec });
    const out = synth(stack);
    expect(out.output!.Xmpp_first_admin.value).toBe('On the host, run: prosodyctl adduser root@chat.example.com — it asks for the password');
    expect(out.output!.Xmpp_ssh.value).toMatch(/DigitalOcean web console/);
  });
});

describe('secrets', () => {
  test('GIVEN the TURN secret as a sensitive variable THEN the JSON only references it and no output carries it', () => {
    const stack = newStack();
    const secret = new TerraformVariable(stack, 'turn_secret', { type: 'string', sensitive: true });
    new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, calls: { sharedSecret: secret.stringValue } } });
    const out = synth(stack);
    const userData: string = only(out, 'digitalocean_droplet').user_data;
    expect(userData).toContain('${var.turn_secret}');
    expect(userData).not.toContain('placeholder');
    // The document rendered around the placeholder (sized for the longest secret), the value put in.
    const resolved = resolveSpec({ ...minimalSpec, calls: { sharedSecret: DEPLOY_TIME_SECRET_PLACEHOLDER } });
    expect(evaluateTemplate(userData, { turn_secret: 'e'.repeat(64) })).toBe(substituteDeployTimeSecret(renderCloudInit(resolved), 'e'.repeat(64)));
    expect(JSON.stringify(out.output)).not.toContain('var.turn_secret');
  });

  test('GIVEN a literal TURN secret THEN it reaches the droplet but never the outputs', () => {
    const literal = 'f'.repeat(64);
    const stack = newStack();
    new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, calls: { sharedSecret: literal } } });
    const out = synth(stack);
    expect(only(out, 'digitalocean_droplet').user_data).toContain(literal);
    expect(JSON.stringify(out.output)).not.toContain(literal);
  });
});

describe('validation', () => {
  test('fails at construct time with the core\'s message', () => {
    const stack = newStack();
    expect(() => new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, domains: ['Example.NET'] } })).toThrow(
      /domains\[0\] = "Example\.NET": domain names must be lower case.*Fix: write "example\.net"/,
    );
  });

  test('fails at construct time naming every bad field at once', () => {
    const stack = newStack();
    expect(() => new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, droplet: { region: 'Mars', size: 'huge' } } })).toThrow(
      /droplet\.region = "Mars".*\n.*droplet\.size = "huge"/,
    );
  });
});

describe('composition', () => {
  test('GIVEN movedFromFormerDnsLayout: false THEN the stack has no moved blocks and nothing else changes', () => {
    const withMoves = synth(withService({}));
    const without = synth(withService({ movedFromFormerDnsLayout: false }));
    expect((withMoves as { moved?: unknown[] }).moved?.length).toBe(planDnsRecords(resolveSpec(minimalSpec)).length + 1);
    expect((without as { moved?: unknown }).moved).toBeUndefined();
    expect({ ...withMoves, moved: undefined }).toEqual({ ...without, moved: undefined });
  });

  test('GIVEN a user\'s own stack with an existing zone THEN no zone is created and records go into it', () => {
    const stack = newStack();
    new XmppService(stack, 'Chat', { spec: minimalSpec, existingZones: ['example.net'] });
    const out = synth(stack);
    expect(out.resource.digitalocean_domain).toBeUndefined();
    expect(resources(out, 'digitalocean_record')[0].depends_on).toEqual([]);
    for (const record of synthRecords(out)) expect(record.domain).toBe('example.net');
  });

  test('GIVEN an existingZones entry that is not a served domain THEN synthesis fails naming it', () => {
    expect(() => new XmppService(newStack(), 'Chat', { spec: minimalSpec, existingZones: ['example.com'] })).toThrow(/existingZones\[0\] = "example\.com".*not one of the served domains/);
  });

  describe('GIVEN a domain whose DNS is hosted outside DigitalOcean', () => {
    const spec: XmppServiceSpec = { ...minimalSpec, domains: ['example.net', { name: 'customer.example', zone: 'external' }], admins: ['admin@example.net'] };
    const stack = newStack();
    new XmppService(stack, 'Chat', { spec });
    const out = synth(stack);
    const reservedIp = `\${digitalocean_reserved_ip.${onlyName(out, 'digitalocean_reserved_ip')}.ip_address}`;
    const reservedIpv6 = `\${digitalocean_reserved_ipv6.${onlyName(out, 'digitalocean_reserved_ipv6')}.ip}`;
    const droplet = named(out, 'digitalocean_droplet', 'Host_Droplet').name;

    test('THEN nothing of its zone is created at DigitalOcean, and the other domain is unchanged', () => {
      expect(synthZones(out)).toEqual(['example.net']);
      expect(synthRecords(out).filter((r) => r.domain !== 'example.net')).toEqual([]);
      expect(synthRecords(out)).toHaveLength(planDnsRecords(resolveSpec(minimalSpec)).length);
    });

    test('THEN the zone_files output holds its records, addresses as references to the deployed resources', () => {
      const files = out.output!.Chat_zone_files.value as Record<string, string>;
      expect(Object.keys(files)).toEqual(['customer.example']);
      const text = files['customer.example'];
      expect(text).toMatch(new RegExp(`^@ +1800 IN A +${reservedIp.replace(/[$.{}]/g, '\\$&')}$`, 'm'));
      expect(text).toMatch(new RegExp(`^@ +1800 IN AAAA +${reservedIpv6.replace(/[$.{}]/g, '\\$&')}$`, 'm'));
      expect(text).toMatch(/^_xmpp-client\._tcp +1800 IN SRV +0 5 5222 customer\.example\.$/m);
      expect(text).not.toMatch(/ IN (SOA|NS) |192\.0\.2\.|2001:db8/);
      // Terraform evaluates it: what it yields with the deployed addresses is the core's import file.
      const deployed = { reservedIpv4: '198.51.100.10', reservedIpv6: '2001:db8:5::10', dropletIpv4: '198.51.100.20', dropletIpv6: '2001:db8:5::20' };
      const evaluated = evaluateTemplate(
        text.replace(reservedIp, deployed.reservedIpv4).replace(reservedIpv6, deployed.reservedIpv6).replaceAll(`\${digitalocean_droplet.${droplet}.ipv6_address}`, deployed.dropletIpv6),
      );
      expect(evaluated).toBe(renderExternalZoneFiles(resolveSpec(spec), deployed)['customer.example']);
    });
  });

  test('GIVEN two services in one stack THEN resources and outputs do not collide', () => {
    const stack = newStack();
    new XmppService(stack, 'Friends', { spec: minimalSpec });
    new XmppService(stack, 'Club', { spec: { ...closedSpec } });
    const out = synth(stack);
    expect(resources(out, 'digitalocean_droplet').map((d) => d.name).sort()).toEqual(['xmpp-chat-example-com', 'xmpp-example-net']);
    expect(Object.keys(out.output!).filter((k) => k.startsWith('Friends_'))).toHaveLength(7);
    expect(Object.keys(out.output!).filter((k) => k.startsWith('Club_'))).toHaveLength(5);
  });

  test('GIVEN droplet size and region overrides THEN the droplet, volume and reserved IP follow them', () => {
    const stack = newStack();
    new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, droplet: { region: 'fra1', size: 's-2vcpu-4gb' } } });
    const out = synth(stack);
    expect(only(out, 'digitalocean_droplet')).toMatchObject({ region: 'fra1', size: 's-2vcpu-4gb' });
    expect(only(out, 'digitalocean_volume').region).toBe('fra1');
    expect(only(out, 'digitalocean_reserved_ip').region).toBe('fra1');
  });

  test('GIVEN XmppDomainRecords on its own without the reserved IPv6 its spec points the AAAA records at THEN synthesis fails naming the address and the fix', () => {
    const stack = newStack();
    expect(() => XmppDomainRecords.fromSpec(stack, 'Records', { spec: minimalSpec, addresses: { reservedIpv4: '192.0.2.10', dropletIpv4: '192.0.2.20', dropletIpv6: '2001:db8::20' } })).toThrow(
      /DNS record example\.net\/@\/AAAA needs the reservedIpv6 address, but none was given\. Fix: pass addresses\.reservedIpv6\./,
    );
  });

  test.each([
    ['a region without reserved IPv6', { region: 'zzz1' }],
    ['reserved IPv6 declined', { reservedIpv6: false }],
  ])('GIVEN %s THEN no reserved IPv6 is created and the apex AAAA follows the droplet with the short TTL', (_, droplet) => {
    const stack = newStack();
    new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, droplet }, writeReviewFiles: false });
    const out = synth(stack);
    expect(out.resource.digitalocean_reserved_ipv6).toBeUndefined();
    expect(out.resource.digitalocean_reserved_ipv6_assignment).toBeUndefined();
    expect(out.output!.Xmpp_reserved_ipv6).toBeUndefined();
    const aaaa = synthRecords(out).find((r) => r.name === '@' && r.type === 'AAAA');
    expect(aaaa).toMatchObject({ value: `\${digitalocean_droplet.${onlyName(out, 'digitalocean_droplet')}.ipv6_address}`, ttl: 300 });
  });

  test('GIVEN project, tags and an unprotected volume THEN they are applied', () => {
    const stack = newStack();
    const service = new XmppService(stack, 'Xmpp', { spec: minimalSpec, projectId: 'proj-123', tags: ['xmpp'], protectVolume: false, protectReservedIps: false });
    const out = synth(stack);
    // No lifecycle block: Terraform's defaults, destruction allowed and delete-first.
    expect(only(out, 'digitalocean_reserved_ip').lifecycle).toBeUndefined();
    expect(only(out, 'digitalocean_reserved_ipv6').lifecycle).toBeUndefined();
    expect(only(out, 'digitalocean_project_resources').project).toBe('proj-123');
    expect(only(out, 'digitalocean_project_resources').resources).toHaveLength(3);
    expect(only(out, 'digitalocean_droplet').tags).toEqual(['xmpp']);
    expect(only(out, 'digitalocean_volume').lifecycle).toBeUndefined();
    // Escape hatches: the underlying resources are reachable.
    expect(service.host.droplet.terraformResourceType).toBe('digitalocean_droplet');
    expect(Object.values(service.records.records).map((r) => r.terraformResourceType)).toEqual(['digitalocean_record']);
    expect(Object.values(service.records.zones).map((z) => z.terraformResourceType)).toEqual(['digitalocean_domain']);
    expect(service.firewall.firewall.terraformResourceType).toBe('digitalocean_firewall');
  });
});

describe('resolution while a service is built', () => {
  test('GIVEN one declaration object changed between two services THEN the second is built from the changed declaration', () => {
    const spec = { ...minimalSpec, dns: { ttlSeconds: 600 } };
    const stack = newStack();
    new XmppService(stack, 'First', { spec, writeReviewFiles: false });
    (spec as { dns: { ttlSeconds: number } }).dns = { ttlSeconds: 900 };
    const second = new XmppService(stack, 'Second', { spec, writeReviewFiles: false });
    expect(second.spec.dns.ttlSeconds).toBe(900);
    expect(second.records.plan.every((r) => r.ttlSeconds === 900 || r.name === 'turn')).toBe(true);
  });
});

describe('XmppStack and review files', () => {
  test('GIVEN an app synth THEN cdk.tf.json and the redacted review files are written, with no absolute path', () => {
    const app = Testing.app({ stackTraces: false });
    new XmppStack(app, 'xmpp-example-net', { spec: { ...fullSpec, calls: { ...fullSpec.calls, sharedSecret: 'e'.repeat(64) } } });
    app.synth();
    const dir = join(app.outdir, 'stacks', 'xmpp-example-net');
    const tf = readFileSync(join(dir, 'cdk.tf.json'), 'utf8');
    expect(tf).not.toMatch(/"\/(work|root|home|tmp)\//);
    expect(JSON.parse(tf).terraform.backend.local.path).toBe('../../../terraform.xmpp-example-net.tfstate');
    const spec = resolveSpec({ ...fullSpec, calls: { ...fullSpec.calls, sharedSecret: 'e'.repeat(64) } });
    for (const [path, content] of Object.entries(renderReviewFiles(spec))) {
      expect(readFileSync(join(dir, 'review', 'Xmpp', path), 'utf8')).toBe(content);
      expect(content).not.toContain('e'.repeat(64));
    }
    expect(existsSync(join(dir, 'review', 'Xmpp', 'host/etc/prosody/prosody.cfg.lua'))).toBe(true);
    expect(readFileSync(join(dir, 'review', 'Xmpp', 'dns/zones.txt'), 'utf8')).toMatch(/^\$ORIGIN example\.org\.$/m);
  });

  test('GIVEN a custom backend THEN XmppStack uses it instead of local state', () => {
    const app = Testing.app();
    const { S3Backend } = require('cdktf');
    const stack = new XmppStack(app, 's3', { spec: minimalSpec, backend: (s: TerraformStack) => new S3Backend(s, { bucket: 'state', key: 'xmpp.tfstate', region: 'us-east-1' }) });
    const out = JSON.parse(Testing.synth(stack, true));
    expect(Object.keys(out.terraform.backend)).toEqual(['s3']);
  });
});

describe('deep imports', () => {
  test('GIVEN the cdktf entry point THEN the provider index (all 138 resource namespaces) is never loaded', () => {
    const loaded = Object.keys(require.cache).filter((p) => p.includes('@cdktf/provider-digitalocean/lib/index'));
    expect(loaded).toEqual([]);
  });
});

describe('GIVEN a Terraform variable where the declaration needs a value at synthesis', () => {
  test('WHEN the region is one THEN synthesis fails naming droplet.region and the two fields that may be one, and the TURN secret may be one', () => {
    const stack = newStack();
    const region = new TerraformVariable(stack, 'region', { type: 'string' });
    expect(() => new XmppService(stack, 'Xmpp', { spec: { ...minimalSpec, droplet: { region: region.stringValue } } })).toThrow(
      /- droplet\.region = "\(a value known only at deploy time\)": is a deploy-time value .*only calls\.sharedSecret, alerts\.slack\.webhookUrl and offsiteBackups\.password may be one/,
    );
    const secret = new TerraformVariable(stack, 'turn_secret', { type: 'string', sensitive: true });
    expect(() => new XmppService(stack, 'Other', { spec: { ...minimalSpec, calls: { sharedSecret: secret.stringValue } }, writeReviewFiles: false })).not.toThrow();
  });
});
