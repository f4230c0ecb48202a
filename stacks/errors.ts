/** Why a stack program cannot start. One code per cause, so callers and tests branch on `code`. */
export type StackErrorCode =
  | 'STACK_LAYER_UNKNOWN' // the stack name maps to no layer (platform-<env>, apps-<env> or demo)
  | 'TRUST_POLICY_MISSING'; // the pack config named by the stack holds no trusted-images trust policy

export class StackError extends Error {
  constructor(
    readonly code: StackErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StackError';
  }
}
