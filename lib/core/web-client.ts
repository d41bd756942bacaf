/**
 * The web client: Converse.js, served by nginx at `https://<domain>/`, for the people who will not
 * install an app.
 *
 * Where: on the domain's own name, the origin that already answers host-meta, BOSH and WebSocket, so
 * that the client talks to nothing but its own origin (`connect-src 'self'` and the upload host), and
 * a new domain needs no further DNS record or certificate name. Never on a component's name: uploaded
 * files are served from the upload component's origin (`https://upload.<domain>/file_share/…`), and a
 * file there must never share an origin with the client, whose storage (IndexedDB: the session, the
 * OMEMO keys) any script of its origin could read. The client sets no cookies and Prosody's pages on
 * the same origin (invitations, web registration) set none, so nothing of one leaks to the other.
 *
 * How it arrives: the package's files never travel in user_data (megabytes, against DigitalOcean's
 * 64 KiB). The host downloads the pinned npm tarball from the registry and installs it only if its
 * SHA-512 is the one pinned here (lib/host/web-client.sh). Without a route to the registry the
 * service runs without its web client, `https://<domain>/` answers 404, and a timer retries every
 * 15 minutes. The pin changes with this library, never by itself.
 */
import { createHash } from 'crypto';
import { ResolvedDomain, ResolvedSpec } from './spec';
import { xmppName } from './expansion';
import { HOST_META_JSON_PATH } from './nginx';

/**
 * The Converse.js release the web client is, as the npm registry publishes it (MPL-2.0). The
 * integrity is the registry's (`npm view converse.js@<version> dist.integrity`), and the lockfile's
 * for the same devDependency, which a test holds it to.
 */
export const WEB_CLIENT_PACKAGE = {
  name: 'converse.js',
  version: '14.0.0',
  integrity: 'sha512-LFUg030jDalV47vI/vyVPqYPZfJYXFbubq8v0cFDe2zXNeeGEk3Up0Fj/WTzT6t+6do+cAIToy73eAj7RNDj2Q==',
  license: 'MPL-2.0',
} as const;

/** Where the host downloads a package's tarball from: the npm registry's own address for it. */
export function npmTarballUrl(pkg: { readonly name: string; readonly version: string }): string {
  return `https://registry.npmjs.org/${pkg.name}/-/${pkg.name}-${pkg.version}.tgz`;
}

/** The npm integrity string of `tarball`'s bytes, to compare with a pin. */
export function npmIntegrityOf(tarball: Buffer): string {
  return `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
}

/** The installer (lib/host/web-client.sh) and the timer that retries it while the registry is out of reach. */
export const WEB_CLIENT_SCRIPT = '/usr/local/sbin/xmpp-constructs-web-client';
export const WEB_CLIENT_SERVICE = '/etc/systemd/system/xmpp-constructs-web-client.service';
export const WEB_CLIENT_TIMER = '/etc/systemd/system/xmpp-constructs-web-client.timer';
/** Each installed release in a directory of its own; `current` links to the one nginx serves. */
export const WEB_CLIENT_ROOT = '/var/www/xmpp-constructs-web';
export const WEB_CLIENT_SERVED_ROOT = `${WEB_CLIENT_ROOT}/current`;
/**
 * The page and the module that starts Converse, copied beside the package's files: the same for every
 * deployment (what differs comes from WEB_CLIENT_DOMAIN_MODULE_PATH), so they are this library's own
 * code, which user_data may carry compressed.
 */
export const WEB_CLIENT_FILES_DIR = '/usr/local/lib/xmpp-constructs/web-client';
export const WEB_CLIENT_INDEX = `${WEB_CLIENT_FILES_DIR}/index.html`;
export const WEB_CLIENT_MODULE = `${WEB_CLIENT_FILES_DIR}/web-client.js`;
/** The URL path of the package's dist/ files (Converse's `assets_path`). */
export const WEB_CLIENT_ASSETS_PATH = '/converse/';
/** The URL path of the module that tells the client which domain it serves; nginx writes it per domain. */
export const WEB_CLIENT_DOMAIN_MODULE_PATH = '/web-client-domain.js';

/** Whether `spec` serves the web client. */
export function servesWebClient(spec: ResolvedSpec): boolean {
  return spec.web.client;
}

/** The page at `https://<domain>/`. Everything it loads is on its own origin; it has no inline script or style. */
export function renderWebClientIndex(): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Chat</title>',
    `<link rel="icon" href="${WEB_CLIENT_ASSETS_PATH}images/favicon.ico">`,
    `<link rel="stylesheet" href="${WEB_CLIENT_ASSETS_PATH}converse.min.css">`,
    // Converse finds its WebAssembly (OMEMO's cryptography) beside its own script element.
    `<script type="module" src="${WEB_CLIENT_ASSETS_PATH}converse.min.js"></script>`,
    '<script type="module" src="/web-client.js"></script>',
    '</head>',
    '<body class="converse-fullscreen">',
    '<noscript>This chat needs JavaScript. Any XMPP app works with your account as well.</noscript>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * The module that starts Converse, the same for every domain: what differs (the domain, its upload
 * and group chat names) comes from WEB_CLIENT_DOMAIN_MODULE_PATH, which nginx answers per domain.
 */
export function renderWebClientModule(): string {
  return `// Rendered by xmpp-constructs: starts Converse.js ${WEB_CLIENT_PACKAGE.version} for this domain.
import names from '${WEB_CLIENT_DOMAIN_MODULE_PATH}';
import converse from '${WEB_CLIENT_ASSETS_PATH}converse.min.js';

// Converse's own footer (in fullscreen) shows its sponsors' logos from conversejs.org, which this
// page's policy refuses. Defined first, this one takes its place (Converse defines only elements
// not yet defined): the client, its licence and where its source is, loading nothing.
customElements.define('converse-footer', class extends HTMLElement {
  connectedCallback() {
    if (this.childElementCount > 0) return;
    const line = document.createElement('p');
    line.className = 'brand-subtitle text-center mt-3';
    const source = document.createElement('a');
    source.href = 'https://github.com/conversejs/converse.js';
    source.rel = 'noopener';
    source.textContent = 'source';
    line.append('Converse.js ${WEB_CLIENT_PACKAGE.version}, free software under the MPL-2.0 (', source, ')');
    this.append(line);
  }
});

// Media shows inline only from this domain's upload service: the page's Content-Security-Policy
// allows no other origin, so other servers' files appear as links instead of broken images.
const ownMedia = names.upload === undefined ? [] : [names.upload];

// The transports from the domain's host-meta (XEP-0156): WebSocket, else BOSH. Read here rather than
// by Converse's own discovery, which in 14.0.0 takes the domain from the login form before it adds
// locked_domain, and so asks the host named as the user instead of the domain.
const links = (await (await fetch('${HOST_META_JSON_PATH}')).json()).links;
const link = (rel) => links.find((l) => l.rel === rel)?.href;
const websocket = link('urn:xmpp:alt-connections:websocket');
const transport = websocket === undefined ? { bosh_service_url: link('urn:xmpp:alt-connections:xbosh') } : { websocket_url: websocket };

converse.initialize({
  assets_path: '${WEB_CLIENT_ASSETS_PATH}',
  view_mode: 'fullscreen',
  // Accounts of this domain only, which users log in to with their name alone.
  locked_domain: names.domain,
  discover_connection_methods: false,
  ...transport,
  ...(names.groupChat === undefined ? {} : { muc_domain: names.groupChat }),
  // Converse sends what is typed as a group chat's address, as a search, to search.jabber.network
  // unless told another service; and 14.0.0 shows no address field without one. The domain itself
  // answers that it offers no such search, and nothing typed leaves the server.
  muc_search_service: names.domain,
  // Chats with people who are not (yet) contacts, as every XMPP app allows: the invited guest
  // writing to the person who invited them, and their answer.
  allow_non_roster_messaging: true,
  // Entering a group chat is not asking to be its member, which registering a nickname makes one.
  auto_register_muc_nickname: false,
  omemo_default: true,
  allowed_image_domains: ownMedia,
  allowed_audio_domains: ownMedia,
  allowed_video_domains: ownMedia,
  // No requests to third parties: no link's headers, no embedded players, no emoji images from a
  // CDN, no lists of providers.
  fetch_url_headers: false,
  embed_3rd_party_media_players: false,
  use_system_emojis: true,
  xmpp_providers_url: '',
  autocomplete_providers_url: '',
  providers_link: '',
  // Accounts come from invitations, never from a form here.
  allow_registration: false,
  // On a shared computer the login form's "trusted device" box, left unticked, keeps nothing once the
  // tab is closed (and OMEMO off). clear_cache_on_logout would turn OMEMO off everywhere.
});
`;
}

/** The names the client of `domain` needs: its XMPP name, and its upload and group chat services. */
export interface WebClientDomain {
  readonly domain: string;
  readonly upload?: string;
  readonly groupChat?: string;
}

export function webClientDomain(domain: ResolvedDomain): WebClientDomain {
  const host = (kind: string) => domain.components.find((c) => c.kind === kind)?.host;
  const [upload, groupChat] = [host('fileShare'), host('groupChat')];
  return { domain: xmppName(domain.name), ...(upload === undefined ? {} : { upload }), ...(groupChat === undefined ? {} : { groupChat }) };
}

/** The body of WEB_CLIENT_DOMAIN_MODULE_PATH for `domain`: one line, its names as a default export. */
export function renderWebClientDomainModule(domain: ResolvedDomain): string {
  return `export default ${JSON.stringify(webClientDomain(domain))};`;
}

/**
 * The Content-Security-Policy of the client of `domain`: its own origin, the domain's WebSocket and
 * upload service, nothing else. `'wasm-unsafe-eval'` lets OMEMO compile its WebAssembly crypto (it
 * allows no `eval` of strings); `style-src 'unsafe-inline'` is for the style elements Converse's
 * bundle injects and the style attributes its templates set (without it, well over a hundred
 * violations, and a broken layout). No inline script runs: the page has none.
 */
export function webClientCsp(spec: ResolvedSpec, domain: ResolvedDomain): string {
  const upload = webClientDomain(domain).upload;
  const uploadOrigin = upload === undefined ? [] : [`https://${upload}`];
  const directives: [string, ...string[]][] = [
    ['default-src', "'none'"],
    ['script-src', "'self'", "'wasm-unsafe-eval'"],
    ['style-src', "'self'", "'unsafe-inline'"],
    ['img-src', "'self'", 'data:', 'blob:', ...uploadOrigin],
    ['media-src', "'self'", 'blob:', ...uploadOrigin],
    ['connect-src', "'self'", ...(spec.web.websocket ? [`wss://${domain.name}`] : []), ...uploadOrigin],
    ['font-src', "'self'"],
    ['manifest-src', "'self'"],
    ['worker-src', "'self'"],
    ['frame-ancestors', "'none'"],
    ['base-uri', "'none'"],
    ['form-action', "'self'"],
  ];
  return directives.map((d) => d.join(' ')).join('; ');
}

/** Runs WEB_CLIENT_SCRIPT once. */
export function renderWebClientService(): string {
  return `[Unit]
Description=xmpp-constructs: install the pinned web client (Converse.js ${WEB_CLIENT_PACKAGE.version})
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${WEB_CLIENT_SCRIPT}
`;
}

/** Retries the installation every 15 minutes: a no-op, without a download, once the release is in place. */
export function renderWebClientTimer(): string {
  return `[Unit]
Description=xmpp-constructs: install the web client once the npm registry answers

[Timer]
OnBootSec=5min
OnUnitInactiveSec=15min

[Install]
WantedBy=timers.target
`;
}

/** host.env's lines for the web client: whether it is served and, if so, which release from where. */
export function webClientHostEnv(spec: ResolvedSpec): [string, string][] {
  if (!servesWebClient(spec)) return [['WEB_CLIENT', '0']];
  return [
    ['WEB_CLIENT', '1'],
    // The script downloads npmTarballUrl(WEB_CLIENT_PACKAGE) for this version, and checks it against the integrity.
    ['WEB_CLIENT_VERSION', WEB_CLIENT_PACKAGE.version],
    ['WEB_CLIENT_INTEGRITY', WEB_CLIENT_PACKAGE.integrity],
  ];
}
