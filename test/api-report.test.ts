/**
 * The public API is what the reports in api/ say it is: API Extractor, run over the declarations
 * the build emits, finds no change from the checked-in reports, and no exported name whose type
 * refers to one its entry point does not export. An intended change: `npm run api`, and commit the
 * reports with it, so that review sees the API's diff.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ENTRY_POINTS, REPORT_FOLDER, runApiReport } from '../scripts/api-report';

jest.setTimeout(180_000);

test('GIVEN the package entry points THEN each has a checked-in API report, and package.json exports exactly those', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../package.json'), 'utf8')) as { exports: Record<string, unknown> };
  expect(Object.keys(pkg.exports).filter((subpath) => subpath !== './package.json').sort()).toEqual(ENTRY_POINTS.map((e) => e.subpath).sort());
  for (const entry of ENTRY_POINTS) expect(fs.existsSync(path.join(REPORT_FOLDER, `${entry.report}.api.md`))).toBe(true);
});

test('GIVEN the code as it is THEN API Extractor finds the public API the reports record, every type it uses exported', () => {
  const { changed, problems, temporary } = runApiReport(false);
  try {
    const diffs = changed.map((file) => `${file} would now read:\n${fs.readFileSync(path.join(temporary, file), 'utf8')}`);
    expect({ problems, changed, fix: changed.length > 0 ? 'run `npm run api` and commit api/ with the change' : undefined, diffs }).toEqual({ problems: [], changed: [], fix: undefined, diffs: [] });
  } finally {
    fs.rmSync(temporary, { recursive: true, force: true });
  }
});
