/**
 * What a consumer's project looks like: the tsconfig.json the project generators write, copied here as
 * data (with where each comes from), and the programs the consumer projects of test/consumers.test.ts
 * hold. The programs are strings, not files of this repository: they import 'xmpp-constructs/…',
 * which only resolves inside a consumer project that installed the packed tarball.
 */

/** A tsconfig.json as the generator writes it. */
export type TsConfig = { readonly compilerOptions: Record<string, unknown> } & Record<string, unknown>;

/**
 * `cdktf init --template=typescript` (cdktf-cli 0.21.0, `bundle/templates/typescript/tsconfig.json`
 * of its npm package; hashicorp/terraform-cdk `packages/cdktf-cli/templates/typescript`): CommonJS
 * with no moduleResolution, so TypeScript's node10 resolution, which reads `typesVersions`, not `exports`.
 */
export const CDKTF_INIT_TSCONFIG: TsConfig = {
  compilerOptions: {
    alwaysStrict: true,
    declaration: true,
    experimentalDecorators: true,
    inlineSourceMap: true,
    inlineSources: true,
    lib: ['es2018'],
    module: 'CommonJS',
    noEmitOnError: true,
    noFallthroughCasesInSwitch: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noImplicitThis: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    resolveJsonModule: true,
    strict: true,
    strictNullChecks: true,
    strictPropertyInitialization: true,
    stripInternal: true,
    target: 'ES2018',
    incremental: true,
    skipLibCheck: true,
  },
  include: ['**/*.ts'],
  exclude: ['node_modules', 'cdktf.out'],
};

/** The cdktf init project moved to Node's own resolution (`exports`, not `typesVersions`). */
export const CDKTF_NODE16_TSCONFIG: TsConfig = {
  ...CDKTF_INIT_TSCONFIG,
  compilerOptions: { ...CDKTF_INIT_TSCONFIG.compilerOptions, module: 'node16', moduleResolution: 'node16' },
};

/**
 * `pulumi new typescript`: pulumi/templates `typescript/tsconfig.json` as of 65db26bf (2026-08);
 * `module`/`moduleResolution` are `nodenext` since 81e65225 (2026-03-25). No skipLibCheck, so every
 * declaration file in the program is checked, the package's own included.
 */
export const PULUMI_NEW_TSCONFIG: TsConfig = {
  compilerOptions: {
    strict: true,
    outDir: 'bin',
    target: 'es2020',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    sourceMap: true,
    experimentalDecorators: true,
    pretty: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
  },
  files: ['index.ts'],
};

/**
 * `pulumi new typescript` before 81e65225 (2024-04-15 to 2026-03-25, a3029400): CommonJS with
 * `moduleResolution: node` (node10), what most existing Pulumi projects still have.
 */
export const PULUMI_NEW_TSCONFIG_BEFORE_2026: TsConfig = {
  ...PULUMI_NEW_TSCONFIG,
  compilerOptions: { ...PULUMI_NEW_TSCONFIG.compilerOptions, module: 'commonjs', moduleResolution: 'node' },
};

/** Stack ids of CDKTF_MAIN_TS. */
export const CDKTF_STACKS = { own: 'chat', oneLiner: 'xmpp-example-net' } as const;

/**
 * A cdktf consumer's main.ts: README's "Use it in your own stack" (XmppService in a stack of one's
 * own), the one-liner XmppStack, a type from the root entry point, and the doctor reading the plan
 * the synth wrote.
 */
export const CDKTF_MAIN_TS = `import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { DigitaloceanProvider } from '@cdktf/provider-digitalocean/lib/provider';
import { join } from 'path';
import type { XmppServiceSpec } from 'xmpp-constructs';
import { XmppService, XmppStack } from 'xmpp-constructs/cdktf';
import { loadDoctorPlan } from 'xmpp-constructs/doctor';

class ChatStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new DigitaloceanProvider(this, 'do');
    const chat = new XmppService(this, 'Chat', {
      spec: {
        domains: [{ name: 'example.org', zone: 'existing' }],
        admins: ['alice@example.org'],
        acme: { email: 'hostmaster@example.org' },
        droplet: { sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] },
        adminSourceCidrs: ['198.51.100.7'],
      },
      tags: ['chat'],
    });
    chat.host.droplet;
  }
}

const spec: XmppServiceSpec = {
  domains: ['example.net'],
  admins: ['admin@example.net'],
  acme: { email: 'hostmaster@example.net' },
};

const app = new App({ stackTraces: false });
new ChatStack(app, '${CDKTF_STACKS.own}');
new XmppStack(app, '${CDKTF_STACKS.oneLiner}', { spec });
app.synth();

const plan = loadDoctorPlan(join(app.outdir, 'stacks', '${CDKTF_STACKS.oneLiner}'));
console.log(JSON.stringify({ doctorPlanDomains: plan.domains }));
`;

/** A Pulumi consumer's index.ts: README's "Use it with Pulumi". */
export const PULUMI_INDEX_TS = `import * as pulumi from '@pulumi/pulumi';
import { XmppService } from 'xmpp-constructs/pulumi';

const config = new pulumi.Config();
const domain = config.get('domain') ?? 'example.org';
const chat = new XmppService('chat', {
  spec: {
    domains: [{ name: domain, zone: 'existing' }],
    admins: [\`alice@\${domain}\`],
    acme: { email: \`hostmaster@\${domain}\` },
    droplet: { sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] },
    adminSourceCidrs: ['198.51.100.7'],
  },
  reviewDirectory: 'review',
});
export const { reserved_ipv4, ssh, first_admin, domains } = chat.outputs;
`;

/**
 * The negative controls: one wrong type in a spec, which only the package's declarations can reveal
 * (`admins` is `readonly string[]`). tsc must reject them, or it is not checking through those types.
 */
export const CDKTF_MAIN_TS_WITH_TYPE_ERROR = `import { App } from 'cdktf';
import { XmppStack } from 'xmpp-constructs/cdktf';

const app = new App({ stackTraces: false });
new XmppStack(app, 'broken', {
  spec: { domains: ['example.net'], admins: 'admin@example.net', acme: { email: 'hostmaster@example.net' } },
});
app.synth();
`;

export const PULUMI_INDEX_TS_WITH_TYPE_ERROR = `import { XmppService } from 'xmpp-constructs/pulumi';

export const service = new XmppService('broken', {
  spec: { domains: ['example.net'], admins: 'admin@example.net', acme: { email: 'hostmaster@example.net' } },
});
`;
