import { DigitaloceanProvider } from '@cdktf/provider-digitalocean/lib/provider';
import { LocalBackend, TerraformBackend, TerraformOutput, TerraformStack, Token } from 'cdktf';
import { Construct } from 'constructs';
import { firstAdminInstructions, plannedOutputs, SERVICE_OUTPUTS, ServiceOutputName, sshInstructions } from '../core/outputs';
import { serviceAddresses } from '../core/resources';
import { renderExternalZoneFilesWithTokens } from '../core/zone';
import { ResolvedSpec, XmppServiceSpec } from '../core/spec';
import { FirewallRules } from './firewall-rules';
import { outputName } from './ids';
import { NginxProxy } from './nginx-proxy';
import { ProsodyHost } from './prosody-host';
import { writeReviewFilesOnSynth } from './review-files';
import { TurnServer } from './turn-server';
import { CdktfServicePlan, planForCdktf } from './spec';
import { XmppDomainRecords } from './xmpp-domain-records';
import { ServiceAlerts } from './service-alerts';

export interface XmppServiceProps {
  /** The whole service, declared once. Invalid input fails here with the core's message. */
  readonly spec: XmppServiceSpec;
  /**
   * DNS zones that already exist in your DigitalOcean account; records go into them and the zones
   * themselves are left alone.
   * @default - a zone is created for every XMPP domain
   */
  readonly existingZones?: readonly string[];
  /**
   * DigitalOcean project for the droplet, volume and reserved IP.
   * @default - the account's default project
   */
  readonly projectId?: string;
  /**
   * Tags for the droplet and the volume.
   * @default - none
   */
  readonly tags?: readonly string[];
  /**
   * UUID of the VPC the droplet joins.
   * @default - the region's default VPC
   */
  readonly vpcUuid?: string;
  /**
   * Refuse to destroy the data volume.
   * @default true
   */
  readonly protectVolume?: boolean;
  /**
   * Refuse to destroy the reserved IPv4 and IPv6 addresses the domains point at (see `ProsodyHost`).
   * @default true
   */
  readonly protectReservedIps?: boolean;
  /**
   * Write `moved` blocks that carry DNS state over from the layout of xmpp-constructs 0.1 (see
   * `XmppDomainRecordsProps.movedFromFormerDnsLayout`); false once an apply with this version has run.
   * @default true
   */
  readonly movedFromFormerDnsLayout?: boolean;
  /**
   * Write the rendered files next to the synthesized stack (`stacks/<stack>/review/<id>/`)
   * for review in pull requests. Secrets are never written.
   * @default true
   */
  readonly writeReviewFiles?: boolean;
}

/**
 * A complete XMPP service from one declaration: DNS records, the Prosody droplet with its volume
 * and reserved IP, coturn, nginx and the cloud firewall, wired together. It creates neither the
 * provider nor the backend, so it fits into any stack; `XmppStack` is the one-line alternative.
 */
export class XmppService extends Construct {
  /** The declaration with every default filled in. */
  public readonly spec: ResolvedSpec;
  public readonly host: ProsodyHost;
  public readonly records: XmppDomainRecords;
  public readonly turn: TurnServer;
  public readonly nginx: NginxProxy;
  public readonly firewall: FirewallRules;
  /** The uptime check and the monitor alerts, when the spec declares `alerts`. */
  public readonly alerts?: ServiceAlerts;
  /**
   * Outputs by short name (`ipv4`, `ipv6`, `reserved_ipv4`, `reserved_ipv6` with a reserved IPv6,
   * `turn_ipv4` when dedicated, `domains`, `ssh`, `first_admin`, and `zone_files` when a domain's
   * zone is external).
   */
  public readonly outputs: { readonly [name: string]: TerraformOutput } = {};

  /** Everything the service deploys, planned once from `props.spec`; the children are built from it. */
  public readonly plan: CdktfServicePlan;

  /**
   * @param plan the plan of `props.spec` when the caller has made it already (as `XmppFleet` has,
   * to check its hosts together); planned here otherwise.
   */
  constructor(scope: Construct, id: string, props: XmppServiceProps, plan?: CdktfServicePlan) {
    super(scope, id);
    this.plan = plan ?? planForCdktf(props.spec, props);
    this.spec = this.plan.spec;
    const spec = this.spec;

    this.host = new ProsodyHost(this, 'Host', { plan: this.plan, projectId: props.projectId, tags: props.tags, vpcUuid: props.vpcUuid });
    this.turn = new TurnServer(this, 'Turn', { plan: this.plan, tags: props.tags, vpcUuid: props.vpcUuid });
    const turnDroplet = this.turn.droplet;
    this.nginx = new NginxProxy(this, 'Nginx', { plan: this.plan });
    this.records = new XmppDomainRecords(this, 'Records', {
      plan: this.plan,
      movedFromFormerDnsLayout: props.movedFromFormerDnsLayout,
      addresses: serviceAddresses(
        spec,
        { reservedIpv4: this.host.reservedIp.ipAddress, reservedIpv6: this.host.reservedIpv6?.ip, ipv4: this.host.droplet.ipv4Address, ipv6: this.host.droplet.ipv6Address },
        turnDroplet && { ipv4: turnDroplet.ipv4Address, ipv6: turnDroplet.ipv6Address },
      ),
    });
    this.firewall = new FirewallRules(this, 'Firewall', { plan: this.plan, dropletIds: [Token.asNumber(this.host.droplet.id)] });
    if (this.plan.alerts) {
      this.alerts = new ServiceAlerts(this, 'Alerts', { plan: this.plan, dropletIds: { 'prosody-host': this.host.droplet.id, 'turn-host': turnDroplet?.id } });
    }

    const values: { readonly [name in ServiceOutputName]: () => string | readonly string[] | { readonly [key: string]: string } } = {
      ipv4: () => this.host.droplet.ipv4Address,
      ipv6: () => this.host.droplet.ipv6Address,
      reserved_ipv4: () => this.host.reservedIp.ipAddress,
      reserved_ipv6: () => this.host.reservedIpv6!.ip,
      turn_ipv4: () => turnDroplet!.ipv4Address,
      domains: () => spec.domains.map((d) => d.name),
      ssh: () => sshInstructions(spec, this.host.reservedIp.ipAddress),
      first_admin: () => firstAdminInstructions(spec),
      zone_files: () => renderExternalZoneFilesWithTokens(spec, this.records.addresses),
      config_bundle: () => this.plan.host.configChannel!.bundleSha256,
    };
    for (const name of plannedOutputs(this.plan)) {
      const o = new TerraformOutput(this, `Output-${name}`, { value: values[name](), description: SERVICE_OUTPUTS[name] });
      o.overrideLogicalId(outputName(id, name));
      (this.outputs as { [name: string]: TerraformOutput })[name] = o;
    }

    if (props.writeReviewFiles ?? true) writeReviewFilesOnSynth(this, id, this.plan.reviewFiles());
  }
}

export interface XmppStackProps extends Omit<XmppServiceProps, 'spec'> {
  /**
   * The whole service, declared once; or a function of the stack giving it, for a declaration that
   * holds the stack's own deploy-time values: `(stack) => ({ …, offsiteBackups: { password: new
   * TerraformVariable(stack, 'backup_password', { type: 'string', sensitive: true }).stringValue } })`.
   */
  readonly spec: XmppServiceSpec | ((stack: TerraformStack) => XmppServiceSpec);
  /**
   * DigitalOcean API token.
   * @default - read by the provider from the DIGITALOCEAN_TOKEN environment variable at deploy time
   */
  readonly token?: string;
  /**
   * Where Terraform/OpenTofu keeps state, e.g. `(stack) => new S3Backend(stack, {…})` for
   * DigitalOcean Spaces.
   * @default - local state in `terraform.<stack id>.tfstate` at the project root, written as a
   * relative path (from `cdktf.out/stacks/<stack id>/`) so the synthesized JSON holds no absolute path
   */
  readonly backend?: (stack: TerraformStack) => TerraformBackend;
}

/** The simple case: a stack holding the DigitalOcean provider and one `XmppService`. */
export class XmppStack extends TerraformStack {
  public readonly provider: DigitaloceanProvider;
  public readonly service: XmppService;

  constructor(scope: Construct, id: string, props: XmppStackProps) {
    super(scope, id);
    if (props.backend) props.backend(this);
    else new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    this.provider = new DigitaloceanProvider(this, 'DigitalOcean', { token: props.token });
    const { token: _token, backend: _backend, spec, ...serviceProps } = props;
    this.service = new XmppService(this, 'Xmpp', { ...serviceProps, spec: typeof spec === 'function' ? spec(this) : spec });
  }
}
