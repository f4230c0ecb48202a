/** Codes of the deploy orchestrator. A policy violation is an outcome in the record, not an error. */
export type DeployErrorCode =
  /** No policy pack given: the orchestrator never runs a stack without it. */
  | 'PACK_REQUIRED'
  /** No policy-pack config given, or it cannot be read. */
  | 'PACK_CONFIG_REQUIRED'
  /** The pack folder is not a built policy pack (no PulumiPolicy.yaml or no dist/). */
  | 'PACK_NOT_BUILT'
  /** The Pulumi CLI, which the Automation API drives, is not installed. */
  | 'PULUMI_CLI_MISSING'
  /** A stack name that maps to no layer of this project. */
  | 'STACK_UNKNOWN';

export class DeployError extends Error {
  override readonly name = 'DeployError';

  constructor(
    readonly code: DeployErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
