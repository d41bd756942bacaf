/**
 * What `xmpp-doctor` checks a live deployment against: the records, certificates, TLS endpoints,
 * host-meta documents and ports this spec plans, as plain JSON. Written next to the other review
 * files (`doctor-plan.json`), so the doctor checks exactly what was synthesized, and a reviewer can
 * read what "healthy" means for this service. Holds no secret and no deploy-time address: addresses
 * are named by their source (`reservedIpv4`, …) and compared with what DNS answers.
 */
import { AddressSource, planDnsRecords, recordFqdn, withoutTrailingDot } from './dns';
import { findListener, Listener, ListenerId, planListeners, TlsMode } from './listeners';
import { DOMAIN_PLACEHOLDER, furtherDomains, placeholderDomain } from './expansion';
import { hostMetaLinks } from './nginx';
import { BACKUP_STATUS_PATH, BUNDLE_STATUS_PATH, VOLUME_STATUS_PATH } from './paths';
import { OFFSITE_FRESH_HOURS, spacesEndpoint, STATUS_INTERVAL_MINUTES, VOLUME_FILL } from './backup';
import { certificateNames, hasDedicatedTurnDroplet, ResolvedSpec } from './spec';

export type { TlsMode } from './listeners';

/** The `format` of a doctor plan; the doctor refuses plans of another format. */
export const DOCTOR_PLAN_FORMAT = 'xmpp-constructs/doctor-plan@1';

/** The review file holding the plan. */
export const DOCTOR_PLAN_FILE = 'doctor-plan.json';

/** A record as DNS must answer it. */
export interface PlannedRecord {
  /** Fully qualified, without trailing dot. */
  readonly name: string;
  readonly type: 'A' | 'AAAA' | 'CNAME' | 'SRV' | 'CAA';
  /** A/AAAA: where the address comes from (known only once deployed). CNAME/SRV: the target without trailing dot (`.` for "no service"). CAA: the issuer. */
  readonly value: string | { readonly address: AddressSource };
  readonly port?: number;
  readonly priority?: number;
  readonly weight?: number;
  readonly tag?: string;
}

/** A port where a client meets a certificate. */
export interface PlannedTlsEndpoint {
  /** The name the client connects to and asks for (SNI, and the stream's `to`). */
  readonly name: string;
  readonly port: number;
  readonly mode: TlsMode;
  /** ALPN protocol the client offers (XEP-0368 `xmpp-client`/`xmpp-server`, `http/1.1`, or none). */
  readonly alpn?: string;
  /** The certificate lineage served here (a key of `DoctorPlan.certificates`), whose every name it must cover. */
  readonly certificate: string;
  readonly purpose: string;
}

/** A TCP port that must answer, or must not. */
export interface PlannedPort {
  /** The name whose addresses are probed. */
  readonly host: string;
  readonly port: number;
  readonly purpose: string;
}

export interface DoctorPlan {
  readonly format: typeof DOCTOR_PLAN_FORMAT;
  readonly domains: readonly string[];
  readonly records: readonly PlannedRecord[];
  /** Certificate lineages: the lineage name and every name it covers. */
  readonly certificates: Readonly<Record<string, readonly string[]>>;
  readonly tlsEndpoints: readonly PlannedTlsEndpoint[];
  /** The host-meta links each domain publishes (XEP-0156), both as XRD and as JSON. */
  readonly hostMeta: readonly { readonly domain: string; readonly links: readonly { readonly rel: string; readonly href: string }[] }[];
  readonly openTcpPorts: readonly PlannedPort[];
  readonly closedTcpPorts: readonly PlannedPort[];
  /** coturn, when calls are on: STUN over UDP, and TURN with the credentials Prosody hands out. */
  readonly turn?: { readonly host: string; readonly port: number; readonly tlsPort: number; readonly credentialsFrom: string };
  /**
   * With `configDelivery.channel: "spaces"`: the configuration bundle the host must run, and where
   * the host says which it runs (and which it refused).
   */
  readonly configBundle?: { readonly sha256: string; readonly statusUrl: string };
  /**
   * Where the host says how full its data volume is: a warning from `warnPercent`, a failure from
   * `failPercent` (the backup then refuses to run), and a warning when the figure is older than
   * `staleAfterMinutes` (the host publishes it every few minutes). Absent from plans of earlier releases.
   */
  readonly volume?: { readonly statusUrl: string; readonly warnPercent: number; readonly failPercent: number; readonly staleAfterMinutes: number };
  /**
   * With `offsiteBackups`: where the host says how its last off-host backup went (`statusUrl`), and
   * where the restic repository is (the Spaces `endpoint` and `region`, `bucket`, and the folder
   * `repositoryPrefix`), so that with a key that may read the bucket the doctor can see the newest
   * snapshot itself. Either must be younger than `freshHours`. Never the repository password: the
   * doctor needs none, and this plan is a review file.
   */
  readonly offsiteBackups?: {
    readonly endpoint: string;
    readonly region: string;
    readonly bucket: string;
    readonly repositoryPrefix: string;
    readonly statusUrl: string;
    readonly freshHours: number;
  };
}

/** The doctor plan of a resolved spec. Pure; deterministic order. */
export function planDoctorChecks(spec: ResolvedSpec): DoctorPlan {
  const records: PlannedRecord[] = planDnsRecords(spec).map((r) => ({
    name: recordFqdn(r),
    type: r.type,
    value: typeof r.value === 'string' ? withoutTrailingDot(r.value) : { address: r.value.of },
    ...(r.type === 'SRV' ? { port: r.port, priority: r.priority, weight: r.weight } : {}),
    ...(r.type === 'CAA' ? { tag: r.tag } : {}),
  }));

  const listeners = planListeners(spec);
  const certificates: Record<string, readonly string[]> = {};
  const tlsEndpoints: PlannedTlsEndpoint[] = [];
  for (const domain of spec.domains) {
    const lineage = certificateNames(spec, domain);
    certificates[domain.name] = lineage;
    // The listener's port and TLS, probed at `name`: one endpoint per name that clients ask for there.
    const at = (name: string, id: ListenerId, purpose: string): void => {
      const listener = findListener(listeners, id);
      if (!listener?.tls || typeof listener.port !== 'number') return;
      const { mode, alpn } = listener.tls;
      tlsEndpoints.push({ name, port: listener.port, mode, ...(alpn ? { alpn } : {}), certificate: domain.name, purpose });
    };
    at(domain.name, 'c2s', 'XMPP clients (STARTTLS)');
    at(domain.name, 'c2s-direct-tls', 'XMPP clients (direct TLS, XEP-0368)');
    at(domain.name, 's2s', 'other servers (federation)');
    const groupChat = domain.components.find((c) => c.kind === 'groupChat');
    if (groupChat) at(groupChat.host, 's2s', 'other servers joining group chats');
    at(domain.name, 's2s-direct-tls', 'other servers (direct TLS, XEP-0368)');
    // nginx answers HTTPS for every name of the lineage (uploads, BOSH, WebSocket, host-meta).
    for (const name of lineage) {
      if (name === spec.calls.host) continue; // TURN's name is checked on TURN's own TLS port below
      at(name, 'https', name === domain.name ? 'HTTPS: host-meta, BOSH, WebSocket' : 'HTTPS');
    }
  }

  let turn: DoctorPlan['turn'];
  if (spec.calls.enabled) {
    turn = { host: spec.calls.host, port: spec.calls.port, tlsPort: spec.calls.tlsPort, credentialsFrom: spec.primaryDomain };
    // A TURN droplet of its own has a lineage of its own; on the Prosody host coturn serves the primary domain's.
    const lineage = hasDedicatedTurnDroplet(spec) ? spec.calls.host : spec.primaryDomain;
    if (hasDedicatedTurnDroplet(spec)) certificates[lineage] = [spec.calls.host];
    const turnTls = findListener(listeners, 'turn-tls');
    if (turnTls?.tls && typeof turnTls.port === 'number') {
      tlsEndpoints.push({ name: spec.calls.host, port: turnTls.port, mode: turnTls.tls.mode, certificate: lineage, purpose: 'TURN over TLS' });
    }
  }

  // Every public TCP port, probed at the addresses of the name clients use for it: the primary
  // domain for Prosody's and nginx's, the TURN name for coturn's (coturn binds the droplet's own
  // addresses, not the reserved IP) and for everything on a TURN droplet of its own. SSH answers
  // the administrators' networks alone, and relay ranges answer only to allocations.
  const probedAt = (l: Listener): string => (l.daemon === 'coturn' || l.host === 'turn' ? spec.calls.host : spec.primaryDomain);
  const openTcpPorts: PlannedPort[] = listeners
    .filter((l) => l.exposure === 'public' && l.protocol === 'tcp')
    .flatMap((l) => (typeof l.port === 'number' ? [{ host: probedAt(l), port: l.port, purpose: l.purpose }] : []));
  // Prosody's ports that must never answer from outside: its plaintext HTTP ports (nginx fronts
  // them), and the component and console ports it would bind to loopback were they ever enabled.
  const closedTcpPorts: PlannedPort[] = listeners
    .filter((l) => l.exposure === 'loopback' && l.protocol === 'tcp')
    .flatMap((l) => (typeof l.port === 'number' ? [{ host: spec.primaryDomain, port: l.port, purpose: l.purpose }] : []));

  return {
    format: DOCTOR_PLAN_FORMAT,
    domains: spec.domains.map((d) => d.name),
    records,
    certificates,
    tlsEndpoints,
    hostMeta: spec.domains.map((d) => ({ domain: d.name, links: hostMetaLinks(spec, d.name) })),
    openTcpPorts: dedupePorts(openTcpPorts),
    closedTcpPorts,
    ...(turn ? { turn } : {}),
    volume: {
      statusUrl: `https://${spec.primaryDomain}${VOLUME_STATUS_PATH}`,
      warnPercent: VOLUME_FILL.warnPercent,
      failPercent: 100 - VOLUME_FILL.keepFreePercent,
      staleAfterMinutes: 3 * STATUS_INTERVAL_MINUTES,
    },
    ...(spec.offsiteBackups ? {
      offsiteBackups: {
        endpoint: spacesEndpoint(spec.offsiteBackups.region),
        region: spec.offsiteBackups.region,
        bucket: spec.offsiteBackups.bucket,
        repositoryPrefix: spec.offsiteBackups.repositoryPrefix,
        statusUrl: `https://${spec.primaryDomain}${BACKUP_STATUS_PATH}`,
        freshHours: OFFSITE_FRESH_HOURS,
      },
    } : {}),
  };
}

/** The first of each host and port: coturn's TCP and TLS rules both open a port on the TURN name. */
function dedupePorts(ports: readonly PlannedPort[]): PlannedPort[] {
  const byAddress = new Map<string, PlannedPort>();
  for (const p of ports) if (!byAddress.has(`${p.host}:${p.port}`)) byAddress.set(`${p.host}:${p.port}`, p);
  return [...byAddress.values()];
}

/** The parts of a plan that repeat for every domain but the first. */
export interface PerDomainPlan {
  readonly records: DoctorPlan['records'];
  readonly certificates: DoctorPlan['certificates'];
  readonly tlsEndpoints: DoctorPlan['tlsEndpoints'];
  readonly hostMeta: DoctorPlan['hostMeta'];
}

/**
 * The plan as the review file holds it: the first domain and the shared parts written out, every
 * further domain as one template (like the host's configuration, see expansion.ts). Written out,
 * a thousand domains would make a 3 MB file that every pull request diffs and every synthesis writes.
 */
export interface DoctorPlanFile extends DoctorPlan {
  readonly furtherDomains?: { readonly placeholder: string; readonly names: readonly string[]; readonly template: PerDomainPlan };
}

/** The plan file's content for `spec`; `expandDoctorPlan` turns it back into `planDoctorChecks(spec)`. */
export function renderDoctorPlanFile(spec: ResolvedSpec): DoctorPlanFile {
  const names = furtherDomains(spec);
  if (names.length === 0) return planDoctorChecks(spec);
  // The first domain and one placeholder domain: everything mentioning the placeholder is the template.
  const skeleton = planDoctorChecks({ ...spec, domains: [spec.domains[0], placeholderDomain(spec)] });
  const mentions = (value: unknown) => JSON.stringify(value).includes(DOMAIN_PLACEHOLDER);
  const split = <T>(items: readonly T[]) => [items.filter((i) => !mentions(i)), items.filter(mentions)] as const;
  const [records, recordTemplate] = split(skeleton.records);
  const [tlsEndpoints, tlsTemplate] = split(skeleton.tlsEndpoints);
  const [hostMeta, hostMetaTemplate] = split(skeleton.hostMeta);
  const certificates = Object.fromEntries(Object.entries(skeleton.certificates).filter(([lineage]) => lineage !== DOMAIN_PLACEHOLDER));
  return {
    ...skeleton,
    domains: spec.domains.map((d) => d.name),
    records,
    certificates,
    tlsEndpoints,
    hostMeta,
    furtherDomains: {
      placeholder: DOMAIN_PLACEHOLDER,
      names,
      template: {
        records: recordTemplate,
        certificates: { [DOMAIN_PLACEHOLDER]: skeleton.certificates[DOMAIN_PLACEHOLDER] },
        tlsEndpoints: tlsTemplate,
        hostMeta: hostMetaTemplate,
      },
    },
  };
}

/** Every domain written out: the plan the doctor checks. */
export function expandDoctorPlan(file: DoctorPlanFile): DoctorPlan {
  const { furtherDomains: further, ...plan } = file;
  if (!further) return plan;
  const template = JSON.stringify(further.template);
  const expanded = further.names.map((name) => JSON.parse(template.split(further.placeholder).join(name)) as PerDomainPlan);
  return {
    ...plan,
    records: [...plan.records, ...expanded.flatMap((d) => d.records)],
    certificates: Object.assign({}, plan.certificates, ...expanded.map((d) => d.certificates)),
    tlsEndpoints: [...plan.tlsEndpoints, ...expanded.flatMap((d) => d.tlsEndpoints)],
    hostMeta: [...plan.hostMeta, ...expanded.flatMap((d) => d.hostMeta)],
  };
}

/** The review file's text. */
export function renderDoctorPlan(spec: ResolvedSpec, bundleSha256?: string): string {
  const plan = renderDoctorPlanFile(spec);
  const configBundle = bundleSha256 === undefined ? undefined : { sha256: bundleSha256, statusUrl: `https://${spec.primaryDomain}${BUNDLE_STATUS_PATH}` };
  return `${JSON.stringify(configBundle ? { ...plan, configBundle } : plan, null, 2)}\n`;
}
