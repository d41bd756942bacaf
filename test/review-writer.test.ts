import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { writeReviewFiles } from '../lib/review-writer';

describe('writeReviewFiles', () => {
  const base = mkdtempSync(join(tmpdir(), 'xc-review-writer-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  test('GIVEN an earlier run THEN the directory ends up holding exactly the new files', () => {
    const dir = join(base, 'sync');
    writeReviewFiles(dir, { 'a.txt': 'a', 'dns/old.zone': 'old', 'host/etc/x.conf': 'x1' });
    writeReviewFiles(dir, { 'a.txt': 'a2', 'host/etc/x.conf': 'x2' });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('a2');
    expect(readFileSync(join(dir, 'host/etc/x.conf'), 'utf8')).toBe('x2');
    expect(existsSync(join(dir, 'dns/old.zone'))).toBe(false);
    expect(existsSync(join(dir, 'dns'))).toBe(false);
  });

  test('GIVEN a directory that does not exist yet THEN it is created', () => {
    writeReviewFiles(join(base, 'new', 'deep'), { 'f': 'v' });
    expect(readFileSync(join(base, 'new', 'deep', 'f'), 'utf8')).toBe('v');
  });

  test('GIVEN a relative directory with a trailing slash THEN the files land in it', () => {
    const relativeDir = join(relative(process.cwd(), base), 'rel') + '/';
    writeReviewFiles(relativeDir, { 'a/b/c.txt': 'c', 'a/d.txt': 'd' });
    expect(readFileSync(join(base, 'rel', 'a', 'b', 'c.txt'), 'utf8')).toBe('c');
    expect(readFileSync(join(base, 'rel', 'a', 'd.txt'), 'utf8')).toBe('d');
  });

  test.each(['../escape.txt', '/etc/passwd', 'a/../../b'])('fails when a path leaves the directory: %s', (path) => {
    const dir = join(base, 'guarded');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'keep'), 'k');
    expect(() => writeReviewFiles(dir, { [path]: 'x' })).toThrow(/leaves the review directory/);
    expect(readFileSync(join(dir, 'keep'), 'utf8')).toBe('k');
  });
});
