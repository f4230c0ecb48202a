import type { ReportViolation } from '@pulumi/policy';
import { describe, formatPath, isRecord, isUnknownValue, type PropertyPath } from '../../workloads';
import type { PackDiagnosticCode } from './codes';
import { report } from './report';

/** Reads `path` under `root`: the value, `undefined` when absent, or 'unknown' when a part is computed. */
export function valueAt(
  root: unknown,
  path: PropertyPath,
): { unknown: true } | { unknown: false; value: unknown } {
  let cur = root;
  for (const key of path) {
    if (isUnknownValue(cur)) return { unknown: true };
    if (typeof key === 'number') {
      if (!Array.isArray(cur)) return { unknown: false, value: undefined };
      cur = cur[key];
    } else {
      if (!isRecord(cur)) return { unknown: false, value: undefined };
      cur = cur[key];
    }
  }
  return isUnknownValue(cur) ? { unknown: true } : { unknown: false, value: cur };
}

/** The value at `path` as sent (unknown sentinels kept), or undefined when the path does not exist. */
export function rawAt(root: unknown, path: PropertyPath): unknown {
  let cur = root;
  for (const key of path) {
    if (typeof key === 'number') cur = Array.isArray(cur) ? cur[key] : undefined;
    else cur = isRecord(cur) ? cur[key] : undefined;
  }
  return cur;
}

/**
 * Checks infrastructure settings one requirement at a time, each with its own diagnostic: a value
 * unknown during preview is advisory (checked at update), anything else that is not as required is a
 * violation at the policy's level.
 */
export class SettingsChecker {
  failures = 0;

  constructor(
    private readonly reportViolation: ReportViolation,
    private readonly resource: string,
    /** Where the checked object sits in the resource (`nodeConfig`, `nodePools[0].nodeConfig`). */
    private readonly base: PropertyPath = [],
    /** The resource's URN, for stack policies (their diagnostics name the resource by it). */
    private readonly urn?: string,
  ) {}

  /** Requires `ok(value)` for the value at `path` (relative to `root`, which sits at `base`). */
  require(
    root: unknown,
    path: PropertyPath,
    requirement: string,
    expected: string,
    ok: (value: unknown) => boolean,
    opts: { code?: PackDiagnosticCode; hint?: string; found?: (value: unknown) => string } = {},
  ): boolean {
    const full = [...this.base, ...path];
    const v = valueAt(root, path);
    if (v.unknown) {
      report(
        this.reportViolation,
        {
          code: 'VALUE_UNKNOWN',
          resource: this.resource,
          subject: formatPath(full),
          requirement,
          expected,
          found: 'a value unknown during preview',
          hint: 'It is checked when the value is known, at update.',
        },
        'advisory',
        this.urn,
      );
      return false;
    }
    if (ok(v.value)) return true;
    this.failures++;
    report(
      this.reportViolation,
      {
        code: opts.code ?? 'SETTING_REQUIRED',
        resource: this.resource,
        subject: formatPath(full),
        requirement,
        expected,
        found: opts.found ? opts.found(v.value) : describe(v.value),
        ...(opts.hint ? { hint: opts.hint } : {}),
      },
      undefined,
      this.urn,
    );
    return false;
  }
}

export const isTrue = (v: unknown): boolean => v === true;
export const equalsIgnoreCase =
  (expected: string) =>
  (v: unknown): boolean =>
    typeof v === 'string' && v.toUpperCase() === expected.toUpperCase();
