/**
 * xmpp-constructs: the engine-agnostic core. Importing this loads neither cdktf nor Pulumi.
 * Engine adapters: `xmpp-constructs/cdktf` and `xmpp-constructs/pulumi`; the live-service checker:
 * `xmpp-constructs/doctor`.
 *
 * What is exported here is the package's public API: the declaration's types, its validation, and
 * the planners a user composes (the plan of a whole service, and its parts: DNS records, firewall,
 * listeners, lifecycle, review files, the doctor's checks). Everything else is internal and may
 * change in any release.
 */

// The declaration: what a user writes, and what it resolves to.
export type {
  AcmeSpec,
  AlertsSpec,
  BackupRetentionSpec,
  CallsSpec,
  ComponentKind,
  ComponentsSpec,
  ConfigChannel,
  ConfigDeliverySpec,
  ContactAddressesSpec,
  ContactRole,
  DnsSpec,
  DomainSpec,
  DropletSpec,
  FederationSpec,
  FileShareSpec,
  GroupChatSpec,
  MonitorWindow,
  OffsiteBackupsSpec,
  PortsSpec,
  Proxy65Spec,
  PubsubSpec,
  RegistrationPolicy,
  ResolvedAlerts,
  ResolvedComponent,
  ResolvedConfigDelivery,
  ResolvedDomain,
  ResolvedOffsiteBackups,
  ResolvedSpec,
  RoomCreationPolicy,
  SlackAlertsSpec,
  TurnPlacement,
  UptimePeriod,
  WebSpec,
  XmppServiceSpec,
  ZoneHosting,
} from './core/spec';
export { COMPONENT_KINDS, CONFIG_CHANNELS, CONTACT_ROLES, MONITOR_WINDOWS, REGISTRATION_POLICIES, ROOM_CREATION_POLICIES, TURN_PLACEMENTS, UPTIME_PERIODS, ZONE_HOSTINGS } from './core/spec';
export { DEFAULTS } from './core/defaults';
export { RESERVED_IPV6_REGIONS, SPACES_REGIONS } from './core/regions';
// The platforms a droplet can run (`droplet.image` selects one; `droplet.platform` names a snapshot's).
export { PLATFORM_NAMES, SUPPORTED_IMAGES } from './core/platforms';
export type { PlatformName } from './core/platforms';

// Validation: every problem at once, each naming the field, the value and the fix.
export { resolveSpec, SpecValidationError } from './core/validate';
export type { Problem, SpecIssue } from './core/validate';

// The plan of a whole service, as both adapters build it.
export { planService } from './core/service-plan';
export type { ConfigChannelPlan, FirewallResourcePlan, FirewallRole, OffsiteBackupsPlan, ProsodyHostPlan, ServicePlan, ServicePlanOptions, TurnPlan } from './core/service-plan';
export type { DropletAttributes } from './core/resources';
export { planAlerts, UPTIME_REGIONS } from './core/alerts';
export type { AlertNotifications, AlertsPlan, MonitorAlertAttributes, MonitoredDroplet, UptimeAlertAttributes, UptimeCheckAttributes } from './core/alerts';
export type { IsDeployTimeValue, SpecWithDeployTimeSecret } from './core/deploy-time';
export { planHosts, checkHostAssignments } from './core/hosts';
export type { HostAssignment } from './core/hosts';
export { plannedOutputs, SERVICE_OUTPUTS } from './core/outputs';
export type { ServiceOutputName } from './core/outputs';

// Its parts, for a stack composed by hand.
export { planLifecycles, REPLACEMENT_ORDERS, RESOURCE_ROLES } from './core/lifecycle';
export type { LifecycleIntent, LifecyclePlan, Protection, ReplacementOrder, ResourceRole } from './core/lifecycle';
export { planListeners } from './core/listeners';
export type { Exposure, Listener, ListenerHost, ListenerId, ListenerSpec, ListenerTls, PortRange, TlsMode } from './core/listeners';
export { planFirewall, planTurnFirewall } from './core/firewall';
export type { FirewallPlan, FirewallProtocol, FirewallRulePlan } from './core/firewall';
export { planDigitalOceanRecords, planDnsRecords, zonesByHosting } from './core/dns';
export type { AddressRef, AddressSource, DnsRecordPlan, DnsRecordType, ZonesByHosting } from './core/dns';
export { renderExternalZoneFiles, renderZoneFiles } from './core/zone';
export type { ZoneAddresses, ZoneFileOptions } from './core/zone';
export { renderCloudInit, renderTurnCloudInit, UserDataTooLargeError, USER_DATA_LIMIT_BYTES } from './core/cloud-init';
export type { CloudInitOptions, HostFile, RenderedHost } from './core/cloud-init';
/** The Converse.js release the web client serves (`web.client`): name, version, npm integrity, licence. */
export { WEB_CLIENT_PACKAGE } from './core/web-client';
export type { ConfigBundle } from './core/config-bundle';
export { renderReviewFiles } from './core/review';
export { DOCTOR_PLAN_FORMAT, planDoctorChecks, renderDoctorPlan } from './core/doctor-plan';
export type { DoctorPlan, PlannedPort, PlannedRecord, PlannedTlsEndpoint } from './core/doctor-plan';
