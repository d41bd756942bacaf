/**
 * Composes the one pull-request comment the workflow keeps up to date: the plan summary (from
 * plan-summary.ts) with its warnings first, then the diff of the rendered review files.
 *
 *   npx ts-node --transpile-only pr-comment.ts --diff review.diff --plan-summary summary.md \
 *     --run-url "$RUN_URL" --artifact xmpp-review-pr7 [--note base-note.txt] > comment.md
 *   … --plan-skipped "why"     instead of --plan-summary when there is no plan (fork pull requests)
 *   … --plan-failed            when the plan step failed
 *
 * GitHub refuses comments over 65,536 characters, and a config diff of a large change is longer.
 * The comment stays under {@link MAX_COMMENT_BYTES} (counted in UTF-8 bytes, which is never fewer
 * than characters): the diff is cut at a line boundary with a note, and the full diff is in the
 * run's artifact.
 */
import { existsSync, readFileSync } from 'fs';
import { parseArgs } from 'util';

/** How the workflow finds its own comment again (and never a person's). */
export const MARKER = '<!-- xmpp-constructs:gitops -->';

/** Below GitHub's 65,536-character limit, with room for its own rendering. */
export const MAX_COMMENT_BYTES = 60_000;

export interface CommentInput {
  /** Unified diff of base vs head review trees; undefined when synthesis failed. */
  readonly diff?: string;
  /** Markdown from plan-summary.ts. */
  readonly planSummary?: string;
  /** Why there is no plan (fork pull request, no secrets). */
  readonly planSkipped?: string;
  /** The plan step failed. */
  readonly planFailed?: boolean;
  /** Anything else the reader should know, e.g. that the base had no app yet. */
  readonly note?: string;
  /** Link to the workflow run (its log and artifact). */
  readonly runUrl?: string;
  /** Name of the artifact holding the full diff and plan. */
  readonly artifact?: string;
  /** The commit the comment describes. */
  readonly commit?: string;
  readonly maxBytes?: number;
}

export interface FileChange {
  readonly path: string;
  readonly added: number;
  readonly removed: number;
}

/**
 * The files of a `diff -ruN base head` output, with their line counts; paths without base/ or head/.
 * Hunks are read by their line counts, so a removed Lua comment ("-- …" → "--- …") is a line, not a header.
 */
export function changedFiles(diff: string): FileChange[] {
  const files: FileChange[] = [];
  let current: { path: string; added: number; removed: number } | undefined;
  let oldLeft = 0;
  let newLeft = 0;
  for (const line of diff.split('\n')) {
    if (current && (oldLeft > 0 || newLeft > 0)) {
      if (line.startsWith('+')) {
        current.added += 1;
        newLeft -= 1;
      } else if (line.startsWith('-')) {
        current.removed += 1;
        oldLeft -= 1;
      } else if (!line.startsWith('\\')) {
        // Context; "\ No newline at end of file" belongs to the line before and counts nothing.
        oldLeft -= 1;
        newLeft -= 1;
      }
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (line.startsWith('+++ ')) {
      current = { path: line.slice(4).split('\t')[0].replace(/^(head|b)\//, ''), added: 0, removed: 0 };
      files.push(current);
    } else if (hunk && current) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
    }
  }
  return files;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** A fence longer than any backtick run in `text`, so the diff cannot close it early. */
function fenceFor(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longestRun + 1));
}

/** The longest prefix of `text` that ends at a line boundary and fits in `maxBytes`. */
function cutAtLine(text: string, maxBytes: number): string {
  if (bytes(text) <= maxBytes) return text;
  let cut = Buffer.from(text, 'utf8').subarray(0, Math.max(0, maxBytes)).toString('utf8');
  // A multi-byte character cut in half decodes to U+FFFD: drop it with the partial line.
  const lastNewline = cut.lastIndexOf('\n');
  cut = lastNewline >= 0 ? cut.slice(0, lastNewline + 1) : '';
  return cut;
}

export function composeComment(input: CommentInput): string {
  const maxBytes = input.maxBytes ?? MAX_COMMENT_BYTES;
  const where = input.artifact
    ? `the artifact \`${input.artifact}\`${input.runUrl ? ` of [this run](${input.runUrl})` : ''}`
    : input.runUrl ? `[this run](${input.runUrl})` : 'the workflow run';

  const head: string[] = [MARKER, '## XMPP service: what this pull request changes', ''];
  if (input.note) head.push(`> [!NOTE]\n> ${input.note.trim().replace(/\n/g, '\n> ')}`, '');

  head.push('### Plan');
  if (input.planSummary !== undefined) head.push(input.planSummary.trimEnd());
  else if (input.planSkipped !== undefined) head.push(`No plan for this run: ${input.planSkipped.trim()}`);
  else if (input.planFailed) head.push(`> [!CAUTION]\n> **The plan failed.** Nothing can be merged safely until it passes: read the log of [the run](${input.runUrl ?? '#'}).`);
  else head.push('No plan for this run.');
  head.push('', '### Rendered files (`review/`)');

  const footer = `\n<sub>Full diff, rendered files and plan output: ${where}.${input.commit ? ` Updated for ${input.commit}.` : ''}</sub>\n`;

  if (input.diff === undefined) {
    head.push('The rendered files could not be compared: synthesis failed on the base or on this branch. Read the run\'s log.');
    return fit(`${head.join('\n')}\n${footer}`, maxBytes);
  }
  const files = changedFiles(input.diff);
  if (files.length === 0) {
    head.push('No rendered file changes: the droplet would run exactly the same configuration.');
    return fit(`${head.join('\n')}\n${footer}`, maxBytes);
  }

  head.push(`${files.length} file${files.length === 1 ? '' : 's'} changed:`);
  for (const f of files) head.push(`- \`${f.path}\` (+${f.added} −${f.removed})`);
  head.push('', '<details open><summary>Diff of the rendered files</summary>', '');

  const fence = fenceFor(input.diff);
  const open = `${fence}diff\n`;
  const close = `${fence}\n\n</details>\n`;
  const totalLines = input.diff.split('\n').length;
  const truncationNote = (shown: number) => `\n**The diff is truncated** to fit GitHub's comment limit: ${shown} of ${totalLines} lines shown. The full diff is in ${where}.\n`;

  const fixed = `${head.join('\n')}\n${open}${close}${footer}`;
  const diffText = input.diff.endsWith('\n') ? input.diff : `${input.diff}\n`;
  if (bytes(fixed) + bytes(diffText) <= maxBytes) return `${head.join('\n')}\n${open}${diffText}${close}${footer}`;

  // Reserve room for the note with the largest line count it could show.
  const budget = maxBytes - bytes(fixed) - bytes(truncationNote(totalLines));
  const shown = cutAtLine(diffText, budget);
  const shownLines = shown === '' ? 0 : shown.split('\n').length - 1;
  return fit(`${head.join('\n')}\n${open}${shown}${close}${truncationNote(shownLines)}${footer}`, maxBytes);
}

/** Last resort when even the parts around the diff are too long (a huge plan summary). */
function fit(text: string, maxBytes: number): string {
  if (bytes(text) <= maxBytes) return text;
  const note = '\n\n**Truncated** to fit GitHub\'s comment limit: read the run\'s summary and artifact.\n';
  return cutAtLine(text, maxBytes - bytes(note)) + note;
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      diff: { type: 'string' },
      'plan-summary': { type: 'string' },
      'plan-skipped': { type: 'string' },
      'plan-failed': { type: 'boolean' },
      note: { type: 'string' },
      'run-url': { type: 'string' },
      artifact: { type: 'string' },
      commit: { type: 'string' },
    },
  });
  const readIfThere = (path: string | undefined) => (path !== undefined && existsSync(path) ? readFileSync(path, 'utf8') : undefined);
  process.stdout.write(composeComment({
    // A missing diff file means a synthesis step failed before writing it.
    diff: readIfThere(values.diff),
    planSummary: readIfThere(values['plan-summary']),
    planSkipped: values['plan-skipped'],
    planFailed: values['plan-failed'],
    note: readIfThere(values.note),
    runUrl: values['run-url'],
    artifact: values.artifact,
    commit: values.commit,
  }));
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
