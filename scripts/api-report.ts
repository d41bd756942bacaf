/**
 * The package's public API, one report per entry point (`api/*.api.md`), written by API Extractor
 * from the declarations `tsc` emits. A change to what the package exports shows in review as a diff
 * of these files.
 *
 *   npm run api              update the reports after an intended change
 *   (test/api-report.test)   fails when the reports no longer match the code
 */
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** The package's entry points (package.json `exports`) and their reports. */
export const ENTRY_POINTS: readonly { readonly subpath: string; readonly declarations: string; readonly report: string }[] = [
  { subpath: '.', declarations: 'lib/index.d.ts', report: 'xmpp-constructs' },
  { subpath: './cdktf', declarations: 'lib/cdktf/index.d.ts', report: 'xmpp-constructs-cdktf' },
  { subpath: './pulumi', declarations: 'lib/pulumi/index.d.ts', report: 'xmpp-constructs-pulumi' },
  { subpath: './doctor', declarations: 'lib/doctor/index.d.ts', report: 'xmpp-constructs-doctor' },
];

export const REPORT_FOLDER = path.join(ROOT, 'api');

/** Declarations of lib/ as the package build emits them, in a scratch folder inside the checkout (for node_modules). */
function emitDeclarations(): string {
  const out = fs.mkdtempSync(path.join(ROOT, '.api-declarations-'));
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--outDir', out], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc could not emit the declarations:\n${tsc.stdout}${tsc.stderr}`);
  // Hand-written declarations (for untyped dependencies) are not emitted by tsc: copy them over.
  for (const file of fs.readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' })) {
    if (file.endsWith('.d.ts')) fs.copyFileSync(path.join(ROOT, 'lib', file), path.join(out, 'lib', file));
  }
  return out;
}

/**
 * Runs API Extractor over every entry point. With `update`, the reports are rewritten; without, the
 * result says which differ (their would-be text is left in a temporary folder, named in `diffs`).
 */
export function runApiReport(update: boolean): { readonly changed: readonly string[]; readonly problems: readonly string[]; readonly temporary: string } {
  if (update) fs.mkdirSync(REPORT_FOLDER, { recursive: true });
  const declarations = emitDeclarations();
  const temporary = fs.mkdtempSync(path.join(ROOT, '.api-reports-'));
  const changed: string[] = [];
  const problems: string[] = [];
  try {
    for (const entry of ENTRY_POINTS) {
      const config = ExtractorConfig.prepare({
        configObject: {
          projectFolder: ROOT,
          mainEntryPointFilePath: path.join(declarations, entry.declarations),
          compiler: {
            overrideTsconfig: {
              compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', lib: ['ES2022'], types: ['node'], strict: true, skipLibCheck: true },
              include: [path.join(declarations, 'lib')],
            },
            skipLibCheck: true,
          },
          apiReport: { enabled: true, reportFileName: entry.report, reportFolder: REPORT_FOLDER, reportTempFolder: temporary },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          newlineKind: 'lf',
          messages: {
            compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
            // Release tags and TSDoc syntax are not this package's conventions. An exported name
            // whose type refers to one its entry point does not export is an error: the user could
            // not name that type.
            extractorMessageReporting: {
              default: { logLevel: ExtractorLogLevel.None },
              'ae-forgotten-export': { logLevel: ExtractorLogLevel.Error, addToApiReportFile: false },
            },
            tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
          },
        },
        configObjectFullPath: undefined,
        packageJsonFullPath: path.join(ROOT, 'package.json'),
      });
      const result = Extractor.invoke(config, {
        localBuild: update,
        messageCallback: (message) => {
          if (message.logLevel === ExtractorLogLevel.Error) problems.push(`${entry.subpath}: ${message.text}`);
          message.handled = true;
        },
      });
      if (result.apiReportChanged) changed.push(`${entry.report}.api.md`);
    }
  } finally {
    fs.rmSync(declarations, { recursive: true, force: true });
  }
  return { changed, problems, temporary };
}

if (require.main === module) {
  const { changed, problems, temporary } = runApiReport(true);
  fs.rmSync(temporary, { recursive: true, force: true });
  for (const problem of problems) console.error(problem);
  console.log(changed.length > 0 ? `updated: ${changed.join(', ')}` : 'the API reports are up to date');
  process.exit(problems.length > 0 ? 1 : 0);
}
