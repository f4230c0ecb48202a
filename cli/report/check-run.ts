import * as path from 'node:path';

/**
 * The format-neutral result of a command that checks things (images for `verify`, resources for
 * `preview`): the SARIF, JUnit and GitHub Actions renderers read this, so both commands speak every format
 * the same way.
 */
export type ItemOutcome = 'passed' | 'failed' | 'unverified' | 'error' | 'unchecked';

export interface CheckFinding {
  /** A code `trustops explain` knows (SIGNATURE_MISSING, WORKLOADS_UNCHECKED, ...). */
  code: string;
  /** error: blocks; warning: could not verify, unchecked, advisory; note: waived or informational. */
  level: 'error' | 'warning' | 'note';
  message: string;
  /** `exemption SEC-123, expires ...` when an exemption in force waives this finding. */
  waived?: string;
}

export interface CheckItem {
  /** The image reference, or the resource's name. */
  name: string;
  /** The fully qualified name: the image reference, or the resource's URN. */
  id: string;
  kind: 'image' | 'resource';
  outcome: ItemOutcome;
  findings: CheckFinding[];
}

export interface CheckRun {
  command: 'verify' | 'preview';
  /** The file the results point at (the trust policy for verify; the stack's config for preview). */
  artifact: string;
  items: CheckItem[];
  exitCode: number;
}

/** A repository-relative URI for the artifact (SARIF and annotations point at files in the checkout). */
export function artifactUri(file: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, path.resolve(file));
  const uri = rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(file) : rel;
  return uri.split(path.sep).join('/');
}
