/**
 * xmpp-constructs/pulumi: the constructs as Pulumi ComponentResources (`xmpp-constructs:index:<Name>`),
 * thin adapters over the same core plans as the cdktf constructs. Provider resources are
 * deep-imported, so only the ones used are loaded.
 */
export * from './xmpp-domain-records';
export * from './prosody-host';
export * from './turn-server';
export * from './nginx-proxy';
export * from './firewall-rules';
export * from './xmpp-service';
export * from './spec';
export * from './xmpp-fleet';
