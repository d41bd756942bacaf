/**
 * xmpp-constructs/pulumi: the constructs as Pulumi ComponentResources (`xmpp-constructs:index:<Name>`),
 * thin adapters over the same core plans as the cdktf constructs. Provider resources are
 * deep-imported, so only the ones used are loaded. What is exported here is public API; the rest of
 * lib/pulumi is internal.
 */
export * from './xmpp-domain-records';
export * from './prosody-host';
export * from './turn-server';
export * from './nginx-proxy';
export * from './firewall-rules';
export * from './service-alerts';
export * from './xmpp-service';
export { numericDropletId, planForPulumi } from './spec';
export type { PulumiServicePlan, PulumiXmppServiceSpec } from './spec';
export * from './xmpp-fleet';
// The core's types (the declaration, the plan and its parts), so that one import serves; the
// core's functions come from `xmpp-constructs`.
export type * from '../index';
