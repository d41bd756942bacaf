/**
 * The rehearsal, media side: the example stack (examples/cdktf-basic) booted from its user_data
 * in a rehearsal droplet, then used the way phones, desktops and browsers use a server:
 * HTTP file sharing (XEP-0363) through nginx, call services (XEP-0215) with a real TURN client
 * against the real coturn, and what an outsider can reach on the droplet's public addresses.
 *
 * One addition to the harness's world, made here: an "internet peer" (turnutils_peer echoing
 * UDP) on ordinary public addresses in the outside namespace, with host routes between it and the
 * droplet over the veth. coturn denies every documentation and private range, so without a peer
 * outside those ranges no relayed packet could ever come back. The routes lead only into the
 * outside namespace; nothing leaves the rehearsal.
 */
import { PROSODY_TURN_SECRET_OPTION } from '../../lib/core/prosody';
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { createHmac } from 'crypto';
import * as ipaddr from 'ipaddr.js';
import { renderCloudInit } from '../../lib/core/cloud-init';
import { FirewallRulePlan, parsePortRange, planFirewall, EVERYWHERE, LOOPBACK_ONLY_TCP_PORTS } from '../../lib/core/firewall';
import { PROSODY_SECRETS_INCLUDE } from '../../lib/core/paths';
import { ResolvedSpec } from '../../lib/core/spec';
import { cidrToRange } from '../../lib/core/turn';
import { probeAddressesForDeniedBlocks } from '../support/denied-peers';
import { resolveSpec } from '../../lib/core/validate';
import { DROPLET, dropletUserData, Rehearsal, REHEARSAL_LOOPBACK_SOCKETS, rehearsalUnavailable, SynthesizedStack } from './harness';
import { exampleSpecOn, platformTitle, REHEARSED_PLATFORMS, synthesizeExampleOn } from './platforms';
import { describeUnless } from '../support/tools';

jest.setTimeout(240000);

/** The example's declaration; the first test proves the synthesized droplet was rendered from it. */
const SPEC: ResolvedSpec = resolveSpec(exampleSpec);
const DOMAIN = SPEC.primaryDomain;
const UPLOAD_HOST = SPEC.domains[0].components.find((c) => c.kind === 'fileShare')!.host;
const LIMIT = SPEC.fileShare.fileSizeLimitBytes;
const CALLS = SPEC.calls;

const ALICE = { jid: `alice@${DOMAIN}`, password: 'correct horse battery staple' };
/** A web client's origin, for CORS. */
const WEB_ORIGIN = 'https://webchat.example.org';

/** The internet peer: ordinary global unicast addresses, configured only inside the rehearsal. */
const PEER = { v4: '11.0.0.1', v6: '2600::1', port: 3480 } as const;


/** What the client scenarios return (clients/media.ts); only the fields asserted on. */
interface HttpSummary {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly bodyBytes: number;
  readonly sha256: string;
  readonly text?: string;
  readonly tls?: { readonly protocol: string | null; readonly subjectAltName?: string; readonly issuer?: string; readonly authorized: boolean };
  readonly error?: string;
}
interface DiscoInfo {
  readonly jid: string;
  readonly identities: { category: string; type: string; name?: string }[];
  readonly features: string[];
  readonly forms: Record<string, Record<string, string[]>>;
}
interface StanzaErrorData {
  readonly type?: string;
  readonly condition?: string;
  readonly text?: string;
  readonly xml?: string;
}
interface Slot {
  readonly put: string;
  readonly get: string;
  readonly headers: Record<string, string>;
}
interface ExternalService {
  readonly type: string;
  readonly transport?: string;
  readonly host: string;
  readonly port?: string;
  readonly username?: string;
  readonly password?: string;
  readonly expires?: string;
  readonly restricted?: string;
}
interface TurnRunResult {
  readonly name: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly output: string;
}
interface TlsAnswer {
  readonly ok: boolean;
  readonly protocol?: string | null;
  readonly subjectAltName?: string;
  readonly issuer?: string;
  readonly authorized?: boolean;
  readonly error?: string;
  readonly message?: string;
}

for (const platform of REHEARSED_PLATFORMS) {
  describeUnless(rehearsalUnavailable(), `GIVEN the example stack on ${platformTitle(platform)} booted from its user_data in a rehearsal droplet, with ${ALICE.jid} registered`, () => {
    let stack: SynthesizedStack;
    let rehearsal: Rehearsal | undefined;

    /** The daemons' logs, appended to a failure; assertions run through it. */
    function explained(check: () => void): void {
      try {
        check();
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        const logs = rehearsal ? rehearsal.logTails() : '(the rehearsal did not boot)';
        const wrapped = new Error(`${error.message}\n\n=== the droplet's logs ===\n${logs}`);
        wrapped.stack = `${wrapped.message}\n${(error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).join('\n')}`;
        throw wrapped;
      }
    }

    function droplet(): Rehearsal {
      if (!rehearsal) throw new Error('the rehearsal did not boot (see the beforeAll error)');
      return rehearsal;
    }

    beforeAll(async () => {
      stack = synthesizeExampleOn(platform);
      const booted = await Rehearsal.boot(stack);
      rehearsal = booted.rehearsal;
      if (booted.provision.status !== 0) {
        throw new Error(`provisioning failed (exit ${booted.provision.status}):\n${booted.provision.stdout}\n${booted.provision.stderr}\n${rehearsal.logTails()}`);
      }
      await rehearsal.waitForListeners(['tcp/5222', 'tcp/5223', 'tcp/443', 'udp/3478']);
      rehearsal.issueCertificates();
      rehearsal.addUser(ALICE.jid, ALICE.password);
      addInternetPeer(rehearsal);
    });

    afterAll(async () => {
      await rehearsal?.stop();
    });

    it('GIVEN the example\'s exported spec THEN the synthesized droplet was rendered from it (identical user_data)', () => {
      expect(renderCloudInit(resolveSpec(exampleSpecOn(platform))) === dropletUserData(stack)).toBe(true);
      expect(LIMIT).toBe(100 * 1024 * 1024);
    });

    // -------------------------------------------------------------------------------------------
    // 1. HTTP file sharing
    // -------------------------------------------------------------------------------------------

    describe('WHEN alice shares a file the way Conversations does (XEP-0363: disco, slot, PUT, GET)', () => {
      let discovery: { items: string[]; uploadServices: DiscoInfo[] };
      let roundTrip: { slot: Slot; sentSha256: string; sentBytes: number; preflight: HttpSummary; put: HttpSummary; get: HttpSummary };
      let refusals: {
        tooLarge: { error?: StanzaErrorData; slot?: Slot };
        overLimitPut: HttpSummary;
        moreThanDeclaredPut: HttpSummary;
        smallGet: HttpSummary;
        mismatchGet: HttpSummary;
        slotUrls: { small: string; mismatch: string };
      };
      const SIZE = 300 * 1024 + 17;

      /**
       * The files Prosody holds for the upload slot of `url` (https://host/file_share/SLOT/name),
       * complete (SLOT.bin) or partial (SLOT.bin~), under its data directory. Its datamanager writes
       * every character of a name but letters and digits as %xx.
       */
      function storedFilesOf(url: string): string[] {
        const slot = decodeURIComponent(new URL(url).pathname.split('/')[2]);
        const onDisk = slot.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
        return droplet().mustRun(`look for slot ${slot}'s file`, ['find', '/var/lib/prosody', '-name', `${onDisk}.bin*`]).stdout.split('\n').filter(Boolean);
      }

      beforeAll(() => {
        discovery = droplet().client('fileShareDiscover', ALICE);
        roundTrip = droplet().client('fileShareRoundTrip', { ...ALICE, service: UPLOAD_HOST, sizeBytes: SIZE, filename: 'holiday photo.jpg', origin: WEB_ORIGIN });
        refusals = droplet().client('fileShareRefusals', { ...ALICE, service: UPLOAD_HOST, limitBytes: LIMIT });
      });

      it(`THEN disco#items of ${DOMAIN} lists ${UPLOAD_HOST}, whose disco#info offers urn:xmpp:http:upload:0 with max-file-size ${LIMIT}`, () =>
        explained(() => {
          expect(discovery.items).toContain(UPLOAD_HOST);
          expect(discovery.uploadServices.map((s) => s.jid)).toEqual([UPLOAD_HOST]);
          const service = discovery.uploadServices[0];
          expect(service.identities).toContainEqual(expect.objectContaining({ category: 'store', type: 'file' }));
          expect(service.forms['urn:xmpp:http:upload:0']?.['max-file-size']).toEqual([String(LIMIT)]);
        }));

      it(`THEN the slot's PUT URL is https://${UPLOAD_HOST}/file_share/…, and the PUT of ${SIZE} random bytes with the slot's headers is accepted (201)`, () =>
        explained(() => {
          const { slot, put } = roundTrip;
          expect(slot.put).toMatch(new RegExp(`^https://${UPLOAD_HOST.replace(/\./g, '\\.')}/file_share/[^/]+/holiday%20photo\\.jpg$`));
          expect(slot.get).toBe(slot.put);
          expect(Object.keys(slot.headers)).toEqual(['Authorization']);
          expect(put.status).toBe(201);
          expect(put.tls).toEqual(expect.objectContaining({ authorized: true, issuer: expect.stringMatching(/^Pebble Intermediate CA/) }));
        }));

      it('THEN the GET URL returns exactly the bytes that were sent', () =>
        explained(() => {
          const { get, sentSha256, sentBytes } = roundTrip;
          expect(get.status).toBe(200);
          expect(get.bodyBytes).toBe(sentBytes);
          expect(get.sha256).toBe(sentSha256);
          expect(get.headers['content-type']).toBe('application/octet-stream');
        }));

      it("THEN a browser's CORS preflight (OPTIONS, Origin, Access-Control-Request-Method: PUT) on the PUT URL is allowed", () =>
        explained(() => {
          const { preflight } = roundTrip;
          expect(preflight.status).toBeGreaterThanOrEqual(200);
          expect(preflight.status).toBeLessThan(300);
          expect([WEB_ORIGIN, '*']).toContain(preflight.headers['access-control-allow-origin']);
          expect(String(preflight.headers['access-control-allow-methods'])).toMatch(/\bPUT\b/);
          expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toMatch(/\bauthorization\b/);
        }));

      it(`THEN a slot for ${LIMIT + 1} bytes (one over the limit) is refused with file-too-large naming the limit`, () =>
        explained(() => {
          const { tooLarge } = refusals;
          expect(tooLarge.slot).toBeUndefined();
          expect(tooLarge.error).toEqual(expect.objectContaining({ type: 'modify', condition: 'not-acceptable' }));
          expect(tooLarge.error?.xml).toMatch(
            new RegExp(`<file-too-large xmlns="urn:xmpp:http:upload:0"><max-file-size>${LIMIT}</max-file-size></file-too-large>`),
          );
        }));

      it(`THEN nginx refuses a PUT announcing Content-Length ${LIMIT + 1} with 413 from its headers alone (only 1 KiB is sent), and nothing is stored`, () =>
        explained(() => {
          const { overLimitPut, smallGet } = refusals;
          expect(overLimitPut.status).toBe(413);
          // nginx's own error page: the request never reached Prosody.
          expect(overLimitPut.text).toMatch(/413 Request Entity Too Large[\s\S]*<center>nginx/);
          // 410 Gone: mod_http_file_share's answer for a slot it issued that holds no file. A 500
          // (say, an unreadable store) must fail here, not pass as "not 200".
          expect(smallGet.status).toBe(410);
          expect(storedFilesOf(roundTrip.slot.get)).toHaveLength(1);
          expect(storedFilesOf(refusals.slotUrls.small)).toEqual([]);
        }));

      it('THEN Prosody refuses a PUT of more bytes than the slot declared (413), and nothing is stored', () =>
        explained(() => {
          const { moreThanDeclaredPut, mismatchGet } = refusals;
          expect(moreThanDeclaredPut.status).toBe(413);
          // Prosody's own error page (nginx's would say "Request Entity Too Large"), with 413's reason
          // phrase as each version spells it: RFC 7231's (0.12) or RFC 9110's (13).
          expect(moreThanDeclaredPut.text).toMatch(platform === 'debian-13' ? /<h1> 413 Content Too Large<\/h1>/ : /Payload Too Large/);
          expect(mismatchGet.status).toBe(410);
          expect(storedFilesOf(roundTrip.slot.get)).toHaveLength(1);
          expect(storedFilesOf(refusals.slotUrls.mismatch)).toEqual([]);
        }));
    });

    // -------------------------------------------------------------------------------------------
    // 2. Calls
    // -------------------------------------------------------------------------------------------

    describe('WHEN alice asks her server for call services (XEP-0215) and a TURN client uses what she got', () => {
      let services: ExternalService[];
      let fetchedAt: number;
      let turn: Map<string, TurnRunResult>;
      let coturnLog: string;
      let turnTls: TlsAnswer;
      let secret: string;

      /** REST credentials as Prosody mints them, for a fresh user per run (failed runs leave allocations behind). */
      function mint(tag: string, expiresInSeconds = 3600, key = secret): { user: string; password: string } {
        const user = `${Math.floor(Date.now() / 1000) + expiresInSeconds}:${tag}`;
        return { user, password: createHmac('sha1', key).update(user).digest('base64') };
      }

      function uclient(creds: { user: string; password: string }, peer: string, opts: { server?: string; tcp?: boolean; dtls?: boolean } = {}): string[] {
        return [
          '-v', '-c', '-n', '3',
          ...(opts.tcp ? ['-t'] : []),
          ...(opts.dtls ? ['-S', '-E', droplet().caFile, '-p', String(CALLS.tlsPort)] : ['-p', String(CALLS.port)]),
          '-u', creds.user, '-w', creds.password,
          '-e', peer, '-r', String(PEER.port),
          opts.server ?? CALLS.host,
        ];
      }

      /**
       * One peer in every block coturn is told to deny, and the addresses an attacker would try first.
       * coturn refuses loopback (without allow-loopback-peers), 0.0.0.0/8, and with no-multicast-peers
       * everything from 224.0.0.0 up and ff00::/8, by itself as well, before it reads the list, so
       * only a 403 is logged for those; every other refusal names the range that denied it.
       */
      const REFUSED_BEFORE_THE_LIST = new Set(['0.0.0.0/8', '127.0.0.0/8', '::1/128', '224.0.0.0/4', '240.0.0.0/4', 'ff00::/8']);
      const DENIED_PEERS: { peer: string; server: string; block?: string }[] = [
        { peer: '169.254.169.254', server: CALLS.host, block: '169.254.0.0/16' },
        ...probeAddressesForDeniedBlocks().map(({ cidr, address }) => ({
          peer: address,
          server: address.includes(':') ? DROPLET.public6 : CALLS.host,
          block: REFUSED_BEFORE_THE_LIST.has(cidr) ? undefined : cidr,
        })),
      ];

      beforeAll(async () => {
        ({ services, fetchedAt } = droplet().client<{ services: ExternalService[]; fetchedAt: number }>('externalServices', ALICE));
        const secretMatch = new RegExp(`${PROSODY_TURN_SECRET_OPTION}\\s*=\\s*"([^"]+)"`).exec(droplet().readFile(PROSODY_SECRETS_INCLUDE));
        if (!secretMatch) throw new Error(`no ${PROSODY_TURN_SECRET_OPTION} in ${PROSODY_SECRETS_INCLUDE}`);
        secret = secretMatch[1];
        const issued = services.find((s) => s.type === 'turn' && s.transport === 'udp');
        if (!issued?.username || !issued.password) throw new Error(`Prosody issued no TURN credentials: ${JSON.stringify(services)}`);
        const prosodyCreds = { user: issued.username, password: issued.password };

        const runs = [
          { name: 'udp', args: uclient(prosodyCreds, PEER.v4) },
          { name: 'tcp', args: uclient(mint('tcp'), PEER.v4, { tcp: true }) },
          { name: 'ipv6', args: uclient(mint('ipv6'), PEER.v6, { server: DROPLET.public6 }) },
          { name: 'dtls', args: uclient(mint('dtls'), PEER.v4, { dtls: true }) },
          { name: 'wrong password', args: uclient({ user: prosodyCreds.user, password: mint('x', 3600, `${secret}x`).password }, PEER.v4) },
          { name: 'expired', args: uclient(mint('expired', -60), PEER.v4) },
          ...DENIED_PEERS.map((d) => ({ name: `peer ${d.peer}`, args: uclient(mint(`deny-${d.peer.replace(/[^0-9a-f]/g, '')}`), d.peer, { server: d.server }) })),
        ];
        // coturn's own test client, from the droplet's coturn package: a TURN client on its network.
        const results = await droplet().runMany(runs.map((r) => ({ name: r.name, args: ['turnutils_uclient', ...r.args] })), 25000);
        turn = new Map(results.map((r) => [r.name, r]));
        coturnLog = droplet().journal('coturn');
        [turnTls] = droplet().client<TlsAnswer[]>('tlsProbes', { probes: [{ host: CALLS.host, port: CALLS.tlsPort, servername: CALLS.host }] });
      });

      function run(name: string): TurnRunResult {
        const r = turn.get(name);
        if (!r) throw new Error(`no TURN run "${name}"`);
        return r;
      }

      function expectRelayed(r: TurnRunResult, family: 4 | 6): void {
        expect({ run: r.name, code: r.code, signal: r.signal }).toEqual({ run: r.name, code: 0, signal: null });
        const relay = /Received relay addr: (\S+)/.exec(r.output);
        expect(relay).not.toBeNull();
        const colon = relay![1].lastIndexOf(':');
        // The droplet's own address, which the TURN name points at; never the reserved IP.
        expect(ipaddr.parse(relay![1].slice(0, colon)).toNormalizedString()).toBe(ipaddr.parse(family === 4 ? DROPLET.public4 : DROPLET.public6).toNormalizedString());
        const port = Number(relay![1].slice(colon + 1));
        expect(port).toBeGreaterThanOrEqual(CALLS.relayPortMin);
        expect(port).toBeLessThanOrEqual(CALLS.relayPortMax);
        // Three packets out through the relay to the internet peer, three echoes back.
        expect(r.output).toContain('tot_send_msgs=3, tot_recv_msgs=3');
        expect(r.output).toMatch(/Total lost packets 0 /);
      }

      it(`THEN she gets STUN and TURN over UDP at ${CALLS.host}:${CALLS.port}, TURN with REST credentials that expire in ${CALLS.credentialTtlSeconds} s`, () =>
        explained(() => {
          const stun = services.filter((s) => s.type === 'stun' && s.transport === 'udp');
          expect(stun).toEqual([{ type: 'stun', transport: 'udp', host: CALLS.host, port: String(CALLS.port) }]);
          const turnUdp = services.filter((s) => s.type === 'turn' && s.transport === 'udp');
          expect(turnUdp).toHaveLength(1);
          const t = turnUdp[0];
          expect(t).toEqual(expect.objectContaining({ host: CALLS.host, port: String(CALLS.port), restricted: '1' }));
          // draft-uberti-behave-turn-rest: username = expiry (unix time), password = base64(HMAC-SHA1(secret, username)).
          expect(t.username).toMatch(/^\d+$/);
          const expiry = Number(t.username);
          expect(expiry).toBeGreaterThanOrEqual(fetchedAt + CALLS.credentialTtlSeconds - 30);
          expect(expiry).toBeLessThanOrEqual(fetchedAt + CALLS.credentialTtlSeconds + 30);
          expect(Date.parse(t.expires!) / 1000).toBe(expiry);
          expect(t.password).toBe(createHmac('sha1', secret).update(t.username!).digest('base64'));
        }));

      it(`THEN TURN over TLS is offered at ${CALLS.host}:${CALLS.tlsPort}, where coturn presents the certificate issued through Pebble for that name`, () =>
        explained(() => {
          expect(services.filter((s) => s.type === 'turns')).toEqual([expect.objectContaining({ transport: 'tcp', host: CALLS.host, port: String(CALLS.tlsPort) })]);
          expect(turnTls).toEqual(expect.objectContaining({ ok: true, protocol: 'TLSv1.2', issuer: expect.stringMatching(/^Pebble Intermediate CA/), authorized: true }));
          expect(turnTls.subjectAltName).toContain(`DNS:${CALLS.host}`);
        }));

      // Found by this rehearsal: coturn listened on TCP 3478 but clients were never told.
      it('THEN STUN and TURN over TCP are offered too, for networks that block UDP', () => {
        expect(services.filter((s) => s.transport === 'tcp' && (s.type === 'stun' || s.type === 'turn')).map((s) => `${s.type}/${s.transport}:${s.port}`).sort()).toEqual([
          `stun/tcp:${CALLS.port}`,
          `turn/tcp:${CALLS.port}`,
        ]);
      });

      // Found by this rehearsal: Prosody 0.12's mod_turn_external minted credentials only for
      // type "turn", so the "turns" entry came without any; external_services fixes that.
      it('THEN the TURN-over-TLS entry carries credentials too', () => {
        const turns = services.find((s) => s.type === 'turns');
        expect(turns?.username).toMatch(/^\d+/);
        expect(turns?.password).toBeTruthy();
      });

      it(`THEN with exactly those credentials a UDP client (resolving ${CALLS.host}) gets an allocation on ${DROPLET.public4} and relays to an internet peer and back`, () =>
        explained(() => expectRelayed(run('udp'), 4)));

      it(`THEN the same works over TCP, and with an IPv6 relay on ${DROPLET.public6}`, () =>
        explained(() => {
          expectRelayed(run('tcp'), 4);
          expectRelayed(run('ipv6'), 6);
        }));

      it(`THEN DTLS on ${CALLS.tlsPort}, which no client is offered, gets no allocation`, () =>
        explained(() => {
          const r = run('dtls');
          expect(r.code).not.toBe(0);
          expect(r.output).not.toContain('Received relay addr');
          expect(r.output).not.toMatch(/client session connected with cipher/);
        }));

      it.each([
        { name: 'wrong password', what: "Prosody's username with a wrong password" },
        { name: 'expired', what: 'a correctly signed credential that expired a minute ago' },
      ])('THEN $what gets no allocation (401)', ({ name }) =>
        explained(() => {
          const r = run(name);
          expect(r.code).not.toBe(0);
          expect(r.output).toContain('Cannot complete Allocation');
          expect(r.output).not.toContain('Received relay addr');
        }));

      it.each(DENIED_PEERS)('THEN relaying to $peer (via $server) is refused with 403 Forbidden IP', ({ peer, block }) =>
        explained(() => {
          const r = run(`peer ${peer}`);
          expect(r.code).not.toBe(0);
          // The allocation itself is granted; only the permission for this peer is refused.
          expect(r.output).toContain('Received relay addr');
          expect(r.output).toContain('error 403 (Forbidden IP)');
          expect(r.output).not.toMatch(/tot_recv_msgs=[1-9]/);
          if (block) expect(coturnLog).toContain(`denied in the range: ${cidrToRange(block)}`);
        }));
    });

    // -------------------------------------------------------------------------------------------
    // 3. What the internet sees
    // -------------------------------------------------------------------------------------------

    describe('WHEN someone on the internet looks at the droplet', () => {
      const plan = planFirewall(SPEC);
      let tcp: { host: string; port: number; outcome: string }[];
      let web: HttpSummary[];
      let tlsAnswers: TlsAnswer[];

      const isLoopback = (address: string): boolean => ipaddr.parse(address).range() === 'loopback';
      const covered = (rules: readonly FirewallRulePlan[], protocol: 'tcp' | 'udp', port: number): boolean =>
        rules.some((r) => r.protocol === protocol && r.ports !== undefined && port >= parsePortRange(r.ports).min && port <= parsePortRange(r.ports).max);
      const https = (servername: string, v: { min?: string; max?: string; weak?: boolean } = {}) => ({
        host: DROPLET.reserved4,
        port: 443,
        servername,
        minVersion: v.min,
        maxVersion: v.max,
        // OpenSSL 3 will not even offer TLS 1.0/1.1 at its default security level.
        ciphers: v.weak ? 'DEFAULT@SECLEVEL=0' : undefined,
      });

      beforeAll(() => {
        const publicAddresses = [DROPLET.public4, DROPLET.reserved4, DROPLET.public6, DROPLET.reserved6];
        tcp = droplet().client('tcpProbes', { targets: publicAddresses.flatMap((host) => LOOPBACK_ONLY_TCP_PORTS.map((port) => ({ host, port }))) });
        web = droplet().client('httpProbes', {
          requests: [
            { url: `https://${DOMAIN}/.well-known/host-meta`, headers: { Origin: WEB_ORIGIN } },
            { url: `https://${DOMAIN}/.well-known/host-meta.json`, headers: { Origin: WEB_ORIGIN } },
            { url: `http://${DOMAIN}/` },
            { url: `http://${DOMAIN}/.well-known/host-meta?x=1` },
            { url: `http://${UPLOAD_HOST}/file_share/abc` },
            { url: `https://${DOMAIN}/http-bind` },
            { url: `https://${DOMAIN}/xmpp-websocket` },
          ],
        });
        tlsAnswers = droplet().client('tlsProbes', {
          probes: [
            https(DOMAIN),
            https(UPLOAD_HOST),
            https(DOMAIN, { min: 'TLSv1.2', max: 'TLSv1.2', weak: true }),
            https(DOMAIN, { min: 'TLSv1.1', max: 'TLSv1.1', weak: true }),
            https(DOMAIN, { min: 'TLSv1', max: 'TLSv1', weak: true }),
          ],
        });
      });

      it('THEN every listener on a public address (or a wildcard) is on a port the firewall plan opens to everyone', () => {
        const listeners = droplet().listeners();
        const open = plan.inbound.filter((r) => EVERYWHERE.every((a) => r.addresses.includes(a)));
        const unplanned = listeners.filter((l) => !isLoopback(l.address) && !covered(open, l.protocol, l.port));
        explained(() => {
          expect({ unplanned, sockets: droplet().run(['ss', '-H', '-lntup']).stdout }).toEqual({ unplanned: [], sockets: expect.anything() });
        });
      });

      it('THEN every single port the plan opens to everyone has its public listener, and loopback holds only Prosody\'s HTTP and the rehearsal\'s own servers', () => {
        const listeners = droplet().listeners();
        const open = plan.inbound.filter((r) => EVERYWHERE.every((a) => r.addresses.includes(a)) && r.protocol !== 'icmp' && !r.ports!.includes('-'));
        const publicOnes = new Set(listeners.filter((l) => !isLoopback(l.address)).map((l) => `${l.protocol}/${l.port}`));
        const loopbackOnes = new Set(listeners.filter((l) => isLoopback(l.address)).map((l) => `${l.protocol}/${l.port}`));
        explained(() => {
          expect(open.map((r) => `${r.protocol}/${r.ports}`).filter((p) => !publicOnes.has(p))).toEqual([]);
          // 5280: Prosody's HTTP behind nginx; the rest are the rehearsal's own servers (DNS, Pebble).
          expect(loopbackOnes).toContain('tcp/5280');
          expect([...loopbackOnes].filter((p) => p !== 'tcp/5280' && !REHEARSAL_LOOPBACK_SOCKETS.includes(p))).toEqual([]);
        });
      });

      it(`THEN Prosody's HTTP ports ${LOOPBACK_ONLY_TCP_PORTS.join(' and ')} refuse connections on every public address`, () =>
        explained(() => {
          // Both ports at the droplet's own addresses and at the reserved IPv4 and IPv6.
          expect(tcp).toHaveLength(8);
          for (const t of tcp) expect(t).toEqual({ ...t, outcome: 'ECONNREFUSED' });
        }));

      it.each([
        { index: 0, path: 'host-meta', contentType: 'application/xrd+xml' },
        { index: 1, path: 'host-meta.json', contentType: 'application/json' },
      ])(`THEN https://${DOMAIN}/.well-known/$path answers 200 ($contentType) with Access-Control-Allow-Origin: * and lists the BOSH and WebSocket endpoints`, ({ index, contentType }) =>
        explained(() => {
          const answer = web[index];
          expect(answer.status).toBe(200);
          expect(answer.headers['content-type']).toBe(contentType);
          expect(answer.headers['access-control-allow-origin']).toBe('*');
          const links =
            contentType === 'application/json'
              ? (JSON.parse(answer.text!).links as { rel: string; href: string }[]).map((l) => `${l.rel} ${l.href}`)
              : [...answer.text!.matchAll(/<Link rel="([^"]+)" href="([^"]+)"\/>/g)].map((m) => `${m[1]} ${m[2]}`);
          expect(links.sort()).toEqual([
            `urn:xmpp:alt-connections:websocket wss://${DOMAIN}/xmpp-websocket`,
            `urn:xmpp:alt-connections:xbosh https://${DOMAIN}/http-bind`,
          ]);
        }));

      it('THEN the endpoints host-meta lists are Prosody\'s live BOSH and WebSocket endpoints', () =>
        explained(() => {
          expect(web[5]).toEqual(expect.objectContaining({ status: 200, text: expect.stringContaining('Prosody BOSH endpoint') }));
          expect(web[6]).toEqual(expect.objectContaining({ status: 200, text: expect.stringContaining('Prosody WebSocket endpoint') }));
        }));

      it('THEN plain HTTP on port 80 redirects permanently to the same URL over HTTPS', () =>
        explained(() => {
          expect(web[2]).toEqual(expect.objectContaining({ status: 301, headers: expect.objectContaining({ location: `https://${DOMAIN}/` }) }));
          expect(web[3].status).toBe(301);
          expect(web[3].headers.location).toBe(`https://${DOMAIN}/.well-known/host-meta?x=1`);
          expect(web[4].status).toBe(301);
          expect(web[4].headers.location).toBe(`https://${UPLOAD_HOST}/file_share/abc`);
        }));

      it(`THEN HTTPS on 443 presents the certificate issued through Pebble for ${DOMAIN} and, by SNI, for ${UPLOAD_HOST}, over TLS 1.2 or 1.3 only`, () =>
        explained(() => {
          const [primary, upload, tls12, tls11, tls10] = tlsAnswers;
          for (const [answer, name] of [[primary, DOMAIN], [upload, UPLOAD_HOST]] as const) {
            expect(answer).toEqual(expect.objectContaining({ ok: true, protocol: 'TLSv1.3', issuer: expect.stringMatching(/^Pebble Intermediate CA/), authorized: true }));
            expect(answer.subjectAltName?.split(', ')).toContain(`DNS:${name}`);
          }
          // The control: this very client, offering old protocols at all, does get TLS 1.2.
          expect(tls12).toEqual(expect.objectContaining({ ok: true, protocol: 'TLSv1.2', authorized: true }));
          // The server answers TLS 1.1 and 1.0 with a protocol_version alert (70).
          for (const old of [tls11, tls10]) {
            expect(old.ok).toBe(false);
            expect(old.error).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
          }
        }));
    });
  });
}

/**
 * The internet peer: turnutils_peer echoing UDP on PEER's addresses in the outside namespace, and
 * host routes both ways over the veth (the harness already routes the droplet's public IPv4 there).
 */
function addInternetPeer(rehearsal: Rehearsal): void {
  const script = `set -eu
outside=${rehearsal.outsidePid}
nsenter -t "$outside" -n sh -ec '
  ip addr add ${PEER.v4}/32 dev outside0
  ip -6 addr add ${PEER.v6}/128 dev outside0 nodad
  ip -6 route add ${DROPLET.public6}/128 dev outside0'
ip route add ${PEER.v4}/32 dev eth0
ip -6 route add ${PEER.v6}/128 dev eth0
nsenter -t "$outside" -n setsid turnutils_peer -L ${PEER.v4} -L ${PEER.v6} -p ${PEER.port} >/dev/null 2>&1 </dev/null &
for _ in $(seq 1 50); do
  nsenter -t "$outside" -n ss -Hlnu | grep -q '\\[${PEER.v6}\\]:${PEER.port} ' && exit 0
  sleep 0.1
done
echo "turnutils_peer did not start" >&2; exit 1
`;
  rehearsal.mustRun('an internet peer in the outside namespace', ['bash', '-c', script], { timeoutMs: 20000 });
}
