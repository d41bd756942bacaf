/**
 * The rehearsal, messaging side: the synthesized example stack boots in a disposable droplet and
 * real clients use it as phones, desktops and browsers would — names from the rehearsal DNS (SRV,
 * host-meta), certificates checked against Let's Encrypt's test server (Pebble), accounts created the way the README
 * tells an admin to. Scenarios live in clients/messaging.ts. It runs on every platform: the
 * commands an admin types come from the platform's data, as the stack's `first_admin` output names them.
 */
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { firstAdminInstructions } from '../../lib/core/outputs';
import { platformOf } from '../../lib/core/platforms';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { ClientSession, DROPLET, Rehearsal, rehearsalUnavailable, RunResult } from './harness';
import { platformTitle, REHEARSED_PLATFORMS, specOn, synthesizeSpec } from './platforms';
import { describeUnless } from '../support/tools';
import { browserUnavailable, launchBrowser, LaunchedBrowser, pageProblems } from '../support/browser';
import { chatEncryption, joinRoom, logIn, openWebClient, screenshot, sendDirectMessage, sendRoomMessage, uploadFile, waitForLoggedIn, waitForMessage, waitForRoomJoined } from './clients/web-client';
import { createHash, randomBytes } from 'crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { Page } from 'playwright-core';

/** Where the suite keeps what a reader looks at afterwards: the web client's screenshots. */
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

jest.setTimeout(240000);


const DOMAIN = 'example.net';
/** The first admin, declared in the example, created from an invitation (README: "Creating the first admin"). */
const ADMIN = { jid: 'admin@example.net', password: 'first admin & <invited> 1' };
/** Created on the host with prosodyctl (README: the `registration: 'closed'` path). */
const BOB = { jid: 'bob@example.net', password: 'bob pass 2' };
/** Registered from an invitation for any name on the domain. */
const DAVE = { jid: 'dave@example.net', password: 'dave pass 4' };
/**
 * The example, with group chat rooms created by admins only: the room-creation policy whose meaning
 * changed between Prosody 0.12 and 13 ("admin" there, `true` here), rehearsed with real clients.
 */
const EXAMPLE_ADMIN_ROOMS: XmppServiceSpec = { ...exampleSpec, components: { groupChat: { roomCreation: 'admin' } } };

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const FULL_JID = (bare: string) => new RegExp(`^${bare.replace(/\./g, '\\.')}/.+`);
/** The one xmpp: URI a command printed (Prosody 13's shell prints it after "OK: "). */
const INVITATION_URI = /xmpp:[^\s]+/g;

/** The one https: link a command printed: an invitation's landing page. */
function landingPage(run: RunResult): string {
  const pages = run.stdout.match(/https:\/\/[^\s]+/g) ?? [];
  if (pages.length !== 1) throw new Error(`expected one https: link, got:\n${run.stdout}\n${run.stderr}`);
  return pages[0];
}

function invitationUri(run: RunResult): string {
  const uris = run.stdout.match(INVITATION_URI) ?? [];
  if (uris.length !== 1) throw new Error(`expected one xmpp: URI, got:\n${run.stdout}\n${run.stderr}`);
  return uris[0];
}

for (const platform of REHEARSED_PLATFORMS) {
  const spec = specOn(EXAMPLE_ADMIN_ROOMS, platform);
  const prosody = platformOf(resolveSpec(spec)).prosody;
  /**
   * All a client sees before TLS: STARTTLS, required, and on Prosody 13 the stream's limits
   * (XEP-0478, from mod_limits), which say how large a stanza may be and grant nothing.
   */
  const featuresBeforeTls = platform === 'debian-13' ? [`starttls ${NS_TLS}`, 'limits urn:xmpp:stream-limits:0'] : [`starttls ${NS_TLS}`];
  /** Where disco#info carries a room's avatar hash: Prosody 13's MUC, or 0.12's mod_vcard_muc. */
  const roomAvatarHashField = platform === 'debian-13' ? 'muc#roominfo_avatarhash' : '{http://modules.prosody.im/mod_vcard_muc}avatar#sha1';

  describeUnless(rehearsalUnavailable(), `GIVEN the example stack (example.net, rooms created by admins only) on ${platformTitle(platform)}, booted in a rehearsal droplet, with certificates from Let's Encrypt's test server (Pebble)`, () => {
    let rehearsal: Rehearsal;
    let provision: RunResult;
    /** The first admin's invitation, made with the command the `first_admin` output names. */
    let adminInvitation: RunResult;
    /** An invitation for any name on the domain. */
    let invitation: RunResult;
    let adminRegistration: any;
    /** Someone else's attempt, with an invitation for any name, to take the admin's name before the admin does. */
    let squatter: any;

    /** An admin's command typed on the host as root, as the README and the `first_admin` output show it. */
    const onHost = (command: string): RunResult => rehearsal.run(['sh', '-c', command]);
    /** Where the platform serves invitation pages, the invitation commands print the page's link. */
    const pagesServed = prosody.invitationPageModules.length > 0;
    /** The xmpp: link an invitation command gave: printed, or behind the landing page it printed (opened as a browser would). */
    const links = new WeakMap<RunResult, string>();
    const linkOf = (run: RunResult): string => {
      if (!pagesServed) return invitationUri(run);
      // Read once, while the token is valid: the page of a used one says so and names no link.
      const known = links.get(run);
      if (known !== undefined) return known;
      const page = rehearsal.client('invitationPage', { url: landingPage(run) }) as { uri?: string };
      if (page.uri === undefined) throw new Error(`the landing page of ${landingPage(run)} names no xmpp: link: ${JSON.stringify(page)}`);
      links.set(run, page.uri);
      return page.uri;
    };

    beforeAll(async () => {
      const booted = await Rehearsal.boot(synthesizeSpec(spec));
      rehearsal = booted.rehearsal;
      provision = booted.provision;
      if (provision.status !== 0) {
        throw new Error(`provisioning failed (exit ${provision.status}):\n${provision.stdout}\n${provision.stderr}\n${rehearsal.logTails()}`);
      }
      await rehearsal.waitForListeners(['tcp/5222', 'tcp/5223', 'tcp/443']);
      rehearsal.issueCertificates();

      // The accounts every later step uses, created as the README tells an admin.
      adminInvitation = onHost(prosody.adminInviteCommand(ADMIN.jid));
      invitation = onHost(prosody.inviteCommand(DOMAIN));
      squatter = rehearsal.client('registerWithInvite', { uri: linkOf(onHost(prosody.inviteCommand(DOMAIN))), username: 'admin', password: 'squatter pass' });
      adminRegistration = rehearsal.client('registerWithInvite', { uri: linkOf(adminInvitation), username: 'admin', password: ADMIN.password });
      rehearsal.addUser(BOB.jid, BOB.password);
    });

    afterAll(async () => {
      await rehearsal?.stop();
    });

    // These tests fail about ten logins on purpose, each to a different account but two, all from the
    // one client address: within the throttle's limits (5 per account, 20 per address), so what they
    // see is the server's answer to the password, never mod_login_throttle's refusal.
    describe('accounts', () => {
      test('WHEN provisioning runs THEN it creates the declared admin\'s account, with a password nobody knows, before any invitation exists', () => {
        expect(provision.stdout).toContain(`xmpp-constructs: the account of admin ${ADMIN.jid}, kept for them`);
      });

      test(`WHEN the admin runs the command the first_admin output names (\`${prosody.adminInviteCommand(ADMIN.jid)}\`) THEN it exits 0 and prints one xmpp: URI naming the admin's account, with a preauth token`, () => {
        expect(firstAdminInstructions(resolveSpec(spec))).toContain(prosody.adminInviteCommand(ADMIN.jid));
        expect({ status: adminInvitation.status, stderr: adminInvitation.stderr }).toMatchObject({ status: 0 });
        expect(linkOf(adminInvitation)).toMatch(/^xmpp:admin@example\.net\?register;preauth=[A-Za-z0-9_-]{16,}$/);
      });

      test('WHEN someone redeems an invitation for any name under the admin\'s name, before the admin has their link THEN the server refuses the name (conflict), and that password never logs in', () => {
        expect(squatter).toMatchObject({ preauth: 'result', register: 'error:conflict' });
        expect(rehearsal.client('canLogIn', { jid: ADMIN.jid, password: 'squatter pass' })).toMatchObject({ loggedIn: false, refusal: 'not-authorized' });
      });

      test('WHEN the admin\'s link is presented for another existing account (bob) THEN it is refused (conflict): it sets the admin\'s password and no one else\'s', () => {
        const link = onHost(prosody.adminInviteCommand(ADMIN.jid));
        expect(link.status).toBe(0);
        expect(rehearsal.client('registerWithInvite', { uri: linkOf(link), username: 'bob', password: 'taken over' })).toMatchObject({ preauth: 'result', register: 'error:conflict' });
        expect(rehearsal.client('canLogIn', BOB)).toMatchObject({ loggedIn: true });
        expect(rehearsal.client('canLogIn', { jid: BOB.jid, password: 'taken over' })).toMatchObject({ loggedIn: false, refusal: 'not-authorized' });
      });

      test(`WHEN the admin runs \`${prosody.inviteCommand(DOMAIN)}\` THEN it exits 0 and prints one xmpp: URI inviting to any name on example.net, which dave redeems`, () => {
        expect({ status: invitation.status, stderr: invitation.stderr }).toMatchObject({ status: 0 });
        expect(linkOf(invitation)).toMatch(/^xmpp:example\.net\?register;preauth=[A-Za-z0-9_-]{16,}$/);
        const dave = rehearsal.client('registerWithInvite', { uri: linkOf(invitation), username: 'dave', password: DAVE.password });
        expect(dave).toMatchObject({ preauth: 'result', register: 'result' });
        expect(dave.loginJid).toMatch(FULL_JID(DAVE.jid));
      });

      if (pagesServed) describe('WHEN the invitation command prints a landing page and a new user opens it in a browser', () => {
        let invited: RunResult;
        let page: any;
        beforeAll(() => {
          invited = onHost(prosody.inviteCommand(DOMAIN));
          page = rehearsal.client('invitationPage', { url: landingPage(invited) });
        });

        test('THEN the link is an https: page on the domain, served through nginx with HSTS, that stands for the xmpp: invitation and lists clients for every device', () => {
          expect(invited.status).toBe(0);
          expect(landingPage(invited)).toMatch(/^https:\/\/example\.net\/invites_page\?[A-Za-z0-9_-]{16,}$/);
          expect(page).toMatchObject({ status: 200, contentType: expect.stringMatching(/^text\/html/), hsts: expect.stringMatching(/max-age=/) });
          expect(page.uri).toMatch(/^xmpp:example\.net\?register;preauth=[A-Za-z0-9_-]{16,}$/);
          expect(page.clients).toEqual(['Conversations', 'Monal', 'Siskin', 'Dino', 'Gajim']);
          expect(page.registerUrl).toMatch(/^https:\/\/example\.net\/register\?t=[A-Za-z0-9_-]{16,}$/);
        });

        test('THEN registering in the browser creates the account, which a client then logs in to; the page\'s token makes no second account', () => {
          const web = rehearsal.client('registerOnWeb', { url: page.registerUrl, username: 'heidi', password: 'correct horse 5' });
          expect(web).toMatchObject({ formStatus: 200, formFields: expect.arrayContaining(['user', 'password', 'token']), status: 200, congratulated: true, account: 'heidi@example.net' });
          expect(web.cacheControl).toMatch(/no-store/);
          expect(rehearsal.client('canLogIn', { jid: 'heidi@example.net', password: 'correct horse 5' })).toMatchObject({ loggedIn: true, jid: expect.stringMatching(FULL_JID('heidi@example.net')) });
          const again = rehearsal.client('registerOnWeb', { url: page.registerUrl, username: 'ivan', password: 'second try 6' });
          expect(again).not.toMatchObject({ congratulated: true });
          expect(rehearsal.client('canLogIn', { jid: 'ivan@example.net', password: 'second try 6' })).toMatchObject({ loggedIn: false, refusal: 'not-authorized' });
        });

        test('THEN the web registration refuses an admin\'s name too', () => {
          const other = rehearsal.client('invitationPage', { url: landingPage(onHost(prosody.inviteCommand(DOMAIN))) });
          const web = rehearsal.client('registerOnWeb', { url: other.registerUrl, username: 'admin', password: 'squatter pass 2' });
          expect(web).toMatchObject({ status: 200, congratulated: false, message: 'This username is already in use.' });
          expect(rehearsal.client('canLogIn', { jid: ADMIN.jid, password: 'squatter pass 2' })).toMatchObject({ loggedIn: false, refusal: 'not-authorized' });
        });
      });

      test('WHEN a client redeems the admin\'s link over direct TLS (XEP-0401 preauth, then XEP-0077 registration under the admin\'s name) THEN the declared admin account logs in with the password it chose', () => {
        expect(adminRegistration.features).toEqual(expect.arrayContaining(['register urn:xmpp:ibr-token:0', 'register http://jabber.org/features/iq-register']));
        expect(adminRegistration).toMatchObject({ preauth: 'result', register: 'result' });
        expect(adminRegistration.formFields).toEqual(expect.arrayContaining(['username', 'password']));
        expect(adminRegistration.loginJid).toMatch(FULL_JID(ADMIN.jid));
      });

      test('WHEN the same invitation is presented a second time THEN the token and the registration are refused: an invitation makes one account', () => {
        const again = rehearsal.client('registerWithInvite', { uri: linkOf(adminInvitation), username: 'eve', password: 'eve pass' });
        expect(again.preauth).toBe('error:forbidden');
        expect(again.register).toMatch(/^error:/);
        expect(rehearsal.client('canLogIn', { jid: 'eve@example.net', password: 'eve pass' })).toMatchObject({ loggedIn: false, refusal: 'not-authorized' });
      });

      test('WHEN a client presents an invalid token THEN the server refuses the token and the registration, and no account is created', () => {
        const forged = rehearsal.client('registerWithInvite', { uri: 'xmpp:example.net?register;preauth=NotAValidToken123', username: 'mallory', password: 'mallory pass' });
        expect(forged.preauth).toBe('error:forbidden');
        expect(forged.register).toMatch(/^error:/);
        expect(forged.registerError).toMatch(/invitation/);
        expect(rehearsal.client('canLogIn', { jid: 'mallory@example.net', password: 'mallory pass' })).toMatchObject({ loggedIn: false, refusal: 'not-authorized' });
      });

      // Prosody 13's `invite create_account <jid>` names the account in the link (a client fills it
      // in), but 13.0 does not hold the registration to that name: the token, like 0.12's, makes one
      // account of whatever free name its holder chooses. Why the admins' accounts are created first.
      if (platform === 'debian-13') test('WHEN an invitation made for frank@example.net (`prosodyctl shell invite create_account frank@example.net`) is redeemed under another name THEN it makes that other account, once: the token is what counts, not the name', () => {
        const named = onHost('prosodyctl shell invite create_account frank@example.net');
        expect(named.status).toBe(0);
        expect(linkOf(named)).toMatch(/^xmpp:frank@example\.net\?register;preauth=/);
        const other = rehearsal.client('registerWithInvite', { uri: linkOf(named), username: 'grace', password: 'grace pass' });
        expect(other).toMatchObject({ preauth: 'result', register: 'result', loginJid: expect.stringMatching(FULL_JID('grace@example.net')) });
        const again = rehearsal.client('registerWithInvite', { uri: linkOf(named), username: 'frank', password: 'frank pass' });
        expect(again.preauth).toBe('error:forbidden');
        expect(rehearsal.client('canLogIn', { jid: 'frank@example.net', password: 'frank pass' })).toMatchObject({ loggedIn: false, refusal: 'not-authorized' });
      });

      test('WHEN the admin creates an account with `prosodyctl adduser` (the closed-registration path) THEN that account logs in too', () => {
        expect(rehearsal.client('canLogIn', BOB)).toMatchObject({ loggedIn: true, jid: expect.stringMatching(FULL_JID(BOB.jid)) });
      });

      test('WHEN the admin removes an account with `prosodyctl deluser` THEN it no longer logs in', () => {
        const carol = { jid: 'carol@example.net', password: 'carol pass 3' };
        rehearsal.addUser(carol.jid, carol.password);
        expect(rehearsal.client('canLogIn', carol)).toMatchObject({ loggedIn: true });
        rehearsal.deleteUser(carol.jid);
        expect(rehearsal.client('canLogIn', carol)).toMatchObject({ loggedIn: false, refusal: 'not-authorized' });
      });
    });

    describe('connecting, the four ways clients do', () => {
      test('WHEN a client looks up _xmpp-client._tcp and connects THEN TLS is required first, SASL is offered only after STARTTLS, SCRAM-SHA-1 is used and the session binds with stream management', () => {
        const r = rehearsal.client('c2sStarttls', ADMIN);
        expect(r.srv).toEqual({ name: DOMAIN, port: 5222 });
        expect(r.featuresBeforeTls).toEqual(featuresBeforeTls);
        expect(r.starttlsRequired).toBe(true);
        expect(r.mechanismsBeforeTls).toEqual([]);
        expect(r.mechanismsAfterTls).toContain('SCRAM-SHA-1');
        expect(r.authMechanismSent).toBe('SCRAM-SHA-1');
        expect(r.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
        expect(r.tlsAuthorized).toBe(true);
        expect(r.jid).toMatch(FULL_JID(ADMIN.jid));
        expect(r.smEnabled).toBe(true);
        expect(r.ping).toBe('result');
      });

      describe('WHEN a client looks up _xmpps-client._tcp and connects with TLS from the first byte (XEP-0368)', () => {
        let direct: any;
        const directTls = () => (direct ??= rehearsal.client('c2sDirectTls', BOB));

        test('THEN, with SNI and ALPN xmpp-client as Conversations sends them, the certificate verifies for example.net, SCRAM is offered without STARTTLS and the session binds', () => {
          const r = directTls();
          expect(r.srv).toEqual({ name: DOMAIN, port: 5223 });
          expect(r.withSni.handshake).toMatchObject({ authorized: true, issuer: expect.stringMatching(/^Pebble Intermediate CA/) });
          expect(r.withSni.handshake.protocol).toMatch(/^TLSv1\.[23]$/);
          // Prosody 0.12 tolerates ALPN on c2s_direct_tls but selects none (only mod_net_multiplex does).
          expect([false, 'xmpp-client']).toContain(r.withSni.handshake.alpnProtocol);
          expect(r.withSni.features).not.toContain(`starttls ${NS_TLS}`);
          expect(r.withSni.mechanisms).toContain('SCRAM-SHA-1');
          expect(r.withSni.auth).toBe('success');
          expect(r.withSni.featuresAfterAuth).toEqual(expect.arrayContaining(['sm urn:xmpp:sm:3', 'csi urn:xmpp:csi:0']));
          expect(r.withSni.jid).toBe(`${BOB.jid}/direct-tls`);
          expect(r.certificates[0]).toMatchObject({ sni: true, verified: true });
        });

        // Found by this rehearsal: after a reload, Prosody 0.12.3's server_epoll keeps the old TLS
        // context for accepted connections, so clients without SNI got the bootstrap certificate on
        // 5223. The certificate deploy hook now restarts Prosody when a certificate changed.
        test('THEN a client that sends no SNI (@xmpp/client 0.14 `xmpps://`) gets the issued certificate and logs in too', () => {
          const r = directTls();
          expect(r.certificates[1]).toMatchObject({ sni: false, verified: true, issuer: expect.stringMatching(/^Pebble Intermediate CA/) });
          expect(r.withoutSni.jid).toMatch(FULL_JID(BOB.jid));
        });
      });

      test('WHEN a web client reads https://example.net/.well-known/host-meta.json and connects to its WebSocket link THEN host-meta is served with CORS and the session authenticates with SCRAM over wss through nginx', () => {
        const r = rehearsal.client('c2sWebSocket', ADMIN);
        for (const doc of [r.hostMeta.xml, r.hostMeta.json]) {
          expect(doc).toMatchObject({ status: 200, cors: '*' });
          expect(doc.links).toEqual(
            expect.arrayContaining([
              { rel: 'urn:xmpp:alt-connections:websocket', href: `wss://${DOMAIN}/xmpp-websocket` },
              { rel: 'urn:xmpp:alt-connections:xbosh', href: `https://${DOMAIN}/http-bind` },
            ]),
          );
        }
        expect(r.hostMeta.xml.contentType).toMatch(/^application\/xrd\+xml/);
        expect(r.hostMeta.json.contentType).toMatch(/^application\/json/);
        expect(r.transport).toBe(`wss://${DOMAIN}/xmpp-websocket`);
        expect(r.authMechanismSent).toBe('SCRAM-SHA-1');
        expect(r.jid).toMatch(FULL_JID(ADMIN.jid));
        expect(r.ping).toBe('result');
      });

      test('WHEN a web client reads host-meta (XML) and speaks BOSH to its xbosh link THEN the session is created, SASL is on offer because nginx vouches for HTTPS, SCRAM succeeds, and after the restart a resource is bound', () => {
        const r = rehearsal.client('c2sBosh', BOB);
        expect(r.url).toBe(`https://${DOMAIN}/http-bind`);
        expect(r.status).toBe(200);
        expect(r.contentType).toMatch(/^text\/xml/);
        expect(r.sid).not.toBe('');
        expect(r.mechanisms).toContain('SCRAM-SHA-1');
        expect(r.mechanism).toBe('SCRAM-SHA-1');
        expect(r.boundJid).toBe(`${BOB.jid}/bosh`);
        expect(r.serverFeatures).toContain('urn:xmpp:carbons:2');
      });
    });

    describe('messaging', () => {
      test('WHEN admin (phone and laptop, carbons on) writes to bob, once while bob is offline and once while he is online THEN bob gets both, the stored one with a delay stamp; the laptop gets a carbon of the sent message; bob\'s archive (MAM) holds both under the ids the server stamped', () => {
        const r = rehearsal.client('conversation', { sender: ADMIN, recipient: BOB });
        expect(r.jids.phone).toMatch(new RegExp(`^${ADMIN.jid.replace(/\./g, '\\.')}/phone`));
        expect(r.offline).toMatchObject({ from: r.jids.phone, body: r.offlineBody, delayed: true });
        expect(r.delivered).toMatchObject({ from: r.jids.phone, body: r.liveBody });
        expect(r.delivered.stanzaId).toEqual(expect.any(String));
        expect(r.carbon).toMatchObject({ from: ADMIN.jid, to: r.jids.laptop, forwardedFrom: r.jids.phone, forwardedTo: BOB.jid, body: r.liveBody });
        expect(r.archive.complete).toBe(true);
        expect(r.archive.bodies).toEqual(expect.arrayContaining([r.offlineBody, r.liveBody]));
        expect(r.archive.items).toContainEqual(expect.objectContaining({ id: r.delivered.stanzaId, body: r.liveBody }));
      });

      test('WHEN admin creates a room on conference.example.net (instant room), bob joins and admin says something THEN bob receives it and the room\'s archive (MUC MAM) returns it', () => {
        const r = rehearsal.client('groupChat', { owner: ADMIN, guest: BOB, room: 'rehearsal' });
        expect(r.room).toBe(`rehearsal@conference.${DOMAIN}`);
        expect(r.createdStatuses).toEqual(expect.arrayContaining(['201', '110']));
        expect(r.configured).toBe('result');
        expect(r.guestRole).toBe('participant');
        expect(r.message).toMatchObject({ from: `${r.room}/owner`, body: r.body });
        expect(r.roomFeatures).toEqual(expect.arrayContaining(['http://jabber.org/protocol/muc', 'urn:xmpp:mam:2']));
        expect(r.archive.complete).toBe(true);
        expect(r.archive.bodies).toContain(r.body);
        expect(r.archive.ids).toContain(r.message.roomStanzaId);
      });

      test('WHEN bob, a local user but no admin, tries to create a room THEN he may not (roomCreation "admin"); the admin may', () => {
        const byBob = rehearsal.client('groupChatCreate', { owner: BOB, service: `conference.${DOMAIN}`, room: 'bobs-room' });
        expect(byBob.created).toBe(false);
        expect(byBob.error).toMatch(/not-allowed|forbidden/);
        const byAdmin = rehearsal.client('groupChatCreate', { owner: ADMIN, service: `conference.${DOMAIN}`, room: 'admins-room' });
        expect(byAdmin).toMatchObject({ created: true });
      });

      test('WHEN the owner gives a room an avatar (vCard on the room\'s JID) THEN anyone reads it back, an entering occupant gets its hash in the room\'s presence (XEP-0153) and disco#info, and a participant may not replace it', () => {
        const r = rehearsal.client('roomAvatar', { owner: ADMIN, guest: BOB, room: 'with-avatar' });
        expect(r.set).toBe('result');
        expect(r.read).toEqual({ outcome: 'result', type: 'image/png', binval: r.avatar });
        expect(r.advertised).toBe(r.sha1);
        expect(r.roomInfo.features).toContain('vcard-temp');
        expect(r.roomInfo.form[roomAvatarHashField]).toEqual([r.sha1]);
        expect(r.guestSet).toMatch(/^error:(forbidden|not-allowed|not-authorized)$/);
        expect(r.afterGuestSet).toBe(r.avatar);
      });

      test('WHEN admin publishes an OMEMO device list and a bookmark with publish-options (as Conversations does) THEN both are accepted, bob can read the open device list and not the whitelisted bookmarks', () => {
        const r = rehearsal.client('pepPublishOptions', { owner: ADMIN, reader: BOB });
        expect(r).toMatchObject({ devicelistPublish: 'result', bookmarkPublish: 'result', devicesSeenByContact: [r.deviceId] });
        expect(r.bookmarksByOthers).toMatch(/^refused/);
      });
    });

    describe('WHEN a client asks for service discovery (what the compliance tester reads)', () => {
      let disco: any;
      const discovery = () => (disco ??= rehearsal.client('discovery', BOB));

      test('THEN after authentication the stream offers stream management (XEP-0198), CSI (XEP-0352), roster versioning and entity caps', () => {
        expect(discovery().streamFeaturesAfterAuth).toEqual(
          expect.arrayContaining(['sm urn:xmpp:sm:3', 'csi urn:xmpp:csi:0', 'ver urn:xmpp:features:rosterver', 'c http://jabber.org/protocol/caps']),
        );
      });

      test('THEN the domain advertises carbons, blocking, external services, offline storage and vcard-temp', () => {
        expect(discovery().domain.identities).toContainEqual(expect.objectContaining({ category: 'server', type: 'im' }));
        expect(discovery().domain.features).toEqual(
          expect.arrayContaining(['urn:xmpp:carbons:2', 'urn:xmpp:carbons:rules:0', 'urn:xmpp:blocking', 'urn:xmpp:extdisco:2', 'msgoffline', 'vcard-temp', 'urn:xmpp:ping']),
        );
      });

      test('THEN the domain publishes the declared contact addresses (XEP-0157)', () => {
        const serverInfo = discovery().domain.forms['http://jabber.org/network/serverinfo'];
        expect(serverInfo['abuse-addresses']).toEqual(['mailto:abuse@example.net', 'xmpp:admin@example.net']);
        expect(serverInfo['admin-addresses']).toEqual(['xmpp:admin@example.net']);
        expect(serverInfo['security-addresses']).toEqual(['xmpp:admin@example.net']);
        expect(serverInfo['support-addresses']).toEqual(['xmpp:admin@example.net']);
      });

      test('THEN the account advertises MAM, push, PEP with publish-options, bookmarks (XEP-0402/0411), vCard4 and avatar conversion (XEP-0398)', () => {
        const account = discovery().account;
        expect(account.identities).toEqual(expect.arrayContaining([{ category: 'account', type: 'registered' }, { category: 'pubsub', type: 'pep' }]));
        expect(account.features).toEqual(
          expect.arrayContaining([
            'urn:xmpp:mam:2',
            'urn:xmpp:push:0',
            'http://jabber.org/protocol/pubsub#publish-options',
            'urn:xmpp:bookmarks:1#compat',
            'urn:xmpp:bookmarks:1#compat-pep',
            'urn:xmpp:bookmarks-conversion:0',
            'urn:ietf:params:xml:ns:vcard-4.0',
            'urn:xmpp:pep-vcard-conversion:0',
          ]),
        );
      });

      test('THEN the domain lists both components, and upload.example.net is an HTTP upload service (XEP-0363) with the declared 100 MiB limit', () => {
        expect(discovery().items).toEqual(expect.arrayContaining([`upload.${DOMAIN}`, `conference.${DOMAIN}`]));
        const upload = discovery().upload;
        expect(upload.identities).toContainEqual(expect.objectContaining({ category: 'store', type: 'file' }));
        expect(upload.features).toContain('urn:xmpp:http:upload:0');
        expect(upload.forms['urn:xmpp:http:upload:0']['max-file-size']).toEqual([String(100 * 1024 * 1024)]);
      });

      test('THEN conference.example.net is a MUC service with archives and room vCards', () => {
        const conference = discovery().conference;
        expect(conference.identities).toContainEqual(expect.objectContaining({ category: 'conference', type: 'text' }));
        expect(conference.features).toEqual(expect.arrayContaining(['http://jabber.org/protocol/muc', 'urn:xmpp:mam:2', 'vcard-temp']));
      });

      test('THEN the external services (XEP-0215) name STUN and TURN at turn.example.net, TURN with credentials', () => {
        const services = discovery().externalServices;
        expect(services).toContainEqual({ type: 'stun', transport: 'udp', host: `turn.${DOMAIN}`, port: '3478', hasCredentials: false });
        expect(services).toContainEqual({ type: 'turn', transport: 'udp', host: `turn.${DOMAIN}`, port: '3478', hasCredentials: true });
      });
    });

    describeUnless(browserUnavailable(), 'WHEN someone uses the web client in a real browser (Debian\'s chromium, headless, on the rehearsal\'s network, trusting only its CA)', () => {
      /** Created from an invitation: in the browser from the landing page where the platform serves one, else by an app redeeming the link. */
      const GUEST = { name: 'judy', jid: 'judy@example.net', password: 'web chat pass 7' };
      const ROOM = 'family@conference.example.net';
      const WEB_CLIENT = 'https://example.net/';
      const file = { name: 'note.txt', bytes: randomBytes(4096) };
      let launched: LaunchedBrowser | undefined;
      /** The web client's page; Prosody's invitation pages open in a page of their own. */
      let page: Page;
      /**
       * The second, non-browser client: an app without OMEMO, on an account of its own (the admin's
       * has published an OMEMO device list above, without a bundle, to which Converse, OMEMO on by
       * default, refuses to send at all).
       */
      const ERIN = { jid: 'erin@example.net', password: 'erin on an app 8' };
      let erin: ClientSession | undefined;
      /** The admin on an app, who creates the group chat (rooms are created by admins only here). */
      let admin: ClientSession | undefined;
      let dir = '';

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'xc-web-client-'));
        writeFileSync(join(dir, file.name), file.bytes);
        launched = await launchBrowser({
          netnsPid: rehearsal.netnsPid,
          caPems: [readFileSync(rehearsal.caFile, 'utf8')],
          // What the rehearsal's DNS answers for the names the page talks to.
          hosts: { 'example.net': DROPLET.public4, 'upload.example.net': DROPLET.public4 },
        });
        page = await launched.context.newPage();
        admin = await rehearsal.openSession({ ...ADMIN, resource: 'app' });
        expect(await admin.join(ROOM, 'admin')).toMatchObject({ ok: true, created: true });
        rehearsal.addUser(ERIN.jid, ERIN.password);
        erin = await rehearsal.openSession({ ...ERIN, resource: 'app' });
        expect(await erin.join(ROOM, 'erin')).toMatchObject({ ok: true, created: false });
      });

      afterAll(async () => {
        if (launched !== undefined && page !== undefined) {
          mkdirSync(ARTIFACTS, { recursive: true });
          await screenshot(page, join(ARTIFACTS, `web-client-${platform}.png`)).catch(() => undefined);
        }
        await launched?.close();
        await erin?.stop();
        await admin?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      if (pagesServed) {
        test('THEN the invitation\'s landing page offers "Web chat"; choosing it leads to the web registration, which creates the account, and from there to the web client', async () => {
          const invitation = await launched!.context.newPage();
          const refused: string[] = [];
          invitation.on('response', (r) => {
            if (r.status() >= 400) refused.push(`${r.status()} ${r.url()}`);
          });
          await invitation.goto(landingPage(onHost(prosody.inviteCommand(DOMAIN))));
          // Its libraries load (Bootstrap's stylesheet and script, jQuery): the page is styled, its buttons work.
          await expect(invitation.evaluate<string>('getComputedStyle(document.body).fontFamily')).resolves.toMatch(/^-apple-system, /);
          await expect(invitation.evaluate<string>('typeof window.jQuery?.fn?.modal')).resolves.toBe('function');
          const card = invitation.locator('.client-card', { hasText: 'Web chat' });
          await expect(card.isVisible()).resolves.toBe(true);
          await card.locator('a.btn').click();
          await invitation.locator('form input[name="user"]').fill(GUEST.name);
          await invitation.locator('form input[name="password"]').fill(GUEST.password);
          await invitation.locator('form button[type="submit"]').click();
          await expect(invitation.locator('input[readonly]').first().inputValue()).resolves.toBe(GUEST.jid);
          await expect(invitation.evaluate<string>('getComputedStyle(document.body).fontFamily')).resolves.toMatch(/^-apple-system, /);
          await invitation.locator('a', { hasText: 'Open Web chat' }).click();
          expect(invitation.url()).toBe(WEB_CLIENT);
          // The pages name favicons (Snikket's) that no package ships; the browser shows its own icon.
          expect(refused.filter((r) => !/^404 https:\/\/example\.net\/favicon-(16x16|32x32)\.png$/.test(r))).toEqual([]);
          await invitation.close();
        });
      } else {
        test('THEN an account made from an invitation (redeemed by an app, as this platform serves no landing page) is ready for the browser', () => {
          const guest = rehearsal.client('registerWithInvite', { uri: linkOf(onHost(prosody.inviteCommand(DOMAIN))), username: GUEST.name, password: GUEST.password });
          expect(guest).toMatchObject({ preauth: 'result', register: 'result' });
        });
      }

      test('THEN the page is the web client on the domain\'s own name, and the invited user signs in with her name alone', async () => {
        await openWebClient(page, WEB_CLIENT);
        await logIn(page, GUEST.name, GUEST.password);
        await waitForLoggedIn(page);
      });

      test('THEN what she writes to someone on an app reaches them, and the reply shows in her chat (in plaintext: the app has no OMEMO device)', async () => {
        const sent = await sendDirectMessage(page, ERIN.jid, 'Hello from the web');
        expect(sent.encrypted).toBe(false);
        // OMEMO is running (a lock in the toolbar), and greyed out for a peer without OMEMO devices.
        expect(await chatEncryption(page, ERIN.jid)).toBe('unsupported');
        expect(await erin!.waitFor('Hello from the web', 20000)).toMatchObject({ ok: true, from: expect.stringMatching(FULL_JID(GUEST.jid)) });
        expect(await erin!.send(GUEST.jid, 'Hello back from the app')).toMatchObject({ ok: true });
        expect(await waitForMessage(page, ERIN.jid, 'Hello back from the app')).toEqual({ encrypted: false });
      });

      test('THEN she joins the group chat the admin created, and what she says there reaches the others in it', async () => {
        await joinRoom(page, ROOM, 'Judy');
        await waitForRoomJoined(page, ROOM);
        await sendRoomMessage(page, ROOM, 'Hello, family');
        for (const other of [admin!, erin!]) expect(await other.waitFor('Hello, family', 20000)).toMatchObject({ ok: true, from: `${ROOM}/Judy`, type: 'groupchat' });
      });

      test('THEN a file she uploads in the chat reaches the other side as a link on the upload service, which the app downloads byte for byte', async () => {
        const url = await uploadFile(page, ERIN.jid, join(dir, file.name));
        expect(url).toMatch(/^https:\/\/upload\.example\.net\/file_share\//);
        const message = await erin!.waitForMatch(/^https:\/\/upload\.example\.net\/file_share\//, 20000);
        expect(message).toMatchObject({ ok: true, body: url });
        expect(await erin!.download(url)).toMatchObject({ ok: true, httpStatus: 200, size: file.bytes.length, sha256: createHash('sha256').update(file.bytes).digest('hex') });
      });

      test('THEN nothing broke the page\'s Content-Security-Policy, nothing failed, and it asked nobody but example.net and its upload service', async () => {
        const problems = await pageProblems(page);
        expect(problems.cspViolations).toEqual([]);
        // Converse logs as errors a server's refusal to show it the OMEMO device list of someone who is
        // not a contact (Prosody 0.12's PEP answers "forbidden" there; 13 says the list is not there).
        // That refusal is the server keeping Erin's PEP to her contacts, as it should.
        // (The logged stanza's attributes come in any order.)
        const notAContactsDevices = (e: string) => e.startsWith(`Could not fetch OMEMO devices for ${ERIN.jid} `)
          || (/^<iq [^>]*>\s*<error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><\/error><\/iq> /.test(e)
            && [`from="${ERIN.jid}"`, `to="${GUEST.jid}/`, 'type="error"'].every((a) => e.slice(0, e.indexOf('>')).includes(a)));
        // What she typed as the group chat's address went, as Converse's room search, to her own
        // server (not to search.jabber.network), which answers that it offers no such search.
        const noRoomSearchHere = (e: string) => /^<iq [^>]*>\s*<error type="cancel"><(service-unavailable|feature-not-implemented) xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/.test(e)
          && [`from="${DOMAIN}"`, `to="${GUEST.jid}/`, 'type="error"'].every((a) => e.slice(0, e.indexOf('>')).includes(a));
        expect(problems.consoleErrors.filter((e) => !notAContactsDevices(e) && !noRoomSearchHere(e))).toEqual([]);
        expect(problems.failedRequests).toEqual([]);
        const origins = [...new Set(problems.requestedUrls.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:')).map((u) => new URL(u).origin))].sort();
        expect(origins).toEqual(['https://example.net', 'https://upload.example.net', 'wss://example.net']);
      });
    });

    describe('security', () => {
      test('WHEN a client connects to 5222 and tries to authenticate without TLS THEN no mechanism is offered, PLAIN is refused with encryption-required, and only after STARTTLS on the same connection does SCRAM succeed', () => {
        const r = rehearsal.client('plaintextAuth', BOB);
        expect(r.before.features).toEqual(featuresBeforeTls);
        expect(r.before.starttlsRequired).toBe(true);
        expect(r.before.mechanisms).toEqual([]);
        expect(r.before.features.some((f: string) => f.endsWith(NS_SASL))).toBe(false);
        expect(r.plainBeforeTls).toEqual({ outcome: 'failure', condition: 'encryption-required' });
        expect(r.registerBeforeTls).toBe('error:policy-violation');
        expect(r.afterStarttls.authorized).toBe(true);
        expect(r.afterStarttls.mechanisms).toContain('SCRAM-SHA-1');
        expect(r.scramAfterTls).toBe('success');
      });
    });
  });
}
