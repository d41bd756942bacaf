/** What every section resolver shares: the collector of problems, and reading a declared section. */
import { Problem, SpecIssue } from '../rules';

/** Collects the problems of every section, in order, so that all are reported at once. */
export class IssueCollector {
  readonly issues: SpecIssue[] = [];

  check(field: string, value: unknown, problem: Problem | undefined): void {
    if (problem) this.issues.push({ field, value, ...problem });
  }

  add(issues: readonly SpecIssue[]): void {
    this.issues.push(...issues);
  }
}

export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The user's sub-object, or an empty one when it is absent (or not an object at all). */
export function section<T extends object>(value: T | undefined): T {
  return (isObject(value) ? value : {}) as T;
}
