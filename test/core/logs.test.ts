/**
 * Log retention: Prosody's logs rotate daily and are deleted after LOG_RETENTION_DAYS, checked with
 * the platform's real logrotate; the journal (coturn's log) is bounded by age; both droplets get them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { renderHostFiles, renderTurnHostFiles } from '../../lib/core/cloud-init';
import { JOURNALD_RETENTION, LOG_RETENTION_DAYS, PROSODY_LOGROTATE, PROSODY_LOGS, renderJournaldRetention, renderProsodyLogrotate } from '../../lib/core/logs';
import { renderProsodyConfig } from '../../lib/core/prosody';
import { resolveSpec } from '../../lib/core/validate';
import { PLATFORMS, platformToolsForFile, platformUnavailable } from '../support/platform';
import { dedicatedTurnSpec, minimalSpec } from '../support/specs';
import { describeUnless, makeTempDir, removeDir } from '../support/tools';

const platformMissing = platformUnavailable();

describe('what the droplets keep', () => {
  test('GIVEN any spec THEN the Prosody droplet replaces the package\'s logrotate file after installing it, and bounds the journal', () => {
    const files = renderHostFiles(resolveSpec(minimalSpec));
    expect(files.find((f) => f.path === PROSODY_LOGROTATE)).toMatchObject({ defer: true, content: renderProsodyLogrotate() });
    expect(files.find((f) => f.path === JOURNALD_RETENTION)).toMatchObject({ content: renderJournaldRetention() });
  });

  test('GIVEN a dedicated TURN droplet THEN its journal (coturn\'s log) is bounded too', () => {
    const files = renderTurnHostFiles(resolveSpec(dedicatedTurnSpec));
    expect(files.find((f) => f.path === JOURNALD_RETENTION)?.content).toBe(renderJournaldRetention());
  });

  test('GIVEN the journald drop-in THEN entries older than the retention are deleted', () => {
    expect(renderJournaldRetention()).toMatch(new RegExp(`^\\[Journal\\]\\nMaxRetentionSec=${LOG_RETENTION_DAYS}day$`, 'm'));
  });

  test('GIVEN the Prosody configuration THEN it logs exactly the files the logrotate file rotates', () => {
    const log = /^log = \{ info = "([^"]+)", error = "([^"]+)" \}$/m.exec(renderProsodyConfig(resolveSpec(minimalSpec)));
    expect(log?.slice(1)).toEqual([...PROSODY_LOGS]);
  });
});

describe.each(Object.values(PLATFORMS))('on $name', (platform) => {
  const image = platformToolsForFile(platform);

  describeUnless(platformMissing, `the real logrotate of ${platform.name}`, () => {
    let dir = '';
    beforeAll(() => { dir = makeTempDir('logrotate'); });
    afterAll(() => removeDir(dir));

    test('WHEN logrotate -d reads the rendered file as installed THEN it rotates Prosody\'s logs daily, keeping 14, without an error', () => {
      const conf = path.join(dir, 'prosody');
      fs.writeFileSync(conf, renderProsodyLogrotate());
      const r = image().run(['logrotate', '-d', '-s', path.join(dir, 'debug.state'), conf]);
      const said = `${r.stdout}${r.stderr}`;
      const problems = said.split('\n').filter((l) => /error|warning/i.test(l) && !/logrotate in debug mode does nothing/.test(l));
      expect({ status: r.status, problems }).toEqual({ status: 0, problems: [] });
      expect(said).toMatch(new RegExp(`rotating pattern: ${PROSODY_LOGS.join(' ')}\\s+after 1 days[^\\n]*\\(${LOG_RETENTION_DAYS} rotations\\)[\\s\\S]*?old logs are removed`));
    });

    test('WHEN logrotate rotates Prosody\'s logs day after day THEN no more than 14 rotations are ever kept', () => {
      const logs = path.join(dir, 'logs');
      fs.mkdirSync(logs);
      const moved = renderProsodyLogrotate()
        .split('/var/log/prosody/').join(`${logs}/`)
        // No daemon to reopen its log here.
        .replace(/\tpostrotate\n[\s\S]*?\tendscript\n/, '');
      const conf = path.join(dir, 'moved');
      fs.writeFileSync(conf, moved);
      // Twenty days, each with something logged, each ending with the daily rotation (forced: no waiting a day).
      for (let day = 1; day <= 20; day++) {
        for (const name of ['prosody.log', 'prosody.err']) fs.appendFileSync(path.join(logs, name), `day ${day}\n`);
        const r = image().run(['logrotate', '-f', '-s', path.join(dir, 'state'), conf]);
        expect({ day, status: r.status, said: `${r.stdout}${r.stderr}` }).toEqual({ day, status: 0, said: '' });
      }
      for (const name of ['prosody.log', 'prosody.err']) {
        const rotated = fs.readdirSync(logs).filter((f) => f.startsWith(`${name}.`)).sort();
        expect({ name, rotated: rotated.length }).toEqual({ name, rotated: LOG_RETENTION_DAYS });
        // The oldest kept is day 7 of 20: days 1 to 6 are gone.
        const kept = rotated.map((f) => f.endsWith('.gz') ? require('zlib').gunzipSync(fs.readFileSync(path.join(logs, f))).toString() : fs.readFileSync(path.join(logs, f), 'utf8'));
        expect(kept.join('')).not.toMatch(/^day [1-6]$/m);
        expect(kept.join('')).toMatch(/^day 7$/m);
      }
    });
  });
});
