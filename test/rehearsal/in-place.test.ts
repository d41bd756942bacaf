/**
 * Issue 20, rehearsed: configuration changes applied in place (`configDelivery.channel: "spaces"`).
 * The droplet boots from a stable bootstrap and pulls its configuration bundle from a private
 * Spaces bucket (the harness's Spaces stand-in) with a read-only key; a second domain added to the
 * spec reaches the running droplet through a new bundle, without replacing it and without dropping
 * a session; a broken bundle is refused and the running configuration stays.
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { renderConfigBundle } from '../../lib/core/config-bundle';
import { PROSODY_CONFIG } from '../../lib/core/paths';
import { XmppServiceSpec } from '../../lib/core/spec';
import { XmppService } from '../../lib/cdktf';
import { newStack, synth } from '../cdktf/synth';
import { ClientSession, dropletUserData, dropletUserDataTemplate, Rehearsal, rehearsalUnavailable, spacesFromSynth, SynthesizedStack } from './harness';
import { describeUnless } from '../support/tools';

jest.setTimeout(300000);

const ONE_DOMAIN: XmppServiceSpec = {
  domains: ['example.net'],
  admins: ['admin@example.net'],
  acme: { email: 'hostmaster@example.net' },
  configDelivery: { channel: 'spaces' },
};
const TWO_DOMAINS: XmppServiceSpec = { ...ONE_DOMAIN, domains: ['example.net', 'example.org'] };
/** A later change that touches a component's section only (its archive's expiry). */
const LONGER_ARCHIVE: XmppServiceSpec = { ...TWO_DOMAINS, components: { groupChat: { archiveExpireAfterSeconds: 30 * 86400 } } };
const ALICE = { jid: 'alice@example.net', password: 'alice stays connected' };
const BOB = { jid: 'bob@example.org', password: 'bob on the new domain' };
const STATUS_FILE = '/var/www/xmpp-constructs/bundle';
const TEMPLATE = '/etc/xmpp-constructs/templates/etc/prosody/prosody.cfg.lua';

interface Synthesized {
  readonly stack: SynthesizedStack;
  readonly service: XmppService;
  /** The bundle's SHA-256 as the stack's `config_bundle` output names it. */
  readonly plannedSha256: string;
}

function synthesize(spec: XmppServiceSpec): Synthesized {
  const app = newStack();
  const service = new XmppService(app, 'Xmpp', { spec, writeReviewFiles: false });
  const stack = synth(app) as SynthesizedStack;
  const output = Object.entries(stack.output ?? {}).find(([name]) => name.endsWith('_config_bundle'));
  if (!output) throw new Error('the stack has no config_bundle output');
  return { stack, service, plannedSha256: String(output[1].value) };
}

describeUnless(rehearsalUnavailable(), 'GIVEN a droplet booted from a spec with configDelivery "spaces", one domain (example.net) and calls on', () => {
  let rehearsal: Rehearsal | undefined;
  let one: Synthesized;
  let two: Synthesized;
  let alice: ClientSession | undefined;
  let bobSession: ClientSession | undefined;
  let aliceConnection: number;
  const timings: Record<string, number> = {};

  function droplet(): Rehearsal {
    if (!rehearsal) throw new Error('the rehearsal did not boot (see the beforeAll error)');
    return rehearsal;
  }
  function status(): string {
    return droplet().readFile(STATUS_FILE);
  }
  /** alice's session answers a ping over the very connection it opened at first: it never dropped. */
  async function aliceStillConnected(): Promise<void> {
    const answer = await alice!.ping();
    expect(answer).toMatchObject({ ok: true, ping: 'result', drops: 0, connection: aliceConnection });
  }

  beforeAll(async () => {
    one = synthesize(ONE_DOMAIN);
    two = synthesize(TWO_DOMAINS);
    const started = Date.now();
    const booted = await Rehearsal.boot(one.stack);
    rehearsal = booted.rehearsal;
    timings.bootMs = Date.now() - started;
    timings.finalStageMs = booted.finalStage.end - booted.finalStage.start;
    if (booted.provision.status !== 0) throw new Error(`first boot failed (exit ${booted.provision.status}):\n${booted.provision.stdout}\n${booted.provision.stderr}\n${rehearsal.logTails()}`);
    await rehearsal.waitForListeners(['tcp/5222', 'tcp/5223', 'tcp/5269', 'tcp/443', 'udp/3478']);
    rehearsal.issueCertificates();
    rehearsal.addUser(ALICE.jid, ALICE.password);
  });
  afterAll(async () => {
    await alice?.stop();
    await bobSession?.stop();
    await rehearsal?.stop();
    // eslint-disable-next-line no-console
    console.log(`in-place rehearsal timings (ms): ${JSON.stringify(timings)}`);
  });

  test('THEN first boot fetched the bundle with the read key and applied it: the status names the planned SHA-256, on the host and over HTTPS', () => {
    const object = Buffer.from(spacesFromSynth(one.stack)!.contentBase64, 'base64');
    expect(createHash('sha256').update(object).digest('hex')).toBe(one.plannedSha256);
    expect(status()).toBe(`applied ${one.plannedSha256}\n`);
    const fetched = droplet().spacesRequests().filter((r) => r.method === 'GET');
    expect(fetched[0]).toMatchObject({ bucket: 'xmpp-example-net-config', key: 'bundle.tar.gz', accessKey: droplet().spacesReadKey.accessKey, status: 200 });
    const overHttps = droplet().hostMustRun('the status over HTTPS', ['curl', '-fsS', '--cacert', droplet().caFile, 'https://example.net/.well-known/xmpp-constructs/bundle']);
    expect(overHttps.stdout).toBe(`applied ${one.plannedSha256}\n`);
  });

  test('THEN alice@example.net logs in and stays connected', async () => {
    alice = await droplet().openSession({ ...ALICE, resource: 'phone' });
    aliceConnection = alice.info!.connection;
    // The resource is the one asked for ("phone"), or on Prosody 13, whose Bind2 (XEP-0386) binds
    // the session, made from it as the client's tag ("phone~…").
    expect(alice.info).toMatchObject({ jid: expect.stringMatching(/^alice@example\.net\/phone(~.+)?$/), drops: 0 });
    await aliceStillConnected();
  });

  describe('WHEN the spec gains a second domain (example.org) and the stack is applied', () => {
    let fetched: ReturnType<Rehearsal['fetchConfig']>;
    let putAt: number;

    beforeAll(() => {
      putAt = Date.now();
      expect(droplet().putBundle(two.stack)).toBe(two.plannedSha256);
      droplet().updateDns(two.stack);
      fetched = droplet().fetchConfig();
      timings.applyMs = fetched.ms;
    });

    test('THEN the droplet is not replaced: its user_data is byte-identical to the first synthesis', () => {
      expect(dropletUserDataTemplate(two.stack) === dropletUserDataTemplate(one.stack)).toBe(true);
      const key = droplet().spacesReadKey;
      expect(dropletUserData(two.stack, key) === dropletUserData(one.stack, key)).toBe(true);
    });

    test('THEN the fetch applied the new bundle in place and the status names its hash', () => {
      expect({ status: fetched.status, output: fetched.stdout + fetched.stderr }).toMatchObject({ status: 0 });
      expect(fetched.stdout).toContain('activated example.org');
      expect(fetched.stdout).not.toMatch(/restarting Prosody/);
      expect(status()).toBe(`applied ${two.plannedSha256}\n`);
      // Let's Encrypt for the new name is asked right after, without holding up the apply.
      expect(droplet().queuedJobs()).toContain('xmpp-constructs-certificates.service');
    });

    test('THEN alice\'s session survived the apply: the same connection answers', async () => {
      await aliceStillConnected();
    });

    test('THEN xmpp-doctor, given the stack\'s plan, finds the host running the planned bundle', () => {
      const plan = droplet().exchangeFile('doctor-plan-two.json', two.service.plan.reviewFiles()['doctor-plan.json']);
      const { status: exit, report } = droplet().doctor(['--plan', plan, '--only', 'bundle', '--wait-bundle', '30', '--timeout', '3']);
      expect(report.checks).toEqual([expect.objectContaining({ group: 'bundle', status: 'pass', title: `the host runs configuration bundle ${two.plannedSha256.slice(0, 12)}` })]);
      expect(exit).toBe(0);
    });

    test('THEN bob@example.org logs in through example.org\'s own SRV record, on its self-signed stand-in certificate', () => {
      droplet().addUser(BOB.jid, BOB.password);
      const selfSigned = droplet().readFile('/etc/xmpp-constructs/certs/example.org/fullchain.pem');
      // The client trusts Pebble's root (example.net's issuer) and this one self-signed certificate.
      droplet().trustCa(`${selfSigned}\n${readFileSync(droplet().caFile, 'utf8')}`);
      const r = droplet().client<any>('c2sStarttls', BOB);
      timings.putToBobLoginMs = Date.now() - putAt;
      expect(r).toMatchObject({ srv: { name: 'example.org', port: 5222 }, tlsAuthorized: true, ping: 'result' });
      expect(r.jid).toMatch(/^bob@example\.org\//);
    });

    describe('WHEN Let\'s Encrypt (Pebble) issues example.org\'s certificate', () => {
      beforeAll(() => {
        const started = Date.now();
        droplet().issueCertificates(); // leaves only Pebble's root trusted
        timings.issueExampleOrgMs = Date.now() - started;
      });

      test('THEN bob logs in on the issued certificate, and alice\'s session is still the same connection', async () => {
        const issuer = droplet().mustRun('issuer', ['openssl', 'x509', '-noout', '-issuer', '-in', '/etc/letsencrypt/live/example.org/fullchain.pem']).stdout;
        expect(issuer).toMatch(/Pebble/);
        const r = droplet().client<any>('c2sStarttls', BOB);
        expect(r).toMatchObject({ srv: { name: 'example.org', port: 5222 }, tlsAuthorized: true });
        await aliceStillConnected();
      });

      test('THEN a message from alice reaches bob', async () => {
        bobSession = await droplet().openSession({ ...BOB, resource: 'desktop' });
        const body = `welcome to example.org ${Date.now()}`;
        expect(await alice!.send(BOB.jid, body)).toMatchObject({ ok: true, drops: 0, connection: aliceConnection });
        expect(await bobSession.waitFor(body)).toMatchObject({ ok: true, body, from: alice!.info!.jid });
      });
    });
  });

  describe('WHEN a broken bundle (a Lua syntax error in the prosody.cfg.lua template) is put', () => {
    let broken: { sha256: string; body: Buffer };
    let fetched: ReturnType<Rehearsal['fetchConfig']>;
    let configBefore: string;

    beforeAll(() => {
      const files = two.service.plan.host.rendered.bundle!.files.map((f) => (f.path === TEMPLATE ? { ...f, content: `${f.content}\nthis is not = = Lua\n` } : f));
      expect(files.some((f) => f.path === TEMPLATE)).toBe(true);
      const bundle = renderConfigBundle(files);
      broken = { sha256: bundle.sha256, body: Buffer.from(bundle.archiveBase64, 'base64') };
      configBefore = droplet().readFile(PROSODY_CONFIG);
      expect(droplet().putObject(spacesFromSynth(two.stack)!, broken.body)).toBe(broken.sha256);
      fetched = droplet().fetchConfig();
    });

    test('THEN the fetch fails, and the status shows the refusal with its reason next to the applied hash', () => {
      expect(fetched.status).not.toBe(0);
      expect(status()).toMatch(new RegExp(`^applied ${two.plannedSha256}\nrefused ${broken.sha256} prosodyctl check config failed`));
    });

    test('THEN the running configuration is unchanged', () => {
      expect(droplet().readFile(PROSODY_CONFIG)).toBe(configBefore);
    });

    test('THEN xmpp-doctor, told to wait for that bundle, reports the refusal and the host\'s reason at once', () => {
      const plan = droplet().exchangeFile('doctor-plan-two.json', two.service.plan.reviewFiles()['doctor-plan.json']);
      const started = Date.now();
      const { status: exit, report } = droplet().doctor(['--plan', plan, '--only', 'bundle', '--bundle', broken.sha256, '--wait-bundle', '600', '--timeout', '3']);
      expect(report.checks).toEqual([expect.objectContaining({ status: 'fail', detail: expect.stringMatching(/refused it: prosodyctl check config failed.*it keeps running/) })]);
      expect(exit).not.toBe(0);
      expect(Date.now() - started).toBeLessThan(60_000);
    });

    test('THEN alice\'s session still works', async () => {
      await aliceStillConnected();
    });

    test('THEN the timer\'s next run leaves the refused bundle alone (no retry every minute)', () => {
      const again = droplet().fetchConfig();
      expect(again.status).toBe(0);
      expect(status()).toMatch(new RegExp(`^applied ${two.plannedSha256}\nrefused ${broken.sha256} `));
    });

    describe('WHEN a following good bundle (a longer group chat archive) is put', () => {
      let later: Synthesized;
      let applied: ReturnType<Rehearsal['fetchConfig']>;

      beforeAll(() => {
        later = synthesize(LONGER_ARCHIVE);
        droplet().putBundle(later.stack);
        applied = droplet().fetchConfig();
      });

      test('THEN it applies in place and the status clears the refusal', () => {
        expect(dropletUserDataTemplate(later.stack) === dropletUserDataTemplate(one.stack)).toBe(true);
        expect({ status: applied.status, output: applied.stdout + applied.stderr }).toMatchObject({ status: 0 });
        expect(status()).toBe(`applied ${later.plannedSha256}\n`);
        expect(droplet().readFile(PROSODY_CONFIG)).toContain('muc_log_expires_after = "30d"');
        // Only the group chat components' sections changed: they are reloaded, nothing restarts.
        expect(applied.stdout).toMatch(/Prosody: deactivated conference\.example\.net\n(.*\n)*xmpp-constructs: Prosody: activated conference\.example\.net/);
        expect(applied.stdout).not.toMatch(/restarting Prosody|activated example\.(net|org)\n/);
      });

      test('THEN alice\'s session survived that too', async () => {
        await aliceStillConnected();
      });

      test('WHEN the broken bundle comes back and is then reverted to the applied one THEN the status clears the refusal again', () => {
        droplet().putObject(spacesFromSynth(two.stack)!, broken.body);
        expect(droplet().fetchConfig().status).not.toBe(0);
        expect(status()).toMatch(new RegExp(`\nrefused ${broken.sha256} `));
        droplet().putBundle(later.stack);
        expect(droplet().fetchConfig().status).toBe(0);
        expect(status()).toBe(`applied ${later.plannedSha256}\n`);
      });

      describe('WHEN example.org leaves the spec again', () => {
        let removed: Synthesized;
        let applied: ReturnType<Rehearsal['fetchConfig']>;

        beforeAll(() => {
          removed = synthesize({ ...LONGER_ARCHIVE, domains: ['example.net'] });
          droplet().putBundle(removed.stack);
          applied = droplet().fetchConfig();
        });

        test('THEN it is deactivated in place: its users no longer log in, and alice\'s session survives', async () => {
          expect({ status: applied.status, output: applied.stdout + applied.stderr }).toMatchObject({ status: 0 });
          expect(applied.stdout).toContain('Prosody: deactivated example.org');
          expect(applied.stdout).not.toMatch(/restarting Prosody/);
          expect(status()).toBe(`applied ${removed.plannedSha256}\n`);
          await aliceStillConnected();
          // Its DNS still points here (nobody has removed the records yet): the server itself refuses the domain.
          expect(() => droplet().client('canLogIn', BOB)).toThrow(/host-unknown|Host unknown|not.*serv/i);
        });

        describe('WHEN a bundle passes its checks but fails while it is applied (its provisioning script stops)', () => {
          let doomed: { sha256: string; body: Buffer };
          let failed: ReturnType<Rehearsal['fetchConfig']>;

          beforeAll(() => {
            const files = removed.service.plan.host.rendered.bundle!.files.map((f) =>
              f.path === '/usr/local/sbin/xmpp-constructs-provision' ? { ...f, content: f.content.replace('step "done"', 'step "a step that fails"\nfalse\nstep "done"') } : f,
            );
            const bundle = renderConfigBundle(files);
            doomed = { sha256: bundle.sha256, body: Buffer.from(bundle.archiveBase64, 'base64') };
            droplet().putObject(spacesFromSynth(removed.stack)!, doomed.body);
            failed = droplet().fetchConfig();
          });

          test('THEN the failure is recorded and published with its step, and the timer does not reinstall it every minute', () => {
            expect(failed.status).not.toBe(0);
            expect(status()).toMatch(new RegExp(`^applied ${removed.plannedSha256}\nrefused ${doomed.sha256} failed after installing, at provisioning, step "a step that fails"`));
            expect(droplet().fetchConfig()).toMatchObject({ status: 0 });
            expect(status()).toMatch(new RegExp(`\nrefused ${doomed.sha256} failed after installing`));
          });

          test('THEN `xmpp-constructs-fetch retry` tries it again, and a corrected bundle applies and clears the record', async () => {
            expect(droplet().run(['/usr/local/sbin/xmpp-constructs-fetch', 'retry']).status).not.toBe(0);
            droplet().putBundle(removed.stack);
            expect(droplet().fetchConfig()).toMatchObject({ status: 0 });
            expect(status()).toBe(`applied ${removed.plannedSha256}\n`);
            await aliceStillConnected();
          });
        });
      });
    });
  });

  test('THEN the read key\'s secret is nowhere but a Terraform reference in cdk.tf.json: not in outputs, review files or the bundle', () => {
    for (const s of [one, two]) {
      const json = JSON.stringify(s.stack);
      const references = json.match(/\$\{digitalocean_spaces_key\.[^.}]+\.secret_key\}/g) ?? [];
      expect(references).toHaveLength(1);
      expect(dropletUserDataTemplate(s.stack)).toContain(references[0]);
      expect(JSON.stringify(s.stack.output)).not.toMatch(/secret_key|digitalocean_spaces_key/);
      const review = JSON.stringify(s.service.plan.reviewFiles());
      expect(review).not.toMatch(/secret_key|spaces-secret-key-placeholder|SPACES_SECRET_KEY=/);
    }
    const secret = droplet().spacesReadKey.secretKey;
    const bundle = droplet().run(['sh', '-c', 'tar -xzOf /var/lib/xmpp-constructs/bundle/incoming.tar.gz']).stdout;
    expect(bundle).not.toContain(secret);
    expect(status()).not.toContain(secret);
    expect(droplet().mustRun('mode of the key file', ['stat', '-c', '%a %U', '/etc/xmpp-constructs/config-source.env']).stdout.trim()).toBe('600 root');
  });
});
