import type { SignedEntity } from '@sigstore/verify';
import { verify, type KeyObject } from 'node:crypto';

type SignatureContent = SignedEntity['signature'];

/**
 * @sigstore/verify 3.1 verifies a message signature as `crypto.verify('sha256', artifact, key, sig)`,
 * which node refuses for Ed25519/Ed448 keys (they sign the message itself, with no separate digest), so a
 * valid Ed25519 key signature never verified. The trust policy accepts Ed25519 keys: for those keys
 * verify with the algorithm node requires (null); every other key goes to the library unchanged.
 */
export function withEdwardsKeys(content: SignatureContent, artifact: Buffer): SignatureContent {
  return {
    signature: content.signature,
    compareSignature: (s: Buffer) => content.compareSignature(s),
    compareDigest: (d: Buffer) => content.compareDigest(d),
    verifySignature(key: KeyObject): boolean {
      if (key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448') {
        try {
          return verify(null, artifact, key, content.signature);
        } catch {
          return false;
        }
      }
      return content.verifySignature(key);
    },
  };
}
