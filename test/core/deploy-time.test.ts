/**
 * Deploy-time values (a Terraform token, a Pulumi Output) may stand only where the declaration says:
 * calls.sharedSecret. Anywhere else the value is needed at synthesis, so it fails naming its field.
 */
import { findDeployTimeValues } from '../../lib/core/deploy-time';

/** A stand-in for an engine's deploy-time value, and the predicate that knows it. */
class Later {}
const later = new Later();
const isLater = (value: unknown) => value instanceof Later;

describe('findDeployTimeValues', () => {
  test.each<[string, unknown, string[]]>([
    ['a plain declaration', { domains: ['example.net'], droplet: { region: 'fra1' } }, []],
    ['the TURN secret', { calls: { sharedSecret: later } }, []],
    ['a whole section', { droplet: later }, ['droplet']],
    ['a field', { droplet: { region: later } }, ['droplet.region']],
    ['a list item', { domains: ['example.net', later] }, ['domains[1]']],
    ['a field inside a list item', { domains: [{ name: later }] }, ['domains[0].name']],
    ['several places', { admins: [later], calls: { sharedSecret: later, name: later } }, ['admins[0]', 'calls.name']],
    ['the declaration itself', later, ['(the declaration)']],
  ])('GIVEN %s THEN it reports %j', (_name, spec, fields) => {
    const issues = findDeployTimeValues(spec, isLater);
    expect(issues.map((i) => i.field)).toEqual(fields);
    for (const issue of issues) expect(issue.fix).toMatch(/calls\.sharedSecret/);
  });

  test('GIVEN an object that is not plain data (a class instance) THEN it is not walked into', () => {
    class Holder {
      public readonly inner = later;
    }
    expect(findDeployTimeValues({ droplet: new Holder() }, isLater)).toEqual([]);
  });
});
