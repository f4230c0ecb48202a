/** Codes of the preview layer (recording a program, loading its stack, running it past the pack). */
export type PreviewErrorCode =
  | 'STACK_UNKNOWN'
  | 'STACK_CONFIG_INVALID'
  | 'PROGRAM_FAILED'
  | 'POLICY_CONFIG_INVALID'
  | 'PACK_NOT_BUILT'
  | 'ANALYZER_FAILED';

export class PreviewError extends Error {
  constructor(
    readonly code: PreviewErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PreviewError';
  }
}
