/**
 * The rehearsal, mobile side: the smallest declaration (one domain, every default) boots on the
 * default platform (Debian 13, Prosody 13), and phones talk to it as Conversations (Android) and
 * Monal or Siskin (iOS) do: SASL2 with Bind2 and a FAST token instead of the password on every
 * reconnect, stream management negotiated inline, and push notifications (XEP-0357) to an app
 * server while the phone sleeps or is logged out. On Debian 12 (Prosody 0.12), which offers none
 * of SASL2 and no iOS push extensions, Conversations' push and resumption still work the classic
 * way. Scenarios live in clients/mobile.ts.
 */
import { XmppService } from '../../lib/cdktf';
import { newStack, synth } from '../cdktf/synth';
import { minimalSpec } from '../support/specs';
import { describeUnless } from '../support/tools';
import { Rehearsal, rehearsalUnavailable, SynthesizedStack } from './harness';

jest.setTimeout(240000);

/** The phone of the SASL2/FAST scenario. */
const ALICE = { jid: 'alice@example.net', password: 'alice on her phone 1' };
/** Conversations on Android, with push. */
const CAROL = { jid: 'carol@example.net', password: 'carol on android 2' };
/** Monal or Siskin on iOS, with encrypted push. */
const DAVE = { jid: 'dave@example.net', password: 'dave on ios 3' };
/** The contact who writes while the phones are away. */
const BOB = { jid: 'bob@example.net', password: 'bob on his desktop 4' };
/** Plays the push app server (Conversations' p2.siacs.eu, Monal's push service). */
const APP_SERVER = { jid: 'push@example.net', password: 'the app server 5' };

const FULL_JID = (bare: string) => new RegExp(`^${bare.replace(/\./g, '\\.')}/.+`);

/**
 * Boot the minimal declaration on `image` (undefined: the default) before the block's tests, with
 * the accounts every scenario uses; stop it after. Returns the running droplet's accessor.
 */
function bootMinimal(image: string | undefined): () => Rehearsal {
  let rehearsal: Rehearsal | undefined;
  beforeAll(async () => {
    const app = newStack();
    const spec = image === undefined ? minimalSpec : { ...minimalSpec, droplet: { image } };
    new XmppService(app, 'Xmpp', { spec, writeReviewFiles: false });
    const booted = await Rehearsal.boot(synth(app) as SynthesizedStack);
    rehearsal = booted.rehearsal;
    if (booted.provision.status !== 0) throw new Error(`provisioning failed (exit ${booted.provision.status}):\n${booted.provision.stdout}\n${booted.provision.stderr}\n${rehearsal.logTails()}`);
    await rehearsal.waitForListeners(['tcp/5222', 'tcp/5223', 'tcp/443']);
    rehearsal.issueCertificates();
    for (const account of [ALICE, CAROL, DAVE, BOB, APP_SERVER]) rehearsal.addUser(account.jid, account.password);
  });
  afterAll(async () => {
    await rehearsal?.stop();
  });
  return () => {
    if (!rehearsal) throw new Error('the rehearsal did not boot (see the beforeAll error)');
    return rehearsal;
  };
}

/** The push summary Prosody sends by default: one message, no sender, a placeholder for the text. */
const PRIVATE_SUMMARY = { FORM_TYPE: ['urn:xmpp:push:summary'], 'message-count': ['1'], 'last-message-sender': [], 'last-message-body': ['New Message!'] };

describeUnless(rehearsalUnavailable(), 'GIVEN the minimal declaration (example.net, every default) booted on the default platform, Debian 13 with Prosody 13', () => {
  const droplet = bootMinimal(undefined);

  test('THEN the droplet runs Prosody 13 from Debian 13', () => {
    expect(droplet().run(['dpkg-query', '-W', '-f', '${Version}', 'prosody']).stdout).toMatch(/^13\./);
  });

  describe('WHEN a phone logs in with SASL2 (XEP-0388) and SCRAM-SHA-1, asks for a FAST token (XEP-0484) and binds with Bind2 (XEP-0386), then reconnects with the token alone', () => {
    let fast: any;
    const fastLogin = () => (fast ??= droplet().client('fastLogin', ALICE));

    test('THEN the features offer SASL2 with SCRAM (channel-bound too) and, inline, Bind2 (carbons, CSI, stream management inline), FAST (HT-SHA-256) and stream resumption; SASL stays on offer for older clients', () => {
      const { offer, legacyMechanisms } = fastLogin();
      expect(offer.mechanisms).toEqual(expect.arrayContaining(['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS']));
      expect(offer.inline).toEqual(expect.arrayContaining(['bind urn:xmpp:bind:0', 'fast urn:xmpp:fast:0', 'sm urn:xmpp:sm:3']));
      expect(offer.bindInline).toEqual(expect.arrayContaining(['urn:xmpp:carbons:2', 'urn:xmpp:csi:0', 'urn:xmpp:sm:3']));
      expect(offer.fastMechanisms).toContain('HT-SHA-256-NONE');
      expect(legacyMechanisms).toContain('SCRAM-SHA-1');
    });

    test('THEN the password login succeeds in one exchange: the server proves its key, names the bound resource (Bind2 tag), enables resumable stream management and hands out a token valid for weeks', () => {
      const { firstLogin, firstPing } = fastLogin();
      expect(firstLogin).toMatchObject({ outcome: 'success', bound: true, serverVerified: true, smEnabled: { resume: true } });
      expect(firstLogin.jid).toMatch(new RegExp(`^${ALICE.jid.replace(/\./g, '\\.')}/rehearsal~`));
      expect(firstLogin.token.prefix).toBe('secret-token:fast-');
      const days = (Date.parse(firstLogin.token.expiry) - Date.now()) / 86400000;
      expect(days).toBeGreaterThan(14);
      // XEP-0388: no stream restart; the stream is ready for stanzas at once.
      expect(firstLogin.featuresAfter).not.toContain('authentication urn:xmpp:sasl:2');
      expect(firstPing).toBe('result');
    });

    test('THEN a new connection logs in with the FAST token and no password (HT-SHA-256-NONE), gets the same resource back (Bind2 derives it from the client\'s id) and a working session', () => {
      const { fastOffer, fastLogin: login, firstLogin, fastPing } = fastLogin();
      expect(fastOffer).toContain('HT-SHA-256-NONE');
      expect(login).toMatchObject({ outcome: 'success', bound: true, serverVerified: true, jid: firstLogin.jid });
      expect(fastPing).toBe('result');
    });

    test('THEN a token the server never issued is refused (not-authorized)', () => {
      expect(fastLogin().wrongToken).toMatchObject({ outcome: 'failure', condition: 'not-authorized' });
    });

    test('THEN, bound to the TLS connection as Conversations does on TLS 1.3 (tls-exporter), SCRAM-SHA-1-PLUS succeeds with an HT-SHA-256-EXPR token, and that token logs in on a new connection, bound to it', () => {
      const { offer, channelBound } = fastLogin();
      expect(offer.fastMechanisms).toContain('HT-SHA-256-EXPR');
      expect(channelBound.tlsProtocol).toBe('TLSv1.3');
      expect(channelBound.scramPlus).toMatchObject({ outcome: 'success', serverVerified: true, token: true, jid: expect.stringMatching(FULL_JID(ALICE.jid)) });
      expect(channelBound.fast).toMatchObject({ outcome: 'success', serverVerified: true, jid: channelBound.scramPlus.jid });
    });

    test('THEN the same bound token, hashed with another connection\'s exporter value (as a relay would have it), is refused: the server checks the binding', () => {
      expect(fastLogin().channelBound.relayedFast).toMatchObject({ outcome: 'failure', condition: 'not-authorized' });
    });
  });

  describe('WHEN Conversations (Android) enables push to its app server with a publish-options secret, and its connection dies while the session hibernates (stream management), and bob writes', () => {
    let result: any;
    const conversations = () => (result ??= droplet().client('pushConversations', { phone: CAROL, sender: BOB, appServer: APP_SERVER }));

    test('THEN the account advertises push (XEP-0357) and the server accepts the registration', () => {
      expect(conversations().accountFeatures).toContain('urn:xmpp:push:0');
      expect(conversations().enable).toBe('result');
    });

    test('THEN the app server receives the publish from example.net to the registered node, with the summary form (one message, no sender, a placeholder instead of the text) and the secret in publish-options', () => {
      const r = conversations();
      expect(r.push).toMatchObject({ from: 'example.net', to: r.appServerJid, node: r.node, notification: true });
      expect(r).toMatchObject({ sasl2Offered: true, authentication: 'sasl2' });
      expect(r.push.summary).toMatchObject(PRIVATE_SUMMARY);
      expect(JSON.stringify(r.push)).not.toContain(r.body);
      expect(r.push.publishOptions).toEqual({ FORM_TYPE: ['http://jabber.org/protocol/pubsub#publish-options'], secret: [r.secret] });
    });

    test('THEN the woken phone logs in with its FAST token, resumes the hibernating session inline (SASL2 + stream management) and receives bob\'s message', () => {
      const r = conversations();
      expect(r.wake).toMatchObject({ outcome: 'success', serverVerified: true, resumed: { previd: r.phoneLogin.smEnabled.id } });
      expect(r.delivered).toMatchObject({ from: expect.stringMatching(FULL_JID(BOB.jid)), body: r.body });
    });
  });

  describe('WHEN Monal or Siskin (iOS) enables encrypted push (cloud_notify_extensions) and logs out, and bob writes', () => {
    let result: any;
    const ios = () => (result ??= droplet().client('pushIos', { phone: DAVE, sender: BOB, appServer: APP_SERVER }));

    test('THEN the account advertises the iOS extensions: encrypted payloads (AES-128-GCM), priority, filters', () => {
      expect(ios().accountFeatures).toEqual(expect.arrayContaining([
        'urn:xmpp:push:0', 'tigase:push:encrypt:0', 'tigase:push:encrypt:aes-128-gcm', 'tigase:push:priority:0',
        'tigase:push:filter:ignore-unknown:0', 'tigase:push:filter:muted:0', 'tigase:push:filter:groupchat:0',
      ]));
      expect(ios().enable).toBe('result');
    });

    test('THEN the app server receives an encrypted notification marked high priority, with no readable summary form, and the publish-options relayed', () => {
      const r = ios();
      expect(r.push).toMatchObject({ from: 'example.net', to: r.appServerJid, node: r.node, notification: true, summary: {} });
      expect(r.push.publishOptions.pushModule).toEqual(['monalProdiOS']);
      expect(r.encrypted).toBe(true);
      expect(r.priority).toBe('high');
      expect(JSON.stringify(r.push)).not.toContain(r.body);
    });

    test('THEN the payload decrypts (tag verified) with the phone\'s key to the sender, the message and the unread count', () => {
      expect(ios().decrypted).toEqual({ type: 'chat', sender: BOB.jid, message: ios().body, unread: 1 });
    });
  });
});

describeUnless(rehearsalUnavailable(), 'GIVEN the minimal declaration booted on Debian 12 with Prosody 0.12 (droplet.image "debian-12-x64")', () => {
  const droplet = bootMinimal('debian-12-x64');

  test('THEN the droplet runs Prosody 0.12 from Debian 12', () => {
    expect(droplet().run(['dpkg-query', '-W', '-f', '${Version}', 'prosody']).stdout).toMatch(/^0\.12\./);
  });

  describe('WHEN Conversations enables push, its connection dies while the session hibernates, and bob writes', () => {
    let result: any;
    const conversations = () => (result ??= droplet().client('pushConversations', { phone: CAROL, sender: BOB, appServer: APP_SERVER }));

    test('THEN the server offers no SASL2 (the platform leaves it out), so the phone logs in with SASL and enables stream management after binding', () => {
      expect(conversations()).toMatchObject({ sasl2Offered: false, authentication: 'sasl', phoneLogin: { smEnabled: { resume: true } } });
    });

    test('THEN the account advertises push but not the iOS extensions, and the app server receives the same private summary with the secret in publish-options', () => {
      const r = conversations();
      expect(r.accountFeatures).toContain('urn:xmpp:push:0');
      expect(r.accountFeatures).not.toContain('tigase:push:encrypt:0');
      expect(r.enable).toBe('result');
      expect(r.push).toMatchObject({ from: 'example.net', to: r.appServerJid, node: r.node, notification: true, summary: PRIVATE_SUMMARY });
      expect(r.push.publishOptions.secret).toEqual([r.secret]);
      expect(JSON.stringify(r.push)).not.toContain(r.body);
    });

    test('THEN the woken phone logs in with its password, resumes the hibernating session and receives bob\'s message', () => {
      const r = conversations();
      expect(r.wake).toMatchObject({ outcome: 'success', resumed: { previd: r.phoneLogin.smEnabled.id } });
      expect(r.delivered).toMatchObject({ from: expect.stringMatching(FULL_JID(BOB.jid)), body: r.body });
    });
  });
});
