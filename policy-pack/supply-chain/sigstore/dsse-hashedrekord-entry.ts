import type { Envelope, TransparencyLogEntry } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { createHash, timingSafeEqual } from 'node:crypto';
// Not re-exported by the package's index; the dist layout is stable across 3.x and pinned by the lockfile.
import { verifyTLogBody, verifyTLogInclusion } from '@sigstore/verify/dist/tlog';
import { SignatureError } from './errors';

/**
 * Rekor v2 logs a DSSE envelope as `hashedrekord` 0.0.2 over Hash(PAE(payloadType, payload))
 * (rekor-v2 spec §6.1.4). @sigstore/verify 3.1 compares a DSSE bundle against the sha256 of the payload,
 * which is right for `dsse`/`intoto` entries and wrong for these, so these entries are checked here:
 * the library's own inclusion and hashedrekord body checks, against the PAE digest.
 */
export function isHashedrekordOverDsse(entry: TransparencyLogEntry, envelope: Envelope | undefined): boolean {
  return envelope !== undefined && entry.kindVersion?.kind === 'hashedrekord';
}

export function verifyHashedrekordOverDsse(
  entry: TransparencyLogEntry,
  envelope: Envelope,
  trust: TrustMaterial,
): void {
  const signature = envelope.signatures[0]?.sig ?? Buffer.alloc(0);
  const paeDigest = createHash('sha256')
    .update(dsse.preAuthEncoding(envelope.payloadType, envelope.payload))
    .digest();
  const content = {
    signature,
    compareSignature: (s: Buffer) => equal(s, signature),
    compareDigest: (d: Buffer) => equal(d, paeDigest),
    // Never called by the body check; the envelope signature is verified by the library's Verifier.
    verifySignature: () => false,
  };
  try {
    verifyTLogInclusion(entry, trust.tlogs);
    verifyTLogBody(entry, content);
  } catch (e) {
    throw new SignatureError('TLOG_INVALID', `hashedrekord entry over DSSE: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
