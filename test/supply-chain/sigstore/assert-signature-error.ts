import { strict as assert } from 'node:assert';
import { SignatureError, type SignatureErrorCode } from '../../../policy-pack/supply-chain/sigstore';

/** Assert that `fn` throws a SignatureError with one of `codes` (class and code, never message text). */
export function assertSignatureError(fn: () => unknown, ...codes: SignatureErrorCode[]): SignatureError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected SignatureError ${codes.join('|')}, but nothing was thrown`);
  assert.ok(thrown instanceof SignatureError, `expected SignatureError, got ${String(thrown)}`);
  assert.ok(
    codes.includes(thrown.code),
    `expected ${codes.join('|')}, got ${thrown.code}: ${thrown.message}`,
  );
  return thrown;
}
