/**
 * xmpp-constructs: the engine-agnostic core. Importing this loads neither cdktf nor Pulumi.
 * Engine adapters: `xmpp-constructs/cdktf` and `xmpp-constructs/pulumi`.
 */
export * from './core/spec';
export * from './core/validate';
export * from './core/lua';
export * from './core/paths';
export * from './core/dns';
export * from './core/regions';
export * from './core/zone';
export * from './core/firewall';
export * from './core/listeners';
export type { DomainFiles, DomainTemplate } from './core/expansion';
export * from './core/prosody';
export * from './core/nginx';
export * from './core/turn';
export * from './core/host-scripts';
export * from './core/cloud-init';
export * from './core/review';
export * from './core/outputs';
export * from './core/tls';
export * from './core/deploy-time';
export * from './core/backup';
export * from './core/resources';
export * from './core/hosts';
