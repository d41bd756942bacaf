/**
 * Lifecycle intents: decided once in the core, mapped by each engine adapter onto its own terms.
 * The parity test holds the two engines' results equal; these tests hold each mapping to its meaning.
 */
import { terraformLifecycle } from '../../lib/cdktf/spec';
import { LifecycleIntent, planLifecycles, RESOURCE_ROLES } from '../../lib/core/lifecycle';
import { resolveSpec } from '../../lib/core/validate';
import { withLifecycle } from '../../lib/pulumi/spec';
import { dedicatedTurnSpec, minimalSpec } from '../support/specs';

describe('planLifecycles', () => {
  const spec = resolveSpec(dedicatedTurnSpec);

  test('GIVEN the defaults THEN the volume, the backups\' bucket and the reserved addresses refuse destruction, and only the TURN droplet is replaced create-first', () => {
    const plan = planLifecycles(spec);
    expect(Object.keys(plan).sort()).toEqual([...RESOURCE_ROLES].sort());
    const protectedRoles = RESOURCE_ROLES.filter((role) => plan[role].protect);
    expect(protectedRoles.sort()).toEqual(['backupBucket', 'reservedIp', 'reservedIpv6', 'volume']);
    const createFirst = RESOURCE_ROLES.filter((role) => plan[role].replacement === 'create-first');
    expect(createFirst).toEqual(['turnDroplet']);
  });

  test.each<[string, { protectVolume?: boolean; protectReservedIps?: boolean }, string[]]>([
    ['protectVolume: false', { protectVolume: false }, ['reservedIp', 'reservedIpv6']],
    ['protectReservedIps: false', { protectReservedIps: false }, ['backupBucket', 'volume']],
    ['both off', { protectVolume: false, protectReservedIps: false }, []],
  ])('GIVEN %s THEN exactly the rest stays protected', (_name, protection, expected) => {
    const plan = planLifecycles(spec, protection);
    expect(RESOURCE_ROLES.filter((role) => plan[role].protect).sort()).toEqual(expected);
  });

  test('GIVEN no reserved IPv6 THEN its role protects nothing (there is no such resource)', () => {
    const plan = planLifecycles(resolveSpec({ ...minimalSpec, droplet: { reservedIpv6: false } }));
    expect(plan.reservedIpv6.protect).toBe(false);
  });
});

describe.each<[string, LifecycleIntent, object | undefined, object]>([
  ['the default', { protect: false, replacement: 'delete-first', ignoreChanges: [] }, undefined, { deleteBeforeReplace: true }],
  ['protected', { protect: true, replacement: 'delete-first', ignoreChanges: [] }, { preventDestroy: true }, { protect: true, deleteBeforeReplace: true }],
  ['create-first', { protect: false, replacement: 'create-first', ignoreChanges: [] }, { createBeforeDestroy: true }, { deleteBeforeReplace: false }],
  [
    'ignoring changes',
    { protect: true, replacement: 'create-first', ignoreChanges: ['user_data', 'ssh_keys'] },
    { preventDestroy: true, createBeforeDestroy: true, ignoreChanges: ['user_data', 'ssh_keys'] },
    { protect: true, deleteBeforeReplace: false, ignoreChanges: ['userData', 'sshKeys'] },
  ],
])('GIVEN the intent %s', (_name, intent, terraform, pulumi) => {
  test('THEN cdktf writes only what differs from Terraform\'s defaults', () => {
    expect(terraformLifecycle(intent)).toEqual(terraform);
  });

  test('THEN Pulumi gets the replacement order spelled out (its default differs), protect only to protect (else it inherits its component\'s), argument names its own way, and keeps the given options', () => {
    const parent = {} as never;
    expect(withLifecycle(intent, { parent })).toEqual({ parent, ...pulumi });
  });
});
