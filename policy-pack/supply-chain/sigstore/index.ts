/**
 * Public API of the Sigstore layer: trusted roots, the bundle verifier and the cosign legacy converter.
 * Callers (the image-level orchestration, `trustops verify-bundle`) import from here only.
 */
import type { CosignLayer } from '../../registry/types';
import type { KeylessSigner } from '../types';

export { SignatureError } from './errors';
export type { SignatureErrorCode } from './errors';

/** A signer of the trust policy, resolved (key files read) by the trust-policy loader. */
export interface ResolvedSigner {
  name: string;
  /** issuer|issuerRegExp, subject|subjectRegExp (anchored), optional Fulcio claims. */
  keyless?: KeylessSigner;
  key?: { publicKeyPem: string; requireTransparencyLog: boolean };
}

/** Parsed, validated trust material (CAs, Rekor logs, CT logs, TSAs). Opaque to callers. */
export interface TrustedRootMaterial {
  /** Where it came from, for messages: `embedded public-good` or a file path. */
  readonly source: string;
  /** Internal: the parsed protobuf TrustedRoot. */
  readonly root: unknown;
}

export interface VerifiedSignature {
  /** Name of the first allowed signer the bundle satisfied. */
  signer: string;
  /** Readable identity: `<SAN> (issuer <issuer>)` for certificates, `key sha256:<hex>` for keys. */
  identity: string;
  /** DSSE only. */
  payloadType?: string;
  /** DSSE only: the envelope payload (already authenticated). */
  payload?: Buffer;
  /** What anchored the signature in time: a verified tlog entry and/or a verified RFC 3161 timestamp. */
  evidence: ('tlog' | 'timestamp')[];
}

export interface VerifyOptions {
  /** Message signatures: the artifact bytes... */
  artifact?: Buffer;
  /** ...or its digest `sha256:<hex>` (ECDSA signatures only; Ed25519/RSA need the artifact). */
  artifactDigest?: string;
  /** Signer names, tried in order; the first satisfied one is returned. */
  allowedSigners: string[];
  /**
   * The signers the requirement behind this check accepts (default: all of `allowedSigners`). The others
   * are tried only so that a valid signature by a signer the requirement does not accept is told apart
   * from a broken one; messages about a signature no signer verifies name only these.
   */
  acceptedSigners?: readonly string[];
}

export interface BundleVerifier {
  /**
   * Verify a Sigstore bundle (v0.1, v0.2, v0.3 JSON) and return the FIRST signer of `allowedSigners` it
   * satisfies. Message signatures: give `artifact` bytes or `artifactDigest` ('sha256:<hex>'). DSSE: the
   * envelope payload is returned (binding it to an artifact is the caller's job). Throws SignatureError.
   */
  verify(bundle: unknown, opts: VerifyOptions): VerifiedSignature;
}

export { loadTrustedRoot, embeddedPublicGoodRoot } from './trusted-root';
export { createBundleVerifier } from './bundle-verifier';
export { cosignLayerToBundle } from './cosign-legacy';
export { assertStatementSubject } from './intoto-subject';
export type { StatementArtifact } from './intoto-subject';
export type { CosignLayer };
