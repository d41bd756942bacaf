/** Helpers for reading `Testing.synth` output. */
import { DigitaloceanProvider } from '@cdktf/provider-digitalocean/lib/provider';
import { Testing, TerraformStack } from 'cdktf';

export interface SynthOutput {
  resource: { [type: string]: { [name: string]: { [attr: string]: any } } };
  data?: { [type: string]: { [name: string]: { [attr: string]: any } } };
  output?: { [name: string]: { value: unknown; description?: string; sensitive?: boolean } };
  variable?: { [name: string]: { [attr: string]: unknown } };
  locals?: { [name: string]: { [key: string]: unknown } };
}

/** Synthesize with validations on, as `cdktf synth` does. */
export function synth(stack: TerraformStack): SynthOutput {
  return JSON.parse(Testing.synth(stack, true));
}

/** Every resource of `type`, as a list. */
export function resources(out: SynthOutput, type: string): { [attr: string]: any }[] {
  return Object.values(out.resource[type] ?? {});
}

/** The one resource of `type`; fails if there is not exactly one. */
export function only(out: SynthOutput, type: string): { [attr: string]: any } {
  const all = resources(out, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** The logical name of the one resource of `type`. */
export function onlyName(out: SynthOutput, type: string): string {
  const names = Object.keys(out.resource[type] ?? {});
  if (names.length !== 1) throw new Error(`expected one ${type}, found ${names.length}`);
  return names[0];
}

/** A user's own stack: their provider, no backend of ours. */
/** The logical name and body of the one resource of `type` whose construct path contains `part`. */
export function named(out: SynthOutput, type: string, part: string): { name: string; body: { [attr: string]: any } } {
  const hits = Object.entries(out.resource[type] ?? {}).filter(([name]) => name.includes(part));
  if (hits.length !== 1) throw new Error(`expected one ${type} named *${part}*, found ${hits.length}`);
  return { name: hits[0][0], body: hits[0][1] };
}

export function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'test');
  new DigitaloceanProvider(stack, 'do');
  return stack;
}
