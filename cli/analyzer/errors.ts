/**
 * Coded errors of the analyzer harness (one union per layer). A policy violation is never an error:
 * errors mean the pack could not be started or did not answer the protocol.
 */
export type AnalyzerErrorCode =
  /** The pack folder or @pulumi/pulumi's run-policy-pack entry point is missing. */
  | 'PACK_NOT_FOUND'
  /** The pack process exited or printed something other than a port before it served. */
  | 'START_FAILED'
  /** No port within the start timeout. */
  | 'START_TIMEOUT'
  /** The config does not satisfy the policies' config schemas (the engine refuses it the same way). */
  | 'INVALID_CONFIG'
  /** A resource cannot be put on the wire (non-JSON values). */
  | 'INVALID_RESOURCE'
  /** A gRPC call failed (the pack threw, crashed or broke the protocol). */
  | 'RPC_FAILED'
  /** The session was closed. */
  | 'CLOSED';

export class AnalyzerError extends Error {
  override readonly name = 'AnalyzerError';

  constructor(
    readonly code: AnalyzerErrorCode,
    message: string,
    options?: { cause?: unknown; problems?: string[] },
  ) {
    super(message, options);
    this.problems = options?.problems ?? [];
  }

  /** INVALID_CONFIG: each problem, `policy/path: message`. */
  readonly problems: string[];
}

export function isAnalyzerError(e: unknown, code?: AnalyzerErrorCode): e is AnalyzerError {
  return e instanceof AnalyzerError && (code === undefined || e.code === code);
}
