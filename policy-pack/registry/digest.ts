import { createHash } from 'node:crypto';
import { RegistryError, type RegistryErrorDetails } from './errors';

/** Only sha256 is accepted: it is what every registry and Sigstore tool writes, and one algorithm is one less trick. */
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isSha256Digest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Throws DIGEST_MISMATCH unless `bytes` hash to `expected`: content from a registry is data only once this passed. */
export function verifyDigest(bytes: Uint8Array, expected: string, details: RegistryErrorDetails): void {
  if (!isSha256Digest(expected)) {
    throw new RegistryError(
      'BAD_RESPONSE',
      `Expected a sha256 digest, found "${expected.slice(0, 80)}"; only sha256-addressed content is accepted.`,
      details,
    );
  }
  const actual = sha256Digest(bytes);
  if (actual !== expected) {
    throw new RegistryError(
      'DIGEST_MISMATCH',
      `Content of ${details.registry ?? ''}/${details.repository ?? ''} expected to hash to ${expected} hashes to ${actual}; ` +
        'the registry, a mirror or a proxy returned different bytes. Do not trust this source until it is fixed.',
      details,
    );
  }
}

/** `sha256:<hex>` -> `sha256-<hex>`: the tag form cosign and the referrers tag schema use. */
export function digestToTag(digest: string): string {
  return digest.replace(':', '-');
}
