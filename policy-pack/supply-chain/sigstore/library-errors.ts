import { PolicyError, VerificationError } from '@sigstore/verify';
import { SignatureError, type SignatureErrorCode } from './errors';

const LIBRARY_CODES: Record<string, SignatureErrorCode> = {
  TLOG_ERROR: 'TLOG_INVALID',
  TLOG_INCLUSION_PROOF_ERROR: 'TLOG_INVALID',
  TLOG_INCLUSION_PROMISE_ERROR: 'TLOG_INVALID',
  TLOG_MISSING_INCLUSION_ERROR: 'TLOG_INVALID',
  TLOG_BODY_ERROR: 'TLOG_INVALID',
  CERTIFICATE_ERROR: 'CERTIFICATE_INVALID',
  PUBLIC_KEY_ERROR: 'KEY_MISMATCH',
  SIGNATURE_ERROR: 'SIGNATURE_INVALID',
  TIMESTAMP_ERROR: 'TIMESTAMP_INVALID',
  NOT_IMPLEMENTED_ERROR: 'UNSUPPORTED',
};

/**
 * Every exception out of @sigstore/* becomes a coded SignatureError. 3.1 throws plain TypeErrors on some
 * malformed inputs (NOTES.md): those are failed verifications of a malformed bundle, never a crash.
 */
export function toSignatureError(e: unknown, context: string): SignatureError {
  if (e instanceof SignatureError) return e;
  if (e instanceof VerificationError) {
    const code =
      e.code === 'TIMESTAMP_ERROR' && /expected \d+ timestamps/.test(e.message)
        ? 'TIMESTAMP_MISSING'
        : (LIBRARY_CODES[e.code] ?? 'SIGNATURE_INVALID');
    return new SignatureError(code, `${context}: ${e.message}`, { cause: e });
  }
  if (e instanceof PolicyError) {
    return new SignatureError('IDENTITY_MISMATCH', `${context}: ${e.message}`, { cause: e });
  }
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new SignatureError(
    'BUNDLE_MALFORMED',
    `${context}: the bundle could not be processed (${message})`,
    {
      cause: e,
    },
  );
}
