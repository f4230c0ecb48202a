import type { Descriptor } from '../../policy-pack/registry/types';
import type { OciTarget } from './target';

/** One cosign signature layer (tag scheme `sha256-<hex>.sig`). Values are what cosign puts in the annotations. */
export interface CosignSignatureInput {
  /** The signed payload (usually `simpleSigningPayload(...)`): the layer blob. */
  payload: Buffer;
  /** Base64 signature over `payload` (annotation `dev.cosignproject.cosign/signature`). */
  signature: string;
  /** PEM leaf certificate (keyless). */
  certificate?: string;
  /** PEM chain (intermediates then root). */
  chain?: string;
  /** Rekor SET bundle JSON, cosign's `{"SignedEntryTimestamp":..,"Payload":{..}}`. */
  bundle?: string;
  /** RFC 3161 timestamp JSON, cosign's `{"SignedRFC3161Timestamp":"<base64>"}`. */
  rfc3161Timestamp?: string;
}

/** One cosign attestation layer (tag scheme `sha256-<hex>.att`): a DSSE envelope. */
export interface CosignAttestationInput {
  /** The DSSE envelope JSON: the layer blob. */
  envelope: Buffer;
  /** The in-toto predicate type (annotation `predicateType`). */
  predicateType: string;
  certificate?: string;
  chain?: string;
  bundle?: string;
  rfc3161Timestamp?: string;
}

/** The `sha256-<hex>` tag of a digest (cosign's and the referrers fallback's naming). */
export function digestTag(digest: string, suffix = ''): string {
  return digest.replace(':', '-') + suffix;
}

/** Pushes `sha256-<hex>.sig` for `subjectDigest` with one layer per signature. */
export async function attachCosignSignatures(
  _target: OciTarget,
  _repo: string,
  _subjectDigest: string,
  _sigs: CosignSignatureInput[],
): Promise<Descriptor> {
  throw new Error('not implemented');
}

/** Pushes `sha256-<hex>.att` for `subjectDigest` with one DSSE layer per attestation. */
export async function attachCosignAttestations(
  _target: OciTarget,
  _repo: string,
  _subjectDigest: string,
  _atts: CosignAttestationInput[],
): Promise<Descriptor> {
  throw new Error('not implemented');
}

/**
 * Pushes a Sigstore bundle as an OCI 1.1 referrer of `subject` and adds it to the referrers
 * tag-schema fallback index (`sha256-<hex>`), since distribution 2.8 has no referrers API.
 * `artifactType` is the bundle media type per the Sigstore OCI conventions; `predicateType`
 * (for DSSE bundles) goes into `dev.sigstore.bundle.predicateType`.
 */
export async function attachBundleReferrer(
  _target: OciTarget,
  _repo: string,
  _subject: Descriptor,
  _bundleJson: Buffer,
  _artifactType: string,
  _opts?: { predicateType?: string; annotations?: Record<string, string> },
): Promise<Descriptor> {
  throw new Error('not implemented');
}

/** Cosign's simple-signing payload (`atomic container signature`) for an image digest. */
export function simpleSigningPayload(_dockerReference: string, _manifestDigest: string): Buffer {
  throw new Error('not implemented');
}

export interface InTotoStatementInput {
  subjects: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
  /** `v1` (https://in-toto.io/Statement/v1, default) or `v0.1`. */
  statementVersion?: 'v1' | 'v0.1';
}

export function inTotoStatement(_input: InTotoStatementInput): Buffer {
  throw new Error('not implemented');
}
