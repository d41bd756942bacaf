/**
 * Runs a Pulumi consumer's compiled program (./bin/index.js) as `pulumi preview` would, against
 * mocks: no CLI, no engine, no cloud. Copied into the consumer project by test/consumers.test.ts
 * and run there with node, so `@pulumi/pulumi` is the consumer's own copy, the one the library and
 * @pulumi/digitalocean load too. Only public runtime API, as Pulumi's unit-testing guide uses it.
 *
 * Prints `{ registered: [{ type, name }], exported: { name: value } }` as JSON on stdout; exits 1
 * when the program throws or never finishes (a resource or output that never resolves).
 */
'use strict';
const pulumi = require('@pulumi/pulumi');

const registered = [];
let nextDropletId = 1001;
let finished = false;

process.on('exit', (code) => {
  if (!finished && code === 0) {
    console.error('the program never finished: a resource or output it waited for never resolved');
    process.exitCode = 1;
  }
});

/** What DigitalOcean would answer, in shape: numeric droplet IDs, addresses, URNs. */
function newResource(args) {
  registered.push({ type: args.type, name: args.name });
  const state = { ...args.inputs };
  let id = `${args.name}-id`;
  switch (args.type) {
    case 'digitalocean:index/droplet:Droplet':
      id = String(nextDropletId++);
      Object.assign(state, { ipv4Address: '192.0.2.10', ipv6Address: '2001:db8::10', dropletUrn: `do:droplet:${id}` });
      break;
    case 'digitalocean:index/reservedIp:ReservedIp':
      Object.assign(state, { ipAddress: '192.0.2.1', reservedIpUrn: 'do:floatingip:192.0.2.1' });
      break;
    case 'digitalocean:index/reservedIpv6:ReservedIpv6':
      Object.assign(state, { ip: '2001:db8::1' });
      break;
    case 'digitalocean:index/volume:Volume':
      Object.assign(state, { volumeUrn: `do:volume:${args.name}` });
      break;
  }
  return { id, state };
}

/** Resolves with the values of `outputs` (all known under mocks). */
function valuesOf(outputs) {
  return new Promise((resolve) => pulumi.all(outputs).apply(resolve));
}

async function main() {
  await pulumi.runtime.setMocks({ newResource, call: (args) => args.inputs }, 'consumer', 'dev', /* preview */ true);
  const created = [];
  let exported = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      created.push(args.resource);
      return undefined;
    });
    exported = require('./bin/index.js');
    return exported;
  });
  // Every resource the program created has reached the mock cloud.
  await valuesOf(created.map((r) => r.urn));
  const names = Object.keys(exported).sort();
  const values = await valuesOf(names.map((n) => exported[n]));
  finished = true;
  process.stdout.write(JSON.stringify({ registered, exported: Object.fromEntries(names.map((n, i) => [n, values[i]])) }));
}

main().catch((error) => {
  console.error((error && error.stack) || String(error));
  process.exitCode = 1;
  finished = true;
});
