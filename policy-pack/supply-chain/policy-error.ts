/**
 * Coded errors of the trust-policy layer. A policy document is checked completely before it is rejected,
 * so one `PolicyError` lists every problem found (the user fixes them all in one pass).
 */

export type PolicyErrorCode =
  | 'POLICY_UNREADABLE'
  | 'POLICY_SYNTAX'
  | 'POLICY_SCHEMA'
  | 'POLICY_UNKNOWN_SIGNER'
  | 'POLICY_BAD_REGEXP'
  | 'POLICY_BAD_GLOB'
  | 'POLICY_BAD_KEY'
  | 'POLICY_KEY_FILE_UNREADABLE'
  | 'POLICY_BAD_THRESHOLD'
  | 'POLICY_BAD_EXEMPTION'
  | 'POLICY_BAD_REPOSITORY'
  | 'POLICY_TRUSTED_ROOT_UNREADABLE';

export interface PolicyProblem {
  code: PolicyErrorCode;
  /** JSON pointer-like location in the document (`/images/0/reproducible/threshold`). */
  path: string;
  message: string;
}

export class PolicyError extends Error {
  /** The code of the first problem; every problem is in `problems`. */
  readonly code: PolicyErrorCode;

  constructor(
    readonly problems: PolicyProblem[],
    readonly source = 'trust policy',
  ) {
    super(
      `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.code} at ${p.path || '/'}: ${p.message}`).join('\n'),
    );
    this.name = 'PolicyError';
    this.code = problems[0]?.code ?? 'POLICY_SCHEMA';
  }
}

export function isPolicyError(e: unknown): e is PolicyError {
  return e instanceof PolicyError;
}
