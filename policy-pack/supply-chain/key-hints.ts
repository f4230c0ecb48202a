import { createHash, createPublicKey } from 'node:crypto';
import type { ResolvedSigner } from './sigstore';

/**
 * Key bundles name their key by `publicKey.hint`; trying the signer with that key first saves a full
 * failed verification per other key signer listed before it.
 */
/** sha256 (hex) of each key signer's DER public key: the default `publicKey.hint` of key bundles. */
export function keyFingerprints(signers: Iterable<ResolvedSigner>): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const s of signers) {
    if (s.key === undefined) continue;
    const der = createPublicKey(s.key.publicKeyPem).export({ type: 'spki', format: 'der' });
    out.set(s.name, createHash('sha256').update(der).digest('hex'));
  }
  return out;
}

/**
 * Moves the signers whose key fingerprint equals the bundle's `publicKey.hint` to the front, keeping
 * the relative order of both groups. The outcome is the same as with the original order (a signer
 * whose key differs from the hinted one cannot verify a signature the hinted key made, and signers
 * sharing one key keep their order): only the failed attempts with other keys are saved.
 */
export function preferHintedKeys(
  order: string[],
  bundle: unknown,
  fingerprints: ReadonlyMap<string, string>,
): string[] {
  const hint = (bundle as { verificationMaterial?: { publicKey?: { hint?: unknown } } } | null)
    ?.verificationMaterial?.publicKey?.hint;
  if (typeof hint !== 'string' || hint === '') return order;
  const hinted = order.filter((n) => fingerprints.get(n) === hint.toLowerCase());
  if (hinted.length === 0) return order;
  return [...hinted, ...order.filter((n) => !hinted.includes(n))];
}
