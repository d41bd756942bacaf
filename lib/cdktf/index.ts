/**
 * xmpp-constructs/cdktf: the constructs for CDK for Terraform. The synthesized JSON also applies
 * with OpenTofu. Provider resources are deep-imported, so only the ones used are loaded.
 * What is exported here is public API; the rest of lib/cdktf is internal.
 */
export * from './xmpp-domain-records';
export * from './prosody-host';
export * from './turn-server';
export * from './nginx-proxy';
export * from './firewall-rules';
export * from './service-alerts';
export * from './xmpp-service';
export { writeReviewFilesOnSynth } from './review-files';
export { planForCdktf } from './spec';
export type { CdktfServicePlan } from './spec';
export * from './xmpp-fleet';
// The core's types (the declaration, the plan and its parts), so that one import serves; the
// core's functions come from `xmpp-constructs`.
export type * from '../index';
