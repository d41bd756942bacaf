import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { execFileSync, spawnSync } from 'child_process';
import { connect as tlsConnect } from 'tls';
import { renderDomainsList, xmppJid, xmppName } from '../../lib/core/expansion';
import { renderCommonScript } from '../../lib/core/host-scripts';
import { planDoctorChecks, PlannedTlsEndpoint } from '../../lib/core/doctor-plan';
import { concurrencyLimit, DoctorContext } from '../../lib/doctor/net';
import { certificateDnsNames, handshake } from '../../lib/doctor/tls-checks';
import { promises as dnsPromises } from 'dns';
import { PROSODY_CERTS_DIR, PROSODY_PLUGIN_DIR, PROSODY_SECRETS_INCLUDE } from '../../lib/core/paths';
import { LOGIN_THROTTLE, MUC_RTBL, prosodyDuration, prosodyHostModules, renderProsodyConfig, renderProsodySecretsInclude } from '../../lib/core/prosody';
import { certificateNames, ResolvedDomain, ResolvedSpec, XmppServiceSpec } from '../../lib/core/spec';
import { estimateProsodyMemoryMiB, resolveSpec } from '../../lib/core/validate';
import { PLATFORMS as LIBRARY_PLATFORMS, PlatformName } from '../../lib/core/platforms';
import { PLATFORMS, platformToolsForFile, platformUnavailable } from '../support/platform';
import { closedSpec, fullSpec, minimalSpec, onImage, representativeSpecs } from '../support/specs';
import { withPackageModules } from '../support/package-modules';
import { describeUnless, makeSelfSignedCert, makeTempDir, readOrEmpty, removeDir, RunResult, stopProcess, waitFor } from '../support/tools';

// ---------------------------------------------------------------------------------------------
// The real Prosody is the droplet platform's, for each platform (Prosody 13 on Debian 13, 0.12 on
// Debian 12): prosody and prosody-modules as the droplet installs them, run inside a throwaway root
// of the platform's image (test/support/platform.ts), never whatever this machine has. The prosody user exists only there, so chown and runuser run
// there too. The test's temp dirs are at the same paths inside, and the network is this machine's,
// so the test reads Prosody's log and socket and reaches its ports as before.
// ---------------------------------------------------------------------------------------------

/** Why the platform's image cannot be used here, if it cannot: the real-Prosody blocks then fail under CI and are skipped loudly elsewhere. */
const platformMissing = platformUnavailable();

const minimal = resolveSpec(minimalSpec);
const full = resolveSpec(fullSpec);
const closed = resolveSpec(closedSpec);

describe('renderProsodyConfig', () => {
  test('GIVEN any spec THEN HTTP listens on loopback only and no HTTPS port is opened', () => {
    const cfg = renderProsodyConfig(minimal);
    expect(cfg).toContain('http_interfaces = { "127.0.0.1", "::1" }');
    expect(cfg).toContain('https_ports = {}');
    expect(cfg).not.toMatch(/http_interfaces = \{ "\*"/);
    expect(cfg).not.toMatch(/consider_(bosh|websocket)_secure/);
  });

  test('GIVEN any spec THEN no deprecated or obsolete option of 0.12 appears', () => {
    for (const spec of [minimal, full, closed]) {
      const cfg = renderProsodyConfig(spec);
      expect(cfg).not.toMatch(/^\s*(daemonize|cross_domain_bosh|cross_domain_websocket|legacy_ssl_ports|legacy_ssl_ssl)\b/m);
      expect(cfg).not.toMatch(/"(turncredentials|http_upload|http_altconnect|csi_battery_saver|throttle_presence)"/);
    }
  });

  test('GIVEN the default spec THEN every compliance feature has its provider loaded', () => {
    const modules = prosodyHostModules(minimal);
    for (const m of ['disco', 'roster', 'pep', 'carbons', 'blocklist', 'smacks', 'mam', 'csi_simple', 'cloud_notify', 'vcard_legacy', 'vcard4', 'bookmarks', 'server_contact_info', 'external_services', 'invites', 'invites_register', 'bosh', 'websocket']) {
      expect(modules).toContain(m);
    }
    const cfg = renderProsodyConfig(minimal);
    expect(cfg).toContain('Component "upload.example.net" "http_file_share"');
    expect(cfg).toContain('Component "conference.example.net" "muc"');
    expect(cfg).toContain('c2s_direct_tls_ports = { 5223 }');
  });

  // What differs by platform, as each platform's Prosody reads it (the real Prosody blocks below prove the reading).
  test.each<[PlatformName, string, string, string[], string[]]>([
    ['debian-13', 'modules_enabled = { "muc_mam", "muc_rtbl" }', 'restrict_room_creation = true', ['component_admins_as_room_owners = true'], ['sasl2', 'sasl2_bind2', 'sasl2_fast', 'sasl2_sm', 'cloud_notify_extensions', 'spam_reporting', 'login_throttle']],
    ['debian-12', 'modules_enabled = { "muc_mam", "vcard_muc" }', 'restrict_room_creation = "admin"', [], ['posix', 'login_throttle']],
  ])('GIVEN %s THEN group chat loads %s, an admins-only room policy is written %s, and the platform adds its host modules', (name, mucModules, adminOnly, adminOptions, extraModules) => {
    const image = LIBRARY_PLATFORMS[name].image;
    const minimalCfg = renderProsodyConfig(resolveSpec(onImage(minimalSpec, image)));
    const fullCfg = renderProsodyConfig(resolveSpec(onImage(fullSpec, image)));
    expect(minimalCfg).toContain(mucModules);
    expect(fullCfg).toContain(adminOnly);
    // "local" is the default: written in the platform's dialect too (13 reads "local", 0.12 as well).
    expect(minimalCfg).toContain('restrict_room_creation = "local"');
    for (const option of adminOptions) expect(minimalCfg).toContain(option);
    if (adminOptions.length === 0) expect(minimalCfg).not.toContain('component_admins_as_room_owners');
    expect(prosodyHostModules(resolveSpec(onImage(minimalSpec, image)))).toEqual(expect.arrayContaining(extraModules));
    expect(minimalCfg).toContain(`for ${LIBRARY_PLATFORMS[name].prosody.label} on ${LIBRARY_PLATFORMS[name].label}.`);
  });

  test('GIVEN Debian 13 THEN group chats subscribe to xmppbl.org\'s blocklist while the server federates (the list comes over s2s), and not otherwise', () => {
    const image = LIBRARY_PLATFORMS['debian-13'].image;
    const federated = renderProsodyConfig(resolveSpec(onImage(minimalSpec, image)));
    expect(federated).toContain('\tmodules_enabled = { "muc_mam", "muc_rtbl" }\n');
    expect(federated).toContain(`\tmuc_rtbl_jid = "${MUC_RTBL.jid}"\n`);
    expect(federated).not.toContain('muc_rtbl_node');
    const alone = renderProsodyConfig(resolveSpec(onImage({ ...minimalSpec, federation: { enabled: false } }, image)));
    expect(alone).toContain('\tmodules_enabled = { "muc_mam" }\n');
    expect(alone).not.toContain('muc_rtbl');
    expect(renderProsodyConfig(resolveSpec(onImage(minimalSpec, LIBRARY_PLATFORMS['debian-12'].image)))).not.toMatch(/muc_rtbl|spam_reporting/);
  });

  test('GIVEN any spec THEN failed logins are throttled by this package\'s module, found through plugin_paths', () => {
    for (const spec of [minimal, full, closed]) {
      const cfg = renderProsodyConfig(spec);
      expect(prosodyHostModules(spec)).toContain('login_throttle');
      expect(cfg).toContain(`plugin_paths = { "${PROSODY_PLUGIN_DIR}" }\n`);
      expect(cfg).toContain(`${LOGIN_THROTTLE.failures} failed logins block an account from an address, ${LOGIN_THROTTLE.addressFailures} the address, for ${LOGIN_THROTTLE.windowSeconds} s`);
      // The module's own defaults are the ones documented.
      const module = readFileSync(join(__dirname, '../../lib/host/mod_login_throttle.lua'), 'utf8');
      expect(module).toContain(`get_option_number("login_throttle_failures", ${LOGIN_THROTTLE.failures})`);
      expect(module).toContain(`get_option_number("login_throttle_window", ${LOGIN_THROTTLE.windowSeconds})`);
      expect(module).toContain(`get_option_number("login_throttle_address_failures", ${LOGIN_THROTTLE.addressFailures})`);
    }
  });

  test('GIVEN components named deeper than <label>.<domain> THEN each domain lists them for discovery and each names its domain as parent_host', () => {
    const cfg = renderProsodyConfig(full);
    expect(cfg).toContain('VirtualHost "example.org"\n\thttp_external_url = "https://example.org/"\n');
    expect(cfg).toContain('\tdisco_items = { { "share.xmpp.example.org" }, { "groupchat.xmpp.example.org" }, { "proxy.xmpp.example.org" }, { "pubsub.xmpp.example.org" } }\n');
    expect(cfg).toContain('Component "groupchat.xmpp.example.org" "muc"\n\tparent_host = "example.org"\n');
    expect(renderProsodyConfig(minimal)).not.toMatch(/disco_items|parent_host/);
  });

  test('GIVEN csi_simple THEN neither csi_battery_saver nor throttle_presence is loaded with it', () => {
    const modules = prosodyHostModules(full);
    expect(modules).toContain('csi_simple');
    expect(modules).not.toContain('csi_battery_saver');
    expect(modules).not.toContain('throttle_presence');
  });

  test('GIVEN calls THEN the TURN secret comes from an include, never from this file', () => {
    const cfg = renderProsodyConfig(minimal);
    expect(cfg).toContain(`Include "${PROSODY_SECRETS_INCLUDE}"`);
    expect(cfg).not.toMatch(/external_service_secret/);
    expect(cfg).toContain('external_service_host = "turn.example.net"');
    expect(cfg).toContain('{ type = "turns", transport = "tcp", port = 5349, secret = true, algorithm = "turn", ttl = 86400 };');
    expect(cfg).toContain('{ type = "turn", transport = "tcp", port = 3478, secret = true, algorithm = "turn", ttl = 86400 };');
    const withSecret = resolveSpec({ ...minimalSpec, calls: { sharedSecret: 's'.repeat(40) } });
    expect(renderProsodyConfig(withSecret)).not.toContain('s'.repeat(40));
  });

  test('GIVEN a closed, private server THEN no registration, federation, web or TURN is configured', () => {
    const cfg = renderProsodyConfig(closed);
    expect(cfg).toContain('allow_registration = false');
    expect(cfg).toContain('modules_disabled = { "s2s" }');
    expect(cfg).not.toMatch(/"(invites|bosh|websocket|external_services|dialback)"/);
    expect(cfg).not.toContain('Component');
    expect(cfg).not.toContain('Include');
  });

  describe('retention: one setting for messages, room history and files', () => {
    test.each<[string, XmppServiceSpec, string, string, string]>([
      ['the default', minimalSpec, 'archive_expires_after = "7d"', 'http_file_share_expires_after = 604800', 'muc_log_expires_after = "7d"'],
      ['a longer history', { ...minimalSpec, historyExpireAfterSeconds: 90 * 86400 }, 'archive_expires_after = "90d"', 'http_file_share_expires_after = 7776000', 'muc_log_expires_after = "90d"'],
      ['a history of hours', { ...minimalSpec, historyExpireAfterSeconds: 36 * 3600 }, 'archive_expires_after = 129600', 'http_file_share_expires_after = 129600', 'muc_log_expires_after = 129600'],
      ['files kept shorter than the history', { ...minimalSpec, historyExpireAfterSeconds: 30 * 86400, components: { fileShare: { expireAfterSeconds: 86400 } } }, 'archive_expires_after = "30d"', 'http_file_share_expires_after = 86400', 'muc_log_expires_after = "30d"'],
    ])('GIVEN %s THEN users\' archives, uploads and room history follow it', (_why, input, archive, files, rooms) => {
      const cfg = renderProsodyConfig(resolveSpec(input));
      expect(cfg).toContain(archive);
      expect(cfg).toContain(files);
      expect(cfg).toContain(rooms);
    });
  });

  test('GIVEN the full spec THEN limits, names and room policy follow it', () => {
    const cfg = renderProsodyConfig(full);
    expect(cfg).toContain('Component "share.xmpp.example.org" "http_file_share"');
    expect(cfg).toContain('http_file_share_size_limit = 52428800');
    expect(cfg).toContain('http_file_share_daily_quota = 209715200');
    expect(cfg).toContain('http_file_share_global_quota = 5368709120');
    expect(cfg).toContain('muc_log_expires_after = "30d"');
    expect(cfg).toContain('s2s_direct_tls_ports = { 5270 }');
    expect(cfg).toContain('proxy65_address = "proxy.xmpp.example.net"');
    expect(cfg).toContain('feedback = { "https://example.net/feedback?from=xmpp&lang=de" }');
  });

  // RFC 7622: an XMPP address carries an internationalised label in Unicode; so must Prosody's host
  // names, which it matches against the addresses clients send. DNS names and URLs keep the A-label.
  test('GIVEN an internationalised domain THEN Prosody knows it, its components and admins by their Unicode names, and URLs and addresses to resolve keep the A-label', () => {
    const cfg = renderProsodyConfig(full);
    expect(cfg).toContain('VirtualHost "bücher.example"\n\thttp_external_url = "https://xn--bcher-kva.example/"\n');
    expect(cfg).toContain('Component "share.xmpp.bücher.example" "http_file_share"\n\tparent_host = "bücher.example"\n\thttp_host = "share.xmpp.xn--bcher-kva.example"\n\ts2s_direct_tls_host = "share.xmpp.xn--bcher-kva.example"\n\thttp_external_url = "https://share.xmpp.xn--bcher-kva.example/"\n');
    expect(cfg).toContain('Component "proxy.xmpp.bücher.example" "proxy65"\n\tparent_host = "bücher.example"\n\ts2s_direct_tls_host = "proxy.xmpp.xn--bcher-kva.example"\n\tproxy65_address = "proxy.xmpp.xn--bcher-kva.example"\n');
    expect(cfg).toContain('\tadmins = { "moderator@bücher.example" }\n');
    expect(cfg).not.toMatch(/(VirtualHost|Component|parent_host =) "[^"]*xn--/);
    expect(cfg).not.toMatch(/admins = \{[^}]*xn--/);
  });

  test.each<[number, string | number]>([[86400, '1d'], [604800, '7d'], [3600, 3600]])('prosodyDuration(%d) is %p (a bare number in a string is ambiguous to Prosody 13)', (s, d) => {
    expect(prosodyDuration(s)).toBe(d);
  });

  test('GIVEN the same spec THEN the output is byte-identical', () => {
    expect(renderProsodyConfig(full)).toBe(renderProsodyConfig(resolveSpec(fullSpec)));
  });
});

/**
 * The rendered file with only its absolute host paths moved into `dir`, so the real Prosody can
 * load it without touching this machine's /etc and /var. Nothing else is changed.
 */
function harnessConfig(spec: ResolvedSpec, dir: string, portBase: number): string {
  const cfg = withPackageModules(renderProsodyConfig(spec), dir)
    .replaceAll(PROSODY_SECRETS_INCLUDE, join(dir, 'secrets.cfg.lua'))
    .replaceAll(`"${PROSODY_CERTS_DIR}"`, `"${join(dir, 'certs')}"`)
    .replace(/^pidfile = .*$/m, `pidfile = "${join(dir, 'prosody.pid')}"`)
    .replace(/^log = .*$/m, `log = { debug = "${join(dir, 'prosody.log')}" }`)
    .replace(/^c2s_ports = .*$/m, `c2s_ports = { ${portBase + 1} }`)
    .replace(/^c2s_direct_tls_ports = .*$/m, `c2s_direct_tls_ports = { ${portBase + 2} }`)
    .replace(/^s2s_ports = .*$/m, `s2s_ports = { ${portBase + 3} }`)
    .replace(/^s2s_direct_tls_ports = .*$/m, `s2s_direct_tls_ports = { ${portBase + 4} }`)
    .replace(/^proxy65_ports = .*$/m, `proxy65_ports = { ${portBase + 5} }`)
    .replace(/^http_ports = .*$/m, `http_ports = { ${portBase + 6} }`);
  return `data_path = "${join(dir, 'data')}"\n${cfg}`;
}

/**
 * Runs `lua` in the running Prosody's admin shell and gives its answer (the "Result:" line), asking
 * again while the shell gives up on a busy server or answers with something else (`accept` says
 * what an answer looks like).
 */
async function askShell(asProsody: (args: readonly string[]) => RunResult, config: string, lua: string, timeoutMs = 10000, accept: (answer: string) => boolean = (a) => a !== ''): Promise<string> {
  let answer = '';
  let said = '';
  await waitFor(() => {
    said = asProsody(['prosodyctl', '--config', config, 'shell', `>${lua}`]).stdout;
    answer = /^Result: (.*)$/m.exec(said)?.[1] ?? said.trim();
    return accept(answer);
  }, timeoutMs, () => `no answer from the admin shell to ${lua}; last it said: ${said.slice(0, 500)}`);
  return answer;
}

/** The DNS names in the certificate a TLS server presents to `openssl s_client` with `args`. */
function presentedNames(args: readonly string[]): string[] {
  const shown = spawnSync('openssl', ['s_client', ...args], { input: '', encoding: 'utf8', timeout: 15000 });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(shown.stdout)?.[0];
  if (pem === undefined) return [`no certificate (openssl s_client ${args.join(' ')}: ${shown.stderr.trim().split('\n').slice(-2).join(' ')})`];
  const san = spawnSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: pem, encoding: 'utf8' }).stdout;
  return [...san.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]);
}

/** Whether `text` is JSON. */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A Lua call of `fn` (a function expression) with `args`, for the admin shell. */
function luaCall(fn: string, ...args: string[]): string {
  return `(${fn.replace(/\s*\n\s*/g, ' ')})(${args.map((a) => JSON.stringify(a)).join(', ')})`;
}

/**
 * Whether `jid` administers `host`, asked of the running server: by its role where Prosody has roles
 * (13; its legacy is_admin() logs a warning on every call), else by is_admin() (0.12).
 */
const IS_ADMIN = `function(jid, host)
  local um = require"core.usermanager"
  if um.get_jid_role then
    local role = um.get_jid_role(jid, host)
    return role ~= nil and (role.name == "prosody:admin" or role.name == "prosody:operator")
  end
  return um.is_admin(jid, host) == true
end`;

/**
 * What the group chat component's own room creation hooks answer `jid` asking to create a room: it
 * fires muc-room-pre-create as the component does for the first presence to a new room (a room of
 * its own per asker), from an origin that collects the error reply (a server-to-server origin, so
 * the decision rests on the sender's address and the role the component gives it).
 */
const ROOM_CREATION = `function(host, jid)
  local st = require"util.stanza"
  local refused = false
  local origin = { type = "s2sin", send = function() refused = true end }
  local room = hosts[host].modules.muc.new_room("probe-" .. jid:gsub("[^%w]", "-") .. "@" .. host)
  hosts[host].modules.muc.module:fire_event("muc-room-pre-create", { room = room, origin = origin, stanza = st.presence({ from = jid .. "/probe", to = room.jid .. "/probe" }) })
  return refused and "refused" or "allowed"
end`;

/** The affiliation a new room of the component gives `jid` (with nobody affiliated yet). */
const ROOM_AFFILIATION = `function(host, jid)
  local room = hosts[host].modules.muc.new_room("probe-affiliation@" .. host)
  return tostring(room:get_affiliation(jid))
end`;

/** Whether a room of the component answers vCard requests (XEP-0153 room avatars), and advertises them. */
const ROOM_VCARD = `function(host)
  local st = require"util.stanza"
  local room = hosts[host].modules.muc.new_room("probe-vcard@" .. host)
  local info = room:get_disco_info(st.iq({ type = "get", from = "probe@" .. host .. "/x", to = room.jid, id = "probe" }):query("http://jabber.org/protocol/disco#info"))
  local handlers = hosts[host].events.get_handlers("iq/bare/vcard-temp:vCard")
  return tostring(handlers ~= nil and next(handlers) ~= nil) .. " " .. tostring(tostring(info):find("vcard-temp", 1, true) ~= nil)
end`;

/** Which features `prosodyctl check features` (Prosody 13) should find missing on a host of `spec`: only those the spec switches off. */
function featuresSwitchedOff(spec: ResolvedSpec): string[] {
  return [
    ...(!spec.web.bosh && !spec.web.websocket ? ['Web connections'] : []),
    ...(!spec.calls.enabled ? ['Audio/video calls and P2P'] : []),
    ...(!spec.fileShare.enabled ? ['File sharing'] : []),
    ...(!spec.groupChat.enabled ? ['Group chats'] : []),
  ].sort();
}

/** `prosodyctl check features` came with Prosody 13; 0.12's prosodyctl has no such check. */
const HAS_CHECK_FEATURES: Readonly<Record<PlatformName, boolean>> = { 'debian-13': true, 'debian-12': false };

/**
 * One login as a client makes it: TLS from the first byte (XEP-0368) to `port`, a stream to
 * `domain`, then SASL PLAIN (or SASL2's PLAIN, XEP-0388). The server's verdict: "success", or the
 * condition of its failure ("not-authorized", "temporary-auth-failure").
 */
/**
 * Logs in over TLS from the first byte with SASL PLAIN, binds a resource and sends `stanza` (an
 * iq with id "probe"); gives the server's answer to it.
 */
function sendAsUser(port: number, domain: string, user: string, password: string, stanza: string): Promise<string> {
  const plain = Buffer.from(`\0${user}\0${password}`).toString('base64');
  const open = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
  return new Promise((resolve, reject) => {
    let received = '';
    let step = 0;
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: domain, rejectUnauthorized: false, ALPNProtocols: ['xmpp-client'] }, () => socket.write(open));
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer at step ${step}; the server said: ${received}`)); }, 10000);
    socket.on('data', (data: Buffer) => {
      received += data.toString('utf8');
      const next = (pattern: RegExp, send: string): void => {
        if (!pattern.test(received)) return;
        received = '';
        step++;
        socket.write(send);
      };
      if (step === 0) next(/<\/stream:features>/, `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
      else if (step === 1) next(/<success/, open);
      else if (step === 2) next(/<\/stream:features>/, "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
      else if (step === 3) next(/id=['"]bind['"][^>]*type=['"]result|type=['"]result['"][^>]*id=['"]bind/, stanza);
      else if (step === 4 && /id=['"]probe['"]/.test(received)) {
        clearTimeout(timer);
        socket.end('</stream:stream>');
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** A PLAIN login over direct TLS: "success", or the SASL failure condition. */
function tryLogin(port: number, domain: string, user: string, password: string, sasl2 = false): Promise<string> {
  return saslAnswer(port, domain, 'PLAIN', `\0${user}\0${password}`, sasl2);
}

/**
 * The server's first answer to a SASL (or SASL2) authentication with `initial` as its initial
 * response: "success", "challenge" (SCRAM's server-first message), or the failure condition.
 */
function saslAnswer(port: number, domain: string, mechanism: string, initial: string, sasl2 = false): Promise<string> {
  const data = Buffer.from(initial).toString('base64');
  const auth = sasl2
    ? `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='${mechanism}'><initial-response>${data}</initial-response></authenticate>`
    : `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mechanism}'>${data}</auth>`;
  return new Promise((resolve, reject) => {
    let received = '';
    let sent = false;
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: domain, rejectUnauthorized: false, ALPNProtocols: ['xmpp-client'] }, () => {
      socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`);
    });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer to the login; the server said: ${received}`)); }, 10000);
    socket.on('data', (data: Buffer) => {
      received += data.toString('utf8');
      if (!sent && received.includes('</stream:features>')) {
        sent = true;
        if (sasl2 && !received.includes('urn:xmpp:sasl:2')) { clearTimeout(timer); socket.destroy(); reject(new Error('the server offers no SASL2')); return; }
        socket.write(auth);
        return;
      }
      const answer = sent ? /<(success|challenge)[\s>/]|<failure[^>]*>\s*<([a-z-]+)/.exec(received.slice(received.indexOf('</stream:features>'))) : null;
      if (answer) {
        clearTimeout(timer);
        socket.end('</stream:stream>');
        socket.destroy();
        resolve(answer[1] ?? answer[2]);
      }
    });
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

describe.each(Object.values(PLATFORMS))('on $name', (platform) => {
  const library = LIBRARY_PLATFORMS[platform.name as PlatformName];
  const platformIndex = Object.keys(PLATFORMS).indexOf(platform.name);
  /** The platform's image, opened by the first test that needs it, closed after this platform's tests. */
  const image = platformToolsForFile(platform);

  /** Runs `args` inside the image as the prosody user. */
  function asProsody(args: readonly string[]): RunResult {
    return image().run(['runuser', '-u', 'prosody', '--', ...args]);
  }

  /** Hands `dir` to the prosody user, by the image's user database. */
  function chownToProsody(dir: string): void {
    const r = image().run(['chown', '-R', 'prosody:prosody', dir]);
    if (r.status !== 0) throw new Error(`chown -R prosody:prosody ${dir} failed inside the image (${r.status}): ${r.stderr}`);
  }

  // Each Prosody configuration once: a spec that renders the same one as an earlier spec (off-host
  // backups and alerts change nothing in Prosody) would only start the same server again.
  const distinct = representativeSpecs.filter(([, input], i) => {
    const config = renderProsodyConfig(resolveSpec(onImage(input, platform.image)));
    return representativeSpecs.findIndex(([, other]) => renderProsodyConfig(resolveSpec(onImage(other, platform.image))) === config) === i;
  });
  test('the specs whose Prosody configuration is another\'s are the ones that change nothing in Prosody', () => {
    expect(representativeSpecs.filter((entry) => !distinct.includes(entry)).map(([name]) => name)).toEqual(['backed-up']);
  });

  for (const [name, input] of distinct) describeUnless(platformMissing, `the real ${library.prosody.label} of ${library.label} on the ${name} spec`, () => {
    const spec = resolveSpec(onImage(input, platform.image));
    let dir: string;

    beforeAll(() => {
      dir = makeTempDir('prosody');
      mkdirSync(join(dir, 'data'));
      mkdirSync(join(dir, 'certs'));
      writeFileSync(join(dir, 'secrets.cfg.lua'), renderProsodySecretsInclude('0123456789abcdef'.repeat(4)));
      for (const domain of spec.domains) {
        const certDir = join(dir, 'certs', domain.name);
        mkdirSync(certDir);
        makeSelfSignedCert(certDir, certificateNames(spec, domain));
      }
      writeFileSync(join(dir, 'prosody.cfg.lua'), withPackageModules(renderProsodyConfig(spec), dir).replaceAll(PROSODY_SECRETS_INCLUDE, join(dir, 'secrets.cfg.lua')));
      writeFileSync(join(dir, 'run.cfg.lua'), harnessConfig(spec, dir, 25000 + 100 * platformIndex + 10 * representativeSpecs.findIndex(([, s]) => s === input)));
      chownToProsody(dir);
    });
    afterAll(() => { if (!process.env.KEEP_TMP) removeDir(dir); });

    test('prosodyctl check config reports no problem and no warning', () => {
      const r = asProsody(['prosodyctl', '--config', join(dir, 'prosody.cfg.lua'), 'check', 'config']);
      expect(r.stdout + r.stderr).toContain('All checks passed, congratulations!');
      expect(r.stdout + r.stderr).not.toMatch(/warn|deprecated|unknown|problem/i);
      expect(r.status).toBe(0);
    });

    if (HAS_CHECK_FEATURES[platform.name as PlatformName]) {
      test('prosodyctl check features finds every feature the spec offers on every domain, and misses only those it switches off', () => {
        const r = asProsody(['prosodyctl', '--config', join(dir, 'prosody.cfg.lua'), 'check', 'features']);
        const report = r.stdout + r.stderr;
        const byHost: Record<string, { ok: string[]; missing: string[] }> = {};
        let host = '';
        for (const line of report.split('\n')) {
          const verdict = /^\t(OK|\(!\))\t(.+)$/.exec(line);
          if (verdict) (verdict[1] === 'OK' ? byHost[host].ok : byHost[host].missing).push(verdict[2].trim());
          else if (/^\S+$/.test(line) && line !== 'Feature') byHost[(host = line)] = { ok: [], missing: [] };
        }
        delete byHost.Feature;
        const expected = featuresSwitchedOff(spec);
        expect(Object.keys(byHost).sort()).toEqual(spec.domains.map((d) => xmppName(d.name)).sort());
        for (const [h, verdicts] of Object.entries(byHost)) {
          expect({ host: h, missing: verdicts.missing.sort() }).toEqual({ host: h, missing: expected });
          expect({ host: h, ok: verdicts.ok }).toEqual({ host: h, ok: expect.arrayContaining(['Basic functionality', 'Multi-device messaging and data synchronization', 'Mobile optimizations', 'User profiles', 'Blocking', 'Push notifications']) });
        }
        expect(report).not.toMatch(/warn|error|unknown/i);
        expect(r.status).toBe(expected.length === 0 ? 0 : 1);
      });
    }

    test('Prosody starts on it, every host loads its planned modules and admins, each domain holds its contacts, without an error', async () => {
      const log = join(dir, 'prosody.log');
      const config = join(dir, 'run.cfg.lua');
      const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
      /** The modules a running host has loaded, as Prosody's admin shell lists them. */
      const loadedModules = (host: string): string[] => {
        const r = asProsody(['prosodyctl', '--config', config, 'shell', `module:list(${JSON.stringify(host)})`]);
        return r.stdout.split('\n').filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim());
      };
      const shell = (lua: string): Promise<string> => askShell(asProsody, config, lua);
      try {
        await waitFor(() => /Activated service 'c2s'/.test(readOrEmpty(log)) && existsSync(join(dir, 'data', 'prosody.sock')), 15000, () => readOrEmpty(log).slice(-3000));
        // Global modules (process management where the platform still has a module for it, the
        // admin shell) load once, not per host.
        const global = ['posix', 'admin_shell'];
        for (const domain of spec.domains) {
          const loaded = loadedModules(xmppName(domain.name));
          const missing = prosodyHostModules(spec).filter((m) => !global.includes(m) && !loaded.includes(m));
          expect({ host: domain.name, missing }).toEqual({ host: domain.name, missing: [] });
          for (const component of domain.components) {
            const blocklist = spec.federation.enabled ? library.prosody.abuse.mucFederatedModules : [];
            const expected = { fileShare: ['http_file_share'], groupChat: ['muc', ...library.prosody.mucModules, ...blocklist], proxy65: ['proxy65'], pubsub: ['pubsub'] }[component.kind];
            const loadedHere = loadedModules(xmppName(component.host));
            expect({ host: component.host, missing: expected.filter((m) => !loadedHere.includes(m)) }).toEqual({ host: component.host, missing: [] });
            // mod_vcard_muc is gone from Prosody 13 (room vCards are built into MUC); it loads only where planned.
            if (component.kind === 'groupChat') expect({ host: component.host, vcard_muc: loadedHere.includes('vcard_muc') }).toEqual({ host: component.host, vcard_muc: library.prosody.mucModules.includes('vcard_muc') });
          }
        }
        // mod_posix: needed by 0.12's prosodyctl, deprecated (and empty) in 13, where it must not load.
        expect(await shell('require"core.modulemanager".is_loaded("*", "posix") == true')).toBe(String(library.prosody.extraHostModules.includes('posix')));
        // Users' archives expire after historyExpireAfterSeconds, as mod_mam reads the option (Prosody 13
        // reads it as a period; 0.12's pattern would log an error on a value it cannot parse, caught below).
        const mamHost = JSON.stringify(xmppName(spec.domains[0].name));
        const period = await shell(`(function(m) return m.get_option_period and string.format("%d", m:get_option_period("archive_expires_after")) or "0.12" end)(require"core.modulemanager".get_module(${mamHost}, "mam").module)`);
        expect(period).toBe(library.prosody.label.includes('0.12') ? '0.12' : String(spec.historyExpireAfterSeconds));
        // A domain's own admins administer it (and its group chat and pubsub) and nothing else; the
        // service-wide admins administer everything. Asked of the running server, not of the file.
        const everyAdmin = [...spec.admins, ...spec.domains.flatMap((d) => d.admins)].map(xmppJid);
        const asked: string[] = [];
        const expected: string[] = [];
        for (const domain of spec.domains) {
          const moderated = new Set(domain.components.filter((c) => c.kind === 'groupChat' || c.kind === 'pubsub').map((c) => xmppName(c.host)));
          for (const host of [domain.name, ...domain.components.map((c) => c.host)].map(xmppName)) {
            for (const jid of everyAdmin) {
              const admin = await shell(luaCall(IS_ADMIN, jid, host));
              asked.push(`${jid} on ${host}: ${admin}`);
              const own = domain.admins.map(xmppJid).includes(jid) && (host === xmppName(domain.name) || moderated.has(host));
              expected.push(`${jid} on ${host}: ${spec.admins.map(xmppJid).includes(jid) || own}`);
            }
          }
          // contact_info as the running server holds it for the host (server_contact_info reads this).
          const contacts = JSON.parse(await askShell(asProsody, config, `require"util.json".encode(require"core.configmanager".get(${JSON.stringify(xmppName(domain.name))}, "contact_info"))`, 10000, isJson));
          const published = Object.fromEntries(Object.entries(domain.contacts).filter(([, uris]) => uris.length > 0));
          expect({ host: domain.name, contacts }).toEqual({ host: domain.name, contacts: published });
        }
        expect(asked).toEqual(expected);
        if (spec.domains.some((d) => d.admins.length > 0)) expect(expected.some((e) => e.endsWith('true')) && expected.some((e) => e.endsWith('false'))).toBe(true);
        const problems = readOrEmpty(log).split('\n').filter((l) => /\t(error|warn)\t/.test(l));
        expect(problems).toEqual([]);
      } finally {
        await stopProcess(child);
      }
    });

    const groupChats = spec.domains.flatMap((domain) => domain.components.filter((c) => c.kind === 'groupChat').map((c) => ({ domain, host: xmppName(c.host) })));
    if (groupChats.length > 0) {
      test(`the group chat component keeps the option meanings: room creation "${spec.groupChat.roomCreation}", admins own every room, rooms have vCards`, async () => {
        const logFile = join(dir, 'prosody.log');
        // The log of this run only: the test above started (and stopped) Prosody on the same files.
        const earlier = readOrEmpty(logFile).length;
        const log = (): string => readOrEmpty(logFile).slice(earlier);
        const config = join(dir, 'run.cfg.lua');
        const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
        const shell = (lua: string): Promise<string> => askShell(asProsody, config, lua);
        try {
          await waitFor(() => /Activated service 'c2s'/.test(log()) && existsSync(join(dir, 'data', 'prosody.sock')), 15000, () => log().slice(-3000));
          const may = { admin: 'allowed', local: spec.groupChat.roomCreation === 'admin' ? 'refused' : 'allowed', remote: spec.groupChat.roomCreation === 'anyone' ? 'allowed' : 'refused' };
          for (const { domain, host } of groupChats) {
            const admin = xmppJid(spec.admins[0]);
            const local = `probe-user@${xmppName(domain.name)}`;
            const remote = 'probe-user@elsewhere.example';
            // Room creation, as the component's own hook decides it (restrict_room_creation).
            expect({
              host,
              admin: await shell(luaCall(ROOM_CREATION, host, admin)),
              local: await shell(luaCall(ROOM_CREATION, host, local)),
              remote: await shell(luaCall(ROOM_CREATION, host, remote)),
            }).toEqual({ host, ...may });
            // The service's and the domain's admins own every room (component_admins_as_room_owners); nobody else does.
            const owners = [admin, ...domain.admins.map(xmppJid)];
            const affiliations = await Promise.all([...owners, local].map(async (jid) => `${jid}: ${await shell(luaCall(ROOM_AFFILIATION, host, jid))}`));
            expect(affiliations).toEqual([...owners.map((jid) => `${jid}: owner`), `${local}: nil`]);
            // Room avatars: rooms answer vCard requests and advertise them (vcard_muc on 0.12, MUC's own vcard library on 13).
            expect({ host, vcard: await shell(luaCall(ROOM_VCARD, host)) }).toEqual({ host, vcard: 'true true' });
          }
          if (Object.keys(library.prosody.mucAdminOptions).length > 0) {
            for (const { host } of groupChats) {
              for (const [option, value] of Object.entries(library.prosody.mucAdminOptions)) {
                expect({ host, option, value: JSON.parse(await askShell(asProsody, config, `require"util.json".encode(require"core.configmanager".get(${JSON.stringify(host)}, ${JSON.stringify(option)}))`, 10000, isJson)) }).toEqual({ host, option, value });
              }
            }
          }
          const problems = log().split('\n').filter((l) => /\t(error|warn)\t/.test(l));
          expect(problems).toEqual([]);
        } finally {
          await stopProcess(child);
        }
      });
    }
    // Clients open the stream to the domain's XMPP name (Unicode, RFC 7622) and name it in TLS by
    // its A-label (SNI, RFC 6066), the name its certificate carries. Either way they get its own.
    test(`each domain's own certificate is presented: over STARTTLS to a stream opened to its XMPP name, and with TLS from the first byte to a client${spec.federation.directTls ? ' or server' : ''} naming its A-label by SNI`, async () => {
      const config = join(dir, 'run.cfg.lua');
      const port = (option: string): string => new RegExp(`^${option} = \\{ (\\d+) \\}$`, 'm').exec(readFileSync(config, 'utf8'))![1];
      const logFile = join(dir, 'prosody.log');
      const earlier = readOrEmpty(logFile).length;
      const log = (): string => readOrEmpty(logFile).slice(earlier);
      const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
      try {
        await waitFor(() => /Activated service 'c2s_direct_tls'/.test(log()) && existsSync(join(dir, 'data', 'prosody.sock')), 15000, () => log().slice(-3000));
        // A remote server asks for the domain or one of its components by name.
        const serverNames = (domain: ResolvedDomain): string[] => (spec.federation.directTls ? [domain.name, ...domain.components.map((c) => c.host)] : []);
        const presented = spec.domains.map((domain) => ({
          domain: domain.name,
          starttls: presentedNames(['-connect', `127.0.0.1:${port('c2s_ports')}`, '-starttls', 'xmpp', '-xmpphost', xmppName(domain.name)]),
          directTls: presentedNames(['-connect', `127.0.0.1:${port('c2s_direct_tls_ports')}`, '-servername', domain.name]),
          serverDirectTls: serverNames(domain).map((name) => presentedNames(['-connect', `127.0.0.1:${port('s2s_direct_tls_ports')}`, '-servername', name])),
        }));
        const names = (domain: ResolvedDomain) => certificateNames(spec, domain);
        expect(presented).toEqual(spec.domains.map((domain) => ({ domain: domain.name, starttls: names(domain), directTls: names(domain), serverDirectTls: serverNames(domain).map(() => names(domain)) })));

        // xmpp-doctor's handshakes with every Prosody endpoint it plans (at this test's ports) see the same.
        const here: Record<number, string> = { [spec.ports.c2s]: port('c2s_ports'), [spec.ports.c2sDirectTls]: port('c2s_direct_tls_ports') };
        if (spec.federation.enabled) here[spec.ports.s2s] = port('s2s_ports');
        if (spec.federation.directTls) here[spec.ports.s2sDirectTls] = port('s2s_direct_tls_ports');
        const doctor: DoctorContext = { resolver: new dnsPromises.Resolver(), extraCa: [], timeoutMs: 5000, minValidDays: 1, now: () => new Date(), limit: concurrencyLimit(2) };
        const endpoints = planDoctorChecks(spec).tlsEndpoints.filter((e) => here[e.port] !== undefined);
        const lineage = (e: PlannedTlsEndpoint) => names(spec.domains.find((d) => d.name === e.certificate)!);
        const seen = await Promise.all(endpoints.map(async (e) => ({ name: e.name, mode: e.mode, names: certificateDnsNames((await handshake(doctor, { ...e, port: Number(here[e.port]) }, '127.0.0.1')).certificate) })));
        expect(seen).toEqual(endpoints.map((e) => ({ name: e.name, mode: e.mode, names: lineage(e) })));
        expect(new Set(endpoints.map((e) => e.name))).toEqual(new Set([...spec.domains.map((d) => d.name), ...spec.domains.flatMap((d) => d.components.filter((c) => c.kind === 'groupChat' && spec.federation.enabled).map((c) => c.host))]));
      } finally {
        await stopProcess(child);
      }
    });

    const internationalised = spec.domains.filter((domain) => xmppName(domain.name) !== domain.name);
    if (internationalised.length > 0) {
      // Releases before knew an internationalised domain by its A-label, and so kept its data, and
      // its components', under that name. Provisioning moves it (common.sh), before Prosody starts.
      test('data Prosody kept under an internationalised domain\'s A-label, by earlier releases, is moved to its Unicode name, and the accounts and component data work there', async () => {
        const moved = join(dir, 'moved');
        mkdirSync(moved);
        chownToProsody(moved);
        const current = readFileSync(join(dir, 'run.cfg.lua'), 'utf8').replace(/^data_path = .*$/m, `data_path = "${moved}"`);
        // As those releases wrote it: every host by its DNS name.
        const earlier = internationalised.reduce((cfg, domain) => cfg.split(xmppName(domain.name)).join(domain.name), current);
        writeFileSync(join(dir, 'earlier.cfg.lua'), earlier);
        writeFileSync(join(dir, 'current.cfg.lua'), current);
        const hosts = internationalised.flatMap((domain) => [domain.name, ...domain.components.map((c) => c.host)]);
        const logFile = join(dir, 'prosody.log');
        const run = async (config: string, lua: (host: string) => string): Promise<string[]> => {
          const before = readOrEmpty(logFile).length;
          const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
          try {
            await waitFor(() => /Activated service 'c2s'/.test(readOrEmpty(logFile).slice(before)) && existsSync(join(moved, 'prosody.sock')), 15000, () => readOrEmpty(logFile).slice(before).slice(-3000));
            const answers: string[] = [];
            for (const host of hosts) answers.push(`${host}: ${await askShell(asProsody, config, lua(host))}`);
            return answers;
          } finally {
            await stopProcess(child);
          }
        };
        const account = (host: string) => JSON.stringify(host.split('.').length === 2 ? host : '');
        const kept = await run(join(dir, 'earlier.cfg.lua'), (host) => `(function(host) if ${account(host)} ~= "" then require"core.usermanager".create_user("carol", "carol's password", host) end return tostring(require"core.storagemanager".open(host, "probe"):set("kept", { by = host })) end)(${JSON.stringify(host)})`);
        expect(kept).toEqual(hosts.map((host) => `${host}: true`));

        writeFileSync(join(dir, 'domains.list'), renderDomainsList(spec));
        const primary = `${spec.primaryDomain} ${xmppName(spec.primaryDomain)}`;
        const moveScript = `. "$1"; moves=$({ printf '%s\\n' "$3"; cat "$4"; } | idn_host_data_moves "$2"); printf '%s\\n' "$moves" > "$2.moves"; [ -z "$moves" ] || move_host_data <<<"$moves"`;
        writeFileSync(join(dir, 'common.sh'), renderCommonScript());
        const moving = image().run(['bash', '-euo', 'pipefail', '-c', moveScript, 'move', join(dir, 'common.sh'), moved, primary, join(dir, 'domains.list')]);
        expect({ status: moving.status, stderr: moving.stderr }).toEqual({ status: 0, stderr: '' });
        expect(moving.stdout.trim().split('\n').sort()).toEqual(hosts.map((host) => `xmpp-constructs: Prosody's data of ${host} is now that of ${xmppName(host)}`).sort());
        const again = image().run(['bash', '-euo', 'pipefail', '-c', moveScript, 'move', join(dir, 'common.sh'), moved, primary, join(dir, 'domains.list')]);
        expect({ status: again.status, stdout: again.stdout, moves: readFileSync(`${moved}.moves`, 'utf8') }).toEqual({ status: 0, stdout: '', moves: '\n' });

        const found = await run(join(dir, 'current.cfg.lua'), (host) => `(function(host, dns) local stored = require"core.storagemanager".open(host, "probe"):get("kept") local login = ${account(host)} == "" or require"core.usermanager".test_password("carol", host, "carol's password") return tostring(stored and stored.by == dns and login) end)(${JSON.stringify(xmppName(host))}, ${JSON.stringify(host)})`);
        expect(found).toEqual(hosts.map((host) => `${host}: true`));
      });
    }

    const uploads = spec.domains.flatMap((domain) => domain.components.filter((c) => c.kind === 'fileShare').map((c) => ({ domain, host: xmppName(c.host) })));
    if (uploads.length > 0) {
      // Prosody 13 decides who may upload by the role the component gives the uploader: "registered"
      // for users of its parent domain (parent_host where the name is deeper than <label>.<domain>),
      // "guest" for everyone else. 0.12 lets the users of any local host upload, without roles.
      test('the upload component lets its domain\'s users upload and nobody from elsewhere (by their role, where Prosody has roles)', async () => {
        const logFile = join(dir, 'prosody.log');
        const earlier = readOrEmpty(logFile).length;
        const log = (): string => readOrEmpty(logFile).slice(earlier);
        const config = join(dir, 'run.cfg.lua');
        const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
        const shell = (lua: string): Promise<string> => askShell(asProsody, config, lua);
        const MAY_UPLOAD = `function(host, jid)
          local m = hosts[host].modules.http_file_share.module
          if not m.may then return "no roles" end
          return tostring(m:may(":upload", jid) == true)
        end`;
        try {
          await waitFor(() => /Activated service 'c2s'/.test(log()) && existsSync(join(dir, 'data', 'prosody.sock')), 15000, () => log().slice(-3000));
          for (const { domain, host } of uploads) {
            const answers = { host, local: await shell(luaCall(MAY_UPLOAD, host, `probe-user@${xmppName(domain.name)}`)), remote: await shell(luaCall(MAY_UPLOAD, host, 'probe-user@elsewhere.example')) };
            if (answers.local === 'no roles') expect(library.prosody.label).toBe('Prosody 0.12');
            else expect(answers).toEqual({ host, local: 'true', remote: 'false' });
          }
          expect(log().split('\n').filter((l) => /\t(error|warn)\t/.test(l))).toEqual([]);
        } finally {
          await stopProcess(child);
        }
      });
    }
  });

  // Password guessing: mod_login_throttle (this package's, lib/host) on this platform's Prosody,
  // with the limits shortened (3 failures per account, 5 per address, an 8 s window) so that the
  // test waits seconds, not minutes.
  describeUnless(platformMissing, `the real ${library.prosody.label} of ${library.label} throttling failed logins`, () => {
    const spec = resolveSpec(onImage(minimalSpec, platform.image));
    const domain = xmppName(spec.primaryDomain);
    const WINDOW_SECONDS = 8;
    let dir: string;
    let port: number;

    beforeAll(() => {
      dir = makeTempDir('prosody-throttle');
      mkdirSync(join(dir, 'data'));
      mkdirSync(join(dir, 'certs'));
      writeFileSync(join(dir, 'secrets.cfg.lua'), renderProsodySecretsInclude('0123456789abcdef'.repeat(4)));
      const certDir = join(dir, 'certs', spec.primaryDomain);
      mkdirSync(certDir);
      makeSelfSignedCert(certDir, certificateNames(spec, spec.domains[0]));
      // Global options, ahead of every VirtualHost.
      const limits = `login_throttle_failures = 3\nlogin_throttle_address_failures = 5\nlogin_throttle_window = ${WINDOW_SECONDS}\n`;
      const cfg = `${limits}${harnessConfig(spec, dir, 25700 + 100 * platformIndex)}`;
      port = Number(/^c2s_direct_tls_ports = \{ (\d+) \}$/m.exec(cfg)![1]);
      writeFileSync(join(dir, 'run.cfg.lua'), cfg);
      chownToProsody(dir);
      for (const user of ['alice', 'bob']) {
        const added = asProsody(['prosodyctl', '--config', join(dir, 'run.cfg.lua'), 'register', user, domain, `${user} password`]);
        if (added.status !== 0) throw new Error(`prosodyctl register failed (${added.status}): ${added.stdout}${added.stderr}`);
      }
    });
    afterAll(() => { if (!process.env.KEEP_TMP) removeDir(dir); });

    test('after 3 failed logins to an account from an address, that account is refused there (right password or not, PLAIN or SCRAM) while others on the address log in; after 5 failures from the address in all, the address is refused; both until the window after the last failure; a spam report (XEP-0377) reaches the log where the platform takes reports', async () => {
      const logFile = join(dir, 'prosody.log');
      const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', join(dir, 'run.cfg.lua')]);
      // SCRAM's first message names the account; refused there, or answered with the server's challenge.
      const scramFirst = (user: string, sasl2 = false) => saslAnswer(port, domain, 'SCRAM-SHA-1', `n,,n=${user},r=0123456789abcdef`, sasl2);
      try {
        await waitFor(() => /Activated service 'c2s_direct_tls'/.test(readOrEmpty(logFile)), 15000, () => readOrEmpty(logFile).slice(-3000));
        const sasl2 = library.prosody.extraHostModules.includes('sasl2');
        expect(await tryLogin(port, domain, 'alice', 'alice password')).toBe('success');
        const guesses: string[] = [];
        for (const guess of ['guess 1', 'guess 2', 'guess 3']) guesses.push(await tryLogin(port, domain, 'alice', guess));
        let lastFailure = Date.now();
        expect(guesses).toEqual(['not-authorized', 'not-authorized', 'not-authorized']);
        // Alice is refused before her password is looked at: over SASL and SASL2, by PLAIN and by SCRAM.
        const alice = [await tryLogin(port, domain, 'alice', 'alice password'), await scramFirst('alice')];
        if (sasl2) alice.push(await tryLogin(port, domain, 'alice', 'alice password', true), await scramFirst('alice', true));
        expect(alice).toEqual(alice.map(() => 'temporary-auth-failure'));
        // Bob, behind the same address (a household's NAT), is not.
        expect(await scramFirst('bob')).toBe('challenge');
        expect(await tryLogin(port, domain, 'bob', 'bob password')).toBe('success');
        // Guessing across accounts: the fifth failure from the address refuses everyone there.
        const spread = [await tryLogin(port, domain, 'bob', 'guess 1'), await tryLogin(port, domain, 'nobody', 'guess 1')];
        lastFailure = Date.now();
        expect(spread).toEqual(['not-authorized', 'not-authorized']);
        expect(await tryLogin(port, domain, 'bob', 'bob password')).toBe('temporary-auth-failure');
        expect(await scramFirst('bob')).toBe('temporary-auth-failure');
        expect(Date.now() - lastFailure).toBeLessThan(WINDOW_SECONDS * 1000);
        expect(readOrEmpty(logFile)).toContain(`Refusing logins to alice@${domain} from 127.0.0.1 for ${WINDOW_SECONDS} s after 3 failed attempts`);
        expect(readOrEmpty(logFile)).toContain(`Refusing logins from 127.0.0.1 for ${WINDOW_SECONDS} s after 5 failed attempts`);
        await new Promise((resolve) => setTimeout(resolve, lastFailure + WINDOW_SECONDS * 1000 + 500 - Date.now()));
        expect(await tryLogin(port, domain, 'alice', 'alice password')).toBe('success');
        expect(await tryLogin(port, domain, 'bob', 'bob password')).toBe('success');
        if (sasl2) expect(await tryLogin(port, domain, 'alice', 'alice password', true)).toBe('success');
        // XEP-0377: a report attached to a block reaches the operator's log where the platform takes reports.
        const report = "<iq type='set' id='probe'><block xmlns='urn:xmpp:blocking'><item jid='spammer@elsewhere.example'>" +
          "<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'><text>buy now</text></report></item></block></iq>";
        expect(await sendAsUser(port, domain, 'alice', 'alice password', report)).toMatch(/type=['"]result['"]/);
        const reported = "Received report of spam from JID 'spammer@elsewhere.example', buy now";
        if (library.prosody.abuse.hostModules.includes('spam_reporting')) await waitFor(() => readOrEmpty(logFile).includes(reported), 5000, () => readOrEmpty(logFile).slice(-2000));
        else expect(readOrEmpty(logFile)).not.toContain(reported);
        const problems = readOrEmpty(logFile).split('\n').filter((l) => /\t(error|warn)\t/.test(l) && !l.includes('Refusing logins') && !l.includes(reported));
        expect(problems).toEqual([]);
      } finally {
        await stopProcess(child);
      }
    }, 90000);
  });

  /**
   * A host serving hundreds of domains: the expanded configuration (the template repeated for every
   * line of domains.list) loads in the platform's real Prosody, every domain and component is a
   * running host, and the server's memory stays within what `estimateProsodyMemoryMiB` (the droplet
   * size check) assumes for that platform. Logged at info, as on the host: at debug, 0.12's
   * certmanager logs its whole certificate index on every lookup, which alone takes minutes with
   * hundreds of certificates.
   */
  describeUnless(platformMissing, `the real ${library.prosody.label} of ${library.label} serving hundreds of domains`, () => {
    const DOMAINS = 200;
    const spec = resolveSpec(onImage({
      ...minimalSpec,
      domains: Array.from({ length: DOMAINS }, (_, i) => (i === 0 ? 'example.net' : `customer-${String(i).padStart(4, '0')}.example`)),
      // The size the droplet size check asks for on every platform.
      droplet: { size: 's-1vcpu-2gb' },
    }, platform.image));
    let dir: string;

    beforeAll(() => {
      dir = makeTempDir('prosody-many');
      mkdirSync(join(dir, 'data'));
      mkdirSync(join(dir, 'certs'));
      writeFileSync(join(dir, 'secrets.cfg.lua'), renderProsodySecretsInclude('0123456789abcdef'.repeat(4)));
      // A certificate per domain, as certbot leaves them; one key for all keeps this quick.
      const key = join(dir, 'key.pem');
      execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
      for (const domain of spec.domains) {
        const certDir = join(dir, 'certs', domain.name);
        mkdirSync(certDir);
        execFileSync('openssl', ['req', '-x509', '-key', key, '-days', '2', '-subj', `/CN=${domain.name}`,
          '-addext', `subjectAltName=${certificateNames(spec, domain).map((n) => `DNS:${n}`).join(',')}`, '-out', join(certDir, 'fullchain.pem')], { stdio: 'ignore' });
        copyFileSync(key, join(certDir, 'privkey.pem'));
      }
      writeFileSync(join(dir, 'run.cfg.lua'), harnessConfig(spec, dir, 25500 + 100 * platformIndex).replace(/^log = \{ debug = /m, 'log = { info = '));
      chownToProsody(dir);
      // 200 certificates from openssl: seconds on a quiet machine, much longer on a busy one.
    }, 300000);
    afterAll(() => { if (!process.env.KEEP_TMP) removeDir(dir); });

    test(`Prosody starts with ${DOMAINS} VirtualHosts and their components, all running, within the memory the size check assumes for ${library.label}`, async () => {
      const log = join(dir, 'prosody.log');
      const config = join(dir, 'run.cfg.lua');
      const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
      const shell = (lua: string): Promise<string> => askShell(asProsody, config, lua, 120000, isJson);
      const last = spec.domains[DOMAINS - 1].components.at(-1)!.host;
      try {
        // Hosts are set up in order; the last component's certificate is the last thing loaded.
        await waitFor(() => readOrEmpty(log).includes(`${last}:tls\tinfo\tCertificates loaded`) && existsSync(join(dir, 'data', 'prosody.sock')), 300000, () => readOrEmpty(log).slice(-2000));
        const planned = spec.domains.flatMap((d) => [d.name, ...d.components.map((c) => c.host)]).sort();
        const running = JSON.parse(await shell('require"util.json".encode(require"util.array".collect(require"util.iterators".keys(hosts)):sort())'));
        expect(running).toEqual(planned);
        expect(JSON.parse(await shell(`require"util.json".encode(require"util.array".collect(require"util.iterators".keys(hosts[${JSON.stringify(spec.domains[DOMAINS - 1].name)}].modules)))`))).toEqual(expect.arrayContaining(['mam', 'smacks', 'invites']));
        const pid = Number(readOrEmpty(join(dir, 'prosody.pid')).trim());
        const rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(readOrEmpty(`/proc/${pid}/status`))?.[1]) / 1024;
        console.log(`${library.prosody.label} on ${library.label} with ${DOMAINS} domains (${planned.length} hosts): ${rssMiB.toFixed(0)} MiB resident; estimated ${estimateProsodyMemoryMiB(spec)} MiB`);
        expect(rssMiB).toBeGreaterThan(0);
        expect(rssMiB).toBeLessThanOrEqual(estimateProsodyMemoryMiB(spec));
        const problems = readOrEmpty(log).split('\n').filter((l) => /\t(error|warn)\t/.test(l));
        expect(problems.slice(0, 5)).toEqual([]);
      } finally {
        await stopProcess(child);
      }
      // As long as its own waits allow (5 minutes for the hosts, 2 for the admin shell), not jest's 60 s.
    }, 480000);
  });
});
