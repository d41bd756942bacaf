/**
 * The global upload quota: derived from the data volume when not declared, checked against it when
 * it is, and written into every upload service's configuration.
 */
import { defaultGlobalQuotaBytes, UPLOADS_DEFAULT_SHARE_OF_VOLUME, UPLOADS_MAX_SHARE_OF_VOLUME } from '../../lib/core/defaults';
import { renderCloudInit } from '../../lib/core/cloud-init';
import { renderProsodyConfig } from '../../lib/core/prosody';
import { checkGlobalQuotaFitsVolume, resolveSpec } from '../../lib/core/validate';
import { fullSpec, minimalSpec, validationErrorOf } from '../support/specs';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('defaultGlobalQuotaBytes', () => {
  test.each([
    ['the default 10 GiB volume and one domain', 10, 1, 100 * MiB, 5 * GiB],
    ['a 50 GiB volume and one domain', 50, 1, 100 * MiB, 25 * GiB],
    ['10 GiB shared by four domains', 10, 4, 100 * MiB, 1.25 * GiB],
    ['10 GiB shared by 49 domains: still above the file size limit', 10, 49, 100 * MiB, Math.floor((5 * GiB) / 49)],
    ['10 GiB shared by 200 domains: one file of the largest size each', 10, 200, 100 * MiB, 100 * MiB],
    ['a 1 GiB volume and a 2 GiB file size limit', 1, 1, 2 * GiB, 2 * GiB],
  ])('GIVEN %s THEN it is the expected quota', (_why, volumeGib, domains, fileSizeLimit, expected) => {
    expect(defaultGlobalQuotaBytes(volumeGib, domains, fileSizeLimit)).toBe(expected);
  });

  test('GIVEN any domain count that leaves each service more than one file THEN the quotas together are the default share of the volume, no more', () => {
    for (const domains of [1, 2, 3, 7, 10, 33, 51]) {
      const quota = defaultGlobalQuotaBytes(10, domains, 100 * MiB);
      expect(quota * domains).toBeLessThanOrEqual(10 * GiB * UPLOADS_DEFAULT_SHARE_OF_VOLUME);
      expect(quota * domains).toBeGreaterThan(10 * GiB * UPLOADS_DEFAULT_SHARE_OF_VOLUME - domains);
    }
  });
});

describe('checkGlobalQuotaFitsVolume', () => {
  test.each([
    ['half the volume for one domain', 5 * GiB, 1, 10],
    ['exactly the most uploads may take', Math.floor(10 * GiB * UPLOADS_MAX_SHARE_OF_VOLUME), 1, 10],
    ['5 GiB for each of three domains on 50 GiB', 5 * GiB, 3, 50],
    ['1 MiB for each of a thousand domains on 10 GiB', MiB, 1000, 10],
  ])('accepts %s', (_why, quota, domains, volumeGib) => {
    expect(checkGlobalQuotaFitsVolume(quota, domains, volumeGib)).toBeUndefined();
  });

  test.each([
    ['it is the whole volume', 10 * GiB, 1, 10, /10 GiB of uploads is more than the 10 GiB data volume \(droplet\.volumeSizeGib\) can hold beside messages and backups: uploads may take at most 80% of it \(8 GiB\)/, /lower it to at most 8589934592, raise droplet\.volumeSizeGib to at least 13/],
    ['it is one byte over the most uploads may take', Math.floor(10 * GiB * UPLOADS_MAX_SHARE_OF_VOLUME) + 1, 1, 10, /more than the 10 GiB data volume/, /lower it to at most 8589934592, raise droplet\.volumeSizeGib to at least 11/],
    ['the domains together exceed it', 3 * GiB, 3, 10, /3 GiB of uploads × 3 domains \(one upload service each\) = 9 GiB is more than the 10 GiB data volume/, /lower it to at most 2863311530, raise droplet\.volumeSizeGib to at least 12/],
  ])('fails when %s', (_why, quota, domains, volumeGib, problem, fix) => {
    const p = checkGlobalQuotaFitsVolume(quota, domains, volumeGib);
    expect(p?.problem).toMatch(problem);
    expect(p?.fix).toMatch(fix);
  });
});

describe('resolveSpec and the upload quota', () => {
  test('GIVEN no quota declared THEN each domain\'s upload service gets its share of half the volume, in prosody.cfg.lua', () => {
    const spec = resolveSpec({ ...minimalSpec, domains: ['example.net', 'example.org'], droplet: { volumeSizeGib: 20 } });
    expect(spec.fileShare.globalQuotaBytes).toBe(5 * GiB);
    const cfg = renderProsodyConfig(spec);
    expect(cfg.match(/^\thttp_file_share_global_quota = 5368709120$/gm)).toHaveLength(2);
  });

  test('GIVEN a declared quota that fits THEN it is kept as declared', () => {
    expect(resolveSpec(fullSpec).fileShare.globalQuotaBytes).toBe(5 * GiB);
  });

  test.each([
    ['it is larger than the volume', { components: { fileShare: { globalQuotaBytes: 20 * GiB } } }, /20 GiB of uploads is more than the 10 GiB data volume/],
    ['the domains together need more than the volume holds', { domains: ['example.net', 'example.org'], components: { fileShare: { globalQuotaBytes: 5 * GiB } } }, /5 GiB of uploads × 2 domains \(one upload service each\) = 10 GiB is more than/],
    ['the volume was made smaller than the quota needs', { components: { fileShare: { globalQuotaBytes: 5 * GiB } }, droplet: { volumeSizeGib: 5 } }, /more than the 5 GiB data volume/],
  ])('fails when %s, naming the field, the value and the fix', (_why, override, message) => {
    const issue = validationErrorOf({ ...minimalSpec, ...override }).issues.find((i) => i.field === 'components.fileShare.globalQuotaBytes');
    expect(issue).toBeDefined();
    expect(issue!.problem).toMatch(message);
    expect(issue!.fix).toMatch(/lower it to at most \d+, raise droplet\.volumeSizeGib to at least \d+/);
  });

  test('GIVEN file sharing off THEN a declared quota is not checked against the volume', () => {
    expect(() => resolveSpec({ ...minimalSpec, components: { fileShare: { enabled: false, globalQuotaBytes: 20 * GiB } } })).not.toThrow();
  });

  test('GIVEN the volume grown THEN the default quota changes the droplet\'s user_data (as the README says), and a declared one keeps it the same', () => {
    const grown = (volumeSizeGib: number, fileShare = {}) => renderCloudInit(resolveSpec({ ...minimalSpec, droplet: { ...minimalSpec.droplet, volumeSizeGib }, components: { fileShare } }));
    expect(grown(20)).not.toBe(grown(10));
    expect(grown(20, { globalQuotaBytes: 2 * GiB })).toBe(grown(10, { globalQuotaBytes: 2 * GiB }));
  });
});
