/**
 * Entry point of a client scenario inside the rehearsal:
 *   node -r ts-node/register run.ts <scenario> '<json args>'
 * Prints one line `RESULT <json>` on success; on failure exits 1 with the error on stderr.
 */
import { scenarios } from './scenarios';

async function main(): Promise<void> {
  const [name, rawArgs] = process.argv.slice(2);
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
  const result = await scenario(rawArgs ? JSON.parse(rawArgs) : {});
  process.stdout.write(`RESULT ${JSON.stringify(result ?? null)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
