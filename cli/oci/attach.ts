import type { Descriptor } from '../../policy-pack/registry/types';
import { blobOf, digestHex } from './digest';
import { OciWriteError } from './errors';
import { buildArtifactManifest, descriptorOf, type Blob } from './image';
import {
  BUNDLE_ANNOTATION,
  COSIGN_ANNOTATION,
  COSIGN_SIMPLESIGNING,
  DSSE_ENVELOPE,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from './media-types';
import { pushImage, type OciTarget } from './target';

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
  return `sha256-${digestHex(digest)}${suffix}`;
}

function optionalAnnotations(input: {
  certificate?: string;
  chain?: string;
  bundle?: string;
  rfc3161Timestamp?: string;
}): Record<string, string> {
  const a: Record<string, string> = {};
  if (input.certificate !== undefined) a[COSIGN_ANNOTATION.certificate] = input.certificate;
  if (input.chain !== undefined) a[COSIGN_ANNOTATION.chain] = input.chain;
  if (input.bundle !== undefined) a[COSIGN_ANNOTATION.bundle] = input.bundle;
  if (input.rfc3161Timestamp !== undefined) a[COSIGN_ANNOTATION.rfc3161Timestamp] = input.rfc3161Timestamp;
  return a;
}

/**
 * Cosign's signature images carry an OCI config whose rootfs lists the (uncompressed) layers; readers
 * ignore it, but writing it keeps the manifests shaped like the ones cosign pushes.
 */
function cosignConfig(layers: Descriptor[]): Blob {
  const config = {
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
    os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    config: {},
  };
  return blobOf(OCI_CONFIG, Buffer.from(JSON.stringify(config)));
}

export interface CosignAttachOptions {
  /**
   * Keep the layers already under the tag and add these after them, as `cosign sign` does for a second
   * signer. Default false: the tag is replaced.
   */
  append?: boolean;
}

async function existingLayers(target: OciTarget, repo: string, tag: string): Promise<Descriptor[]> {
  if (!target.getManifest) {
    throw new OciWriteError('INVALID_INPUT', 'this target cannot read manifests back, so it cannot append');
  }
  const existing = await target.getManifest(repo, tag);
  if (!existing) return [];
  return (JSON.parse(existing.bytes.toString()) as { layers?: Descriptor[] }).layers ?? [];
}

async function pushCosignManifest(
  target: OciTarget,
  repo: string,
  subjectDigest: string,
  suffix: '.sig' | '.att' | '.sbom',
  layers: Blob[],
  opts: CosignAttachOptions,
): Promise<Descriptor> {
  const tag = digestTag(subjectDigest, suffix);
  if (layers.length === 0) throw new OciWriteError('INVALID_INPUT', `no layers for ${tag}`);
  const fresh = layers.map(descriptorOf);
  const key = (d: Descriptor): string => JSON.stringify([d.digest, d.annotations ?? {}]);
  const kept = opts.append
    ? (await existingLayers(target, repo, tag)).filter((d) => !fresh.some((f) => key(f) === key(d)))
    : [];
  const all = [...kept, ...fresh];
  const config = cosignConfig(all);
  for (const blob of [config, ...layers]) await target.putBlob(repo, blob);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(config), layers: all }),
  );
  const digest = await target.putManifest(repo, manifest, OCI_MANIFEST, tag);
  return { mediaType: OCI_MANIFEST, digest, size: manifest.length };
}

/** Pushes `sha256-<hex>.sig` for `subjectDigest` with one layer per signature (replacing any earlier one unless `append`). */
export async function attachCosignSignatures(
  target: OciTarget,
  repo: string,
  subjectDigest: string,
  sigs: CosignSignatureInput[],
  opts: CosignAttachOptions = {},
): Promise<Descriptor> {
  const layers = sigs.map((s) => ({
    ...blobOf(COSIGN_SIMPLESIGNING, s.payload),
    annotations: { [COSIGN_ANNOTATION.signature]: s.signature, ...optionalAnnotations(s) },
  }));
  return pushCosignManifest(target, repo, subjectDigest, '.sig', layers, opts);
}

/** Pushes `sha256-<hex>.att` for `subjectDigest` with one DSSE layer per attestation (replacing any earlier one unless `append`). */
export async function attachCosignAttestations(
  target: OciTarget,
  repo: string,
  subjectDigest: string,
  atts: CosignAttestationInput[],
  opts: CosignAttachOptions = {},
): Promise<Descriptor> {
  const layers = atts.map((a) => ({
    ...blobOf(DSSE_ENVELOPE, a.envelope),
    // cosign writes an empty signature annotation on attestations: the signature lives in the envelope
    annotations: {
      [COSIGN_ANNOTATION.signature]: '',
      [COSIGN_ANNOTATION.predicateType]: a.predicateType,
      ...optionalAnnotations(a),
    },
  }));
  return pushCosignManifest(target, repo, subjectDigest, '.att', layers, opts);
}

/**
 * Pushes `sha256-<hex>.sbom` as `cosign attach sbom` does: the SBOM as the single layer, unsigned. It is
 * not evidence by itself (only a signed attestation is); fixtures use it to prove verifiers ignore it.
 */
export async function attachCosignSbom(
  target: OciTarget,
  repo: string,
  subjectDigest: string,
  sbom: Buffer,
  mediaType: string,
): Promise<Descriptor> {
  return pushCosignManifest(target, repo, subjectDigest, '.sbom', [blobOf(mediaType, sbom)], {});
}

/** What a bundle holds, for the `dev.sigstore.bundle.content` annotation, and its in-toto predicate type if any. */
function describeBundle(bundleJson: Buffer): { content: string; predicateType?: string } {
  let bundle: { dsseEnvelope?: { payload?: string; payloadType?: string }; messageSignature?: unknown };
  try {
    bundle = JSON.parse(bundleJson.toString()) as typeof bundle;
  } catch {
    throw new OciWriteError('INVALID_INPUT', 'the bundle to attach is not JSON');
  }
  if (bundle.messageSignature) return { content: 'message-signature' };
  const env = bundle.dsseEnvelope;
  if (!env)
    throw new OciWriteError('INVALID_INPUT', 'the bundle has neither messageSignature nor dsseEnvelope');
  if (env.payloadType === IN_TOTO_PAYLOAD_TYPE && env.payload) {
    try {
      const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as {
        predicateType?: unknown;
      };
      if (typeof statement.predicateType === 'string') {
        return { content: 'dsse-envelope', predicateType: statement.predicateType };
      }
    } catch {
      // not an in-toto statement: no predicate type to record
    }
  }
  return { content: 'dsse-envelope' };
}

/**
 * Pushes a Sigstore bundle as an OCI 1.1 referrer of `subject` (cosign specs/BUNDLE_SPEC.md) and adds it
 * to the referrers tag-schema fallback index (`sha256-<hex>`) unless the registry answered the push with
 * `OCI-Subject` (it has the referrers API and lists the referrer itself; distribution 2.8 has none). `artifactType` is the bundle media type per the Sigstore OCI conventions; the predicate type (given,
 * or read from the DSSE payload) goes into `dev.sigstore.bundle.predicateType`.
 */
export async function attachBundleReferrer(
  target: OciTarget,
  repo: string,
  subject: Descriptor,
  bundleJson: Buffer,
  artifactType: string = SIGSTORE_BUNDLE_V03,
  opts: { predicateType?: string; annotations?: Record<string, string>; created?: string } = {},
): Promise<Descriptor> {
  const described = describeBundle(bundleJson);
  const predicateType = opts.predicateType ?? described.predicateType;
  const bundleBlob = blobOf(SIGSTORE_BUNDLE_V03, bundleJson);
  const annotations: Record<string, string> = {
    [BUNDLE_ANNOTATION.content]: described.content,
    ...(predicateType ? { [BUNDLE_ANNOTATION.predicateType]: predicateType } : {}),
    ...(opts.created ? { [BUNDLE_ANNOTATION.created]: opts.created } : {}),
    ...opts.annotations,
  };
  const referrer = buildArtifactManifest({
    artifactType,
    subject,
    annotations,
    layers: [
      {
        ...bundleBlob,
        annotations: { [BUNDLE_ANNOTATION.title]: `${digestTag(bundleBlob.digest)}.sigstore.json` },
      },
    ],
  });
  const descriptor = await pushImage(target, repo, referrer);
  const entry: Descriptor = { ...descriptor, artifactType, annotations };
  // a registry that answered OCI-Subject lists the referrer itself; otherwise the tag-schema index does
  if (!target.indexedSubjectOf?.(repo, descriptor.digest)) {
    await addToReferrersFallback(target, repo, subject.digest, entry);
  }
  return entry;
}

/** Read-modify-write of the `sha256-<hex>` referrers index (distribution-spec "referrers tag schema"). */
export async function addToReferrersFallback(
  target: OciTarget,
  repo: string,
  subjectDigest: string,
  entry: Descriptor,
): Promise<Descriptor> {
  if (!target.getManifest) {
    throw new OciWriteError(
      'INVALID_INPUT',
      'this target cannot read manifests back, so it cannot update a referrers index',
    );
  }
  const tag = digestTag(subjectDigest);
  const existing = await target.getManifest(repo, tag);
  let manifests: Descriptor[] = [];
  if (existing) {
    const parsed = JSON.parse(existing.bytes.toString()) as { manifests?: Descriptor[] };
    manifests = (parsed.manifests ?? []).filter((m) => m.digest !== entry.digest);
  }
  manifests.push(entry);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  const digest = await target.putManifest(repo, index, OCI_INDEX, tag);
  return { mediaType: OCI_INDEX, digest, size: index.length };
}

/** Cosign's simple-signing payload (`cosign container image signature`) for an image digest. */
export function simpleSigningPayload(dockerReference: string, manifestDigest: string): Buffer {
  digestHex(manifestDigest);
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': manifestDigest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

export interface InTotoStatementInput {
  subjects: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
  /** `v1` (https://in-toto.io/Statement/v1, default) or `v0.1`. */
  statementVersion?: 'v1' | 'v0.1';
}

export function inTotoStatement(input: InTotoStatementInput): Buffer {
  if (input.subjects.length === 0)
    throw new OciWriteError('INVALID_INPUT', 'an in-toto statement needs a subject');
  return Buffer.from(
    JSON.stringify({
      _type: `https://in-toto.io/Statement/${input.statementVersion ?? 'v1'}`,
      subject: input.subjects,
      predicateType: input.predicateType,
      predicate: input.predicate,
    }),
  );
}

/** The in-toto subject for an image manifest digest. */
export function imageSubject(name: string, digest: string): { name: string; digest: Record<string, string> } {
  return { name, digest: { sha256: digestHex(digest) } };
}
