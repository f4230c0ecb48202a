import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type KeyFinderFunc, type Signer } from '@sigstore/verify';
import { createPublicKey } from 'node:crypto';

/**
 * Test-side verification with the real @sigstore/verify, used to prove that test-bed fixtures are
 * genuine. It is not the product's verifier (policy-pack/supply-chain), which is tested separately.
 */

export const EMPTY_TRUSTED_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

export interface VerifyOptions {
  trustedRoot: Record<string, unknown>;
  /** For key-based bundles: hint -> PEM public key. */
  keys?: Record<string, string>;
  /** The detached artifact of a message-signature bundle. */
  artifact?: Buffer;
  tlogThreshold?: number;
  ctlogThreshold?: number;
  timestampThreshold?: number;
  policy?: { subjectAlternativeName?: string; extensions?: { issuer?: string } };
}

export function verifyBundle(bundle: SerializedBundle, opts: VerifyOptions): Signer {
  const keys = opts.keys ?? {};
  const keyFinder: KeyFinderFunc = (hint) => {
    const pem = keys[hint];
    if (!pem) throw new Error(`no key for hint ${hint}`);
    return { publicKey: createPublicKey(pem), validFor: () => true };
  };
  const trust = toTrustMaterial(TrustedRoot.fromJSON(opts.trustedRoot), keyFinder);
  const verifier = new Verifier(trust, {
    tlogThreshold: opts.tlogThreshold ?? 1,
    ctlogThreshold: opts.ctlogThreshold ?? 1,
    timestampThreshold: opts.timestampThreshold ?? 1,
  });
  return verifier.verify(toSignedEntity(bundleFromJSON(bundle), opts.artifact), opts.policy);
}

/** A copy of the bundle with one bit of its signature flipped. */
export function flipSignatureByte(bundle: SerializedBundle): SerializedBundle {
  const copy = JSON.parse(JSON.stringify(bundle)) as SerializedBundle;
  const flip = (b64: string): string => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    return bytes.toString('base64');
  };
  if (copy.messageSignature) copy.messageSignature.signature = flip(copy.messageSignature.signature);
  const sig = copy.dsseEnvelope?.signatures[0];
  if (sig) sig.sig = flip(sig.sig);
  return copy;
}

/** A copy of a DSSE bundle with one byte of its payload changed. */
export function flipPayloadByte(bundle: SerializedBundle): SerializedBundle {
  const copy = JSON.parse(JSON.stringify(bundle)) as SerializedBundle;
  if (!copy.dsseEnvelope) throw new Error('not a DSSE bundle');
  const payload = Buffer.from(copy.dsseEnvelope.payload, 'base64');
  payload[0] = (payload[0] ?? 0) ^ 0x01;
  copy.dsseEnvelope.payload = payload.toString('base64');
  return copy;
}
