/**
 * Three domains on one host, rehearsed: the host expands the per-domain configuration from its
 * templates, Let's Encrypt (Pebble) issues a certificate per domain, each domain's users log in
 * through its own SRV records and certificate, a message crosses domains, and a room on one
 * domain's group chat is joined from another domain.
 */
import { renderExpandedFiles } from '../../lib/core/cloud-init';
import { CERTIFICATES_LIST } from '../../lib/core/host-scripts';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { XmppService } from '../../lib/cdktf';
import { newStack, synth } from '../cdktf/synth';
import { externalZonesFromSynth, recordsFromSynth, Rehearsal, rehearsalUnavailable, SynthesizedStack } from './harness';
import { describeUnless } from '../support/tools';

jest.setTimeout(240000);

/** The third domain is a customer's: its own admin and abuse address, its DNS outside DigitalOcean. */
const SPEC: XmppServiceSpec = {
  domains: [
    'example.net',
    'example.org',
    { name: 'xn--bcher-kva.example', admins: ['carol@xn--bcher-kva.example'], contacts: { abuse: ['mailto:abuse@xn--bcher-kva.example'] }, zone: 'external' },
  ],
  admins: ['admin@example.net'],
  acme: { email: 'hostmaster@example.net' },
  droplet: { sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] },
  adminSourceCidrs: ['203.0.113.0/24'],
};
const ADMIN = { jid: 'admin@example.net', password: 'the admin of every domain' };
const ALICE = { jid: 'alice@example.net', password: 'alice on the first domain' };
const BOB = { jid: 'bob@example.org', password: 'bob on the second domain' };
/** Carol's address as she types it, and as Prosody knows her domain: in Unicode (RFC 7622). */
const CAROL = { jid: 'carol@bücher.example', password: 'carol on the third domain' };
/** The domains as DNS and certificates name them (the declaration's form)... */
const DOMAINS = ['example.net', 'example.org', 'xn--bcher-kva.example'];
/** ...and as XMPP addresses do. */
const XMPP_DOMAINS = ['example.net', 'example.org', 'bücher.example'];
/** An admin command of mod_admin_adhoc, listed only to the domain's admins. */
const ADD_USER = 'http://jabber.org/protocol/admin#add-user';


describeUnless(rehearsalUnavailable(), `GIVEN one droplet serving ${DOMAINS.join(', ')}`, () => {
  let rehearsal: Rehearsal | undefined;
  let ordersForThree: number;
  let stack: SynthesizedStack;

  function droplet(): Rehearsal {
    if (!rehearsal) throw new Error('the rehearsal did not boot (see the beforeAll error)');
    return rehearsal;
  }

  beforeAll(async () => {
    const app = newStack();
    new XmppService(app, 'Xmpp', { spec: SPEC, writeReviewFiles: false });
    const synthesized = synth(app) as SynthesizedStack;
    stack = synthesized;
    const booted = await Rehearsal.boot(synthesized);
    rehearsal = booted.rehearsal;
    if (booted.provision.status !== 0) throw new Error(`provisioning failed (exit ${booted.provision.status}):\n${booted.provision.stdout}\n${booted.provision.stderr}\n${rehearsal.logTails()}`);
    await rehearsal.waitForListeners(['tcp/5222', 'tcp/5223', 'tcp/5269', 'tcp/443', 'udp/3478']);
    rehearsal.issueCertificates();
    ordersForThree = rehearsal.acmeOrders();
    // Provisioning created the declared admins' accounts, so that no invitation takes their names:
    // they get their passwords; the others are new accounts.
    for (const admin of [ADMIN, CAROL]) rehearsal.setPassword(admin.jid, admin.password);
    for (const account of [ALICE, BOB]) rehearsal.addUser(account.jid, account.password);
  });
  afterAll(async () => {
    await rehearsal?.stop();
  });

  test('THEN the host expanded every per-domain file, host-meta of each domain included, exactly as rendered', () => {
    const expanded = renderExpandedFiles(resolveSpec(SPEC));
    expect(Object.keys(expanded)).toContain('/var/www/host-meta/example.org/.well-known/host-meta.json');
    for (const [path, content] of Object.entries(expanded)) expect({ path, content: droplet().readFile(path) }).toEqual({ path, content });
  });

  test('THEN Let\'s Encrypt was asked once per domain, each lineage for that domain\'s names', () => {
    expect(ordersForThree).toBe(3);
    expect(droplet().readFile(CERTIFICATES_LIST).split('\n').filter(Boolean).map((l) => l.split(' ')[0])).toEqual(DOMAINS);
  });

  test.each([ALICE, BOB, CAROL])('THEN $jid logs in through its own domain\'s SRV record and certificate', (account) => {
    const r = droplet().client<{ loggedIn: boolean; jid?: string; refusal?: string }>('canLogIn', account);
    expect(r).toMatchObject({ loggedIn: true });
    expect(r.jid).toMatch(new RegExp(`^${account.jid.replace(/\./g, '\\.')}/`));
  });

  // Conversations connects so where the domain publishes _xmpps-client: SNI and the certificate
  // check name the domain's A-label, the stream its Unicode name. Prosody is asked for a name it
  // does not call the host by, and must still answer with the domain's certificate.
  test('THEN carol@bücher.example logs in with TLS from the first byte too, asking for xn--bcher-kva.example by SNI', () => {
    const r = droplet().client<any>('c2sDirectTls', CAROL);
    expect(r.srv).toEqual({ name: 'xn--bcher-kva.example', port: 5223 });
    expect(r.withSni.handshake).toMatchObject({ authorized: true, issuer: expect.stringMatching(/^Pebble Intermediate CA/) });
    expect(r.withSni.auth).toBe('success');
    expect(r.withSni.jid).toBe(`${CAROL.jid}/direct-tls`);
    expect(r.certificates[0]).toMatchObject({ sni: true, verified: true });
  });

  // The slot's URLs name the upload host by its DNS name, which is what nginx passes Prosody as the
  // HTTP Host, while Prosody knows the component by its Unicode name.
  test('WHEN carol shares a file through upload.bücher.example THEN the slot\'s URLs are on upload.xn--bcher-kva.example, and the file goes up and comes back intact', () => {
    const r = droplet().client<any>('fileShareRoundTrip', { ...CAROL, service: 'upload.bücher.example', sizeBytes: 4096, filename: 'photo.jpg', origin: 'https://xn--bcher-kva.example' });
    expect(r.slot.put).toMatch(/^https:\/\/upload\.xn--bcher-kva\.example\/file_share\//);
    expect(r.put.status).toBe(201);
    expect(r.get).toMatchObject({ status: 200, sha256: r.sentSha256 });
  });

  test('WHEN carol uses a web client THEN host-meta of xn--bcher-kva.example leads to its WebSocket and BOSH endpoints, and she logs in over both', () => {
    const ws = droplet().client<any>('c2sWebSocket', CAROL);
    expect(ws.transport).toBe('wss://xn--bcher-kva.example/xmpp-websocket');
    expect(ws.jid).toMatch(new RegExp(`^${CAROL.jid.replace(/\./g, '\\.')}/`));
    expect(ws.ping).toBe('result');
    const bosh = droplet().client<any>('c2sBosh', CAROL);
    expect(bosh.url).toBe('https://xn--bcher-kva.example/http-bind');
    expect(bosh.boundJid).toBe(`${CAROL.jid}/bosh`);
  });

  test('WHEN alice@example.net writes to bob@example.org, offline and then online THEN he gets both, and both are in his archive', () => {
    const r = droplet().client<any>('conversation', { sender: ALICE, recipient: BOB });
    // The sender's phone, by the full JID the server bound (Bind2 on Prosody 13 makes its resource from the client's tag).
    expect(r.jids.phone).toMatch(/^alice@example\.net\/phone/);
    expect(r.offline).toMatchObject({ from: r.jids.phone, body: r.offlineBody, delayed: true });
    expect(r.delivered).toMatchObject({ from: r.jids.phone, to: BOB.jid, body: r.liveBody });
    expect(r.archive.bodies).toEqual(expect.arrayContaining([r.offlineBody, r.liveBody]));
  });

  test('WHEN bob creates a room on conference.example.org and carol, of the third domain, joins THEN she receives what is said and reads the room\'s archive', () => {
    const r = droplet().client<any>('groupChat', { owner: BOB, guest: CAROL, room: 'neighbours' });
    expect(r.room).toBe('neighbours@conference.example.org');
    expect(r.createdStatuses).toEqual(expect.arrayContaining(['201', '110']));
    expect(r.guestRole).toBe('participant');
    expect(r.message).toMatchObject({ from: `${r.room}/owner`, body: r.body });
    expect(r.archive.bodies).toContain(r.body);
  });

  test('WHEN carol tries to create a room on example.org\'s group chat THEN she may not: room creation stays with each domain\'s own users', () => {
    const r = droplet().client<any>('groupChatCreate', { owner: CAROL, service: 'conference.example.org', room: 'not-hers' });
    expect(r.created).toBe(false);
    expect(r.error).toMatch(/not-allowed|forbidden/);
  });

  test('WHEN bob creates a room on conference.example.org THEN admin@example.net, admin of every domain, owns it too (component_admins_as_room_owners on Prosody 13), and carol, admin of another domain only, does not', () => {
    const r = droplet().client<any>('roomOwnership', { creator: BOB, admin: ADMIN, other: CAROL, service: 'conference.example.org', room: 'bobs-own' });
    expect(r.createdStatuses).toEqual(expect.arrayContaining(['201', '110']));
    expect(r.admin).toEqual({ affiliation: 'owner', role: 'moderator', ownerForm: 'result' });
    expect(r.other).toMatchObject({ affiliation: 'none', role: 'participant', ownerForm: 'error:forbidden' });
  });

  test('THEN the customer domain has no DigitalOcean records: its users log in (above) through the zone_files output, loaded into its own DNS', () => {
    expect(recordsFromSynth(stack).filter((r) => r.zone === 'xn--bcher-kva.example')).toEqual([]);
    expect(Object.keys(externalZonesFromSynth(stack))).toEqual(['xn--bcher-kva.example']);
  });

  test('THEN carol administers her own domain and no other, and the service-wide admin administers all', () => {
    const forCarol = droplet().client<Record<string, { commands: string[] }>>('domainAdministration', { ...CAROL, domains: XMPP_DOMAINS });
    const forAdmin = droplet().client<Record<string, { commands: string[] }>>('domainAdministration', { ...ADMIN, domains: XMPP_DOMAINS });
    expect(XMPP_DOMAINS.map((d) => [d, forCarol[d].commands.includes(ADD_USER)])).toEqual([['example.net', false], ['example.org', false], ['bücher.example', true]]);
    expect(XMPP_DOMAINS.map((d) => [d, forAdmin[d].commands.includes(ADD_USER)])).toEqual(XMPP_DOMAINS.map((d) => [d, true]));
  });

  test('THEN each domain publishes its own contact addresses: the customer\'s abuse address and admins there, the service\'s elsewhere', () => {
    const seen = droplet().client<Record<string, { contacts: Record<string, string[]> }>>('domainAdministration', { ...BOB, domains: XMPP_DOMAINS });
    expect(seen['example.org'].contacts).toMatchObject({ 'abuse-addresses': ['xmpp:admin@example.net'], 'admin-addresses': ['xmpp:admin@example.net'] });
    expect(seen['bücher.example'].contacts).toMatchObject({
      'abuse-addresses': ['mailto:abuse@xn--bcher-kva.example'],
      'admin-addresses': ['xmpp:admin@example.net', 'xmpp:carol@xn--bcher-kva.example'],
    });
  });
});
