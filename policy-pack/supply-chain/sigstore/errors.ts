/**
 * Coded errors of the Sigstore verification layer. Every failure, including the plain TypeErrors that
 * @sigstore/verify 3.1 throws on malformed input, surfaces as one `SignatureError` with one of these codes.
 */
export type SignatureErrorCode =
  | 'BUNDLE_MALFORMED'
  | 'SIGNATURE_INVALID'
  | 'CERTIFICATE_INVALID'
  | 'IDENTITY_MISMATCH'
  | 'TLOG_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'TIMESTAMP_MISSING'
  | 'KEY_MISMATCH'
  | 'DIGEST_MISMATCH'
  /** A digest was given in an algorithm the signed statement does not use (sha256 given, only sha512 there). */
  | 'DIGEST_ALGORITHM_MISMATCH'
  | 'TRUST_ROOT_INVALID'
  | 'SIGNER_UNKNOWN'
  | 'SIGNER_INVALID'
  | 'UNSUPPORTED';

export class SignatureError extends Error {
  constructor(
    readonly code: SignatureErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SignatureError';
  }
}
