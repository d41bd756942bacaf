/**
 * xmpp-constructs/cdktf: the constructs for CDK for Terraform. The synthesized JSON also applies
 * with OpenTofu. Provider resources are deep-imported, so only the ones used are loaded.
 */
export * from './xmpp-domain-records';
export * from './prosody-host';
export * from './turn-server';
export * from './nginx-proxy';
export * from './firewall-rules';
export * from './xmpp-service';
export { writeReviewFilesOnSynth } from './review-files';
export * from './spec';
export * from './xmpp-fleet';
