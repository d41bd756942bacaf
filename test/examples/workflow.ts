/** examples/gitops/workflow.yml as its tests read it: the parts of GitHub's workflow syntax they look at. */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';

export interface Step {
  readonly name?: string;
  readonly id?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly env?: Record<string, string>;
  readonly with?: Record<string, unknown>;
}

export interface Job {
  readonly needs?: string | string[];
  readonly if?: string;
  readonly permissions?: Record<string, string>;
  readonly concurrency?: { group: string; 'cancel-in-progress': boolean };
  readonly environment?: string;
  readonly env?: Record<string, string>;
  readonly outputs?: Record<string, string>;
  readonly steps: Step[];
}

export interface Workflow {
  readonly concurrency?: unknown;
  readonly on: Record<string, any>;
  readonly permissions: Record<string, string>;
  readonly env: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

export const WORKFLOW_FILE = join(__dirname, '..', '..', 'examples', 'gitops', 'workflow.yml');
export const WORKFLOW_TEXT = readFileSync(WORKFLOW_FILE, 'utf8');
export const WORKFLOW = parse(WORKFLOW_TEXT) as Workflow;
