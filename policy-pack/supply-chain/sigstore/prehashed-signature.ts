import type { MessageSignature } from '@sigstore/bundle';
import { p256, p384, p521 } from '@noble/curves/nist';
import type { KeyObject } from 'node:crypto';
import { timingSafeEqual } from 'node:crypto';
import { SignatureError } from './errors';

/**
 * Signature content for a message signature when only the artifact's digest is known (`sha256:<hex>`).
 *
 * Node's crypto cannot verify an ECDSA signature over a precomputed digest (it always hashes its input),
 * so the check itself is delegated to @noble/curves (audited) with `prehash: false`. It implements the
 * SignatureContent shape of @sigstore/verify so the library still runs every other check (tlog body,
 * inclusion, certificate chain, timestamps). Ed25519 and RSA signatures need the artifact itself.
 */
export class PrehashedMessageSignature {
  readonly signature: Buffer;
  private readonly digest: Buffer;

  constructor(messageSignature: MessageSignature, digest: Buffer) {
    this.signature = messageSignature.signature;
    this.digest = digest;
  }

  compareSignature(signature: Buffer): boolean {
    return equal(signature, this.signature);
  }

  compareDigest(digest: Buffer): boolean {
    return equal(digest, this.digest);
  }

  verifySignature(key: KeyObject): boolean {
    if (key.asymmetricKeyType !== 'ec') {
      throw new SignatureError(
        'UNSUPPORTED',
        `a ${key.asymmetricKeyType ?? 'unknown'} signature can only be verified against the artifact, not its digest`,
      );
    }
    const jwk = key.export({ format: 'jwk' });
    const curve =
      jwk.crv === 'P-256' ? p256 : jwk.crv === 'P-384' ? p384 : jwk.crv === 'P-521' ? p521 : undefined;
    if (!curve || !jwk.x || !jwk.y) {
      throw new SignatureError('UNSUPPORTED', `unsupported EC curve ${String(jwk.crv)}`);
    }
    const point = Buffer.concat([
      Buffer.of(4),
      Buffer.from(jwk.x, 'base64url'),
      Buffer.from(jwk.y, 'base64url'),
    ]);
    try {
      return curve.verify(this.signature, this.digest, point, { prehash: false, lowS: false, format: 'der' });
    } catch {
      return false;
    }
  }
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
