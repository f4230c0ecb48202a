/**
 * The registry layer's one union of error codes. Callers (the pack's validators, the CLI) branch on
 * `code`; the message is for people and says what was expected, what was found and what to do.
 * Messages never carry credentials: they name hosts, repositories and digests only.
 */
export type RegistryErrorCode =
  | 'INVALID_REFERENCE'
  | 'INVALID_CONFIG'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'CREDENTIALS_ERROR'
  | 'DIGEST_MISMATCH'
  | 'TOO_LARGE'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'BAD_RESPONSE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INSECURE_TRANSPORT'
  | 'TOO_MANY_REDIRECTS'
  | 'PLATFORM_NOT_FOUND';

export interface RegistryErrorDetails {
  /** Registry host the failing request went to (never a URL with userinfo). */
  registry?: string;
  repository?: string;
  /** Tag or digest the request was about. */
  reference?: string;
  /** HTTP status when one was received. */
  status?: number;
  cause?: unknown;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly registry?: string;
  readonly repository?: string;
  readonly reference?: string;
  readonly status?: number;

  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    details: RegistryErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.registry = details.registry;
    this.repository = details.repository;
    this.reference = details.reference;
    this.status = details.status;
  }
}

export function isRegistryError(e: unknown, code?: RegistryErrorCode): e is RegistryError {
  return e instanceof RegistryError && (code === undefined || e.code === code);
}
