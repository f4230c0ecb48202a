import type { SerializedBundle } from '@sigstore/bundle';
import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import type {
  Attachments,
  CosignLayer,
  Descriptor,
  ImageReference,
  ReferrerBundle,
} from '../../policy-pack/registry/types';
import { COSIGN_SIGN_PREDICATE, EvidenceCollector } from '../../policy-pack/supply-chain/evidence';
import {
  createBundleVerifier,
  type ResolvedSigner,
  type TrustedRootMaterial,
} from '../../policy-pack/supply-chain/sigstore';
import { certificateIdentity } from '../../policy-pack/supply-chain/sigstore/certificate-identity';
import { evidenceKindOf } from '../../policy-pack/supply-chain/signer-order';
import {
  attachBundleReferrer,
  attachCosignAttestations,
  attachCosignSignatures,
  digestTag,
  imageSubject,
  inTotoStatement,
  simpleSigningPayload,
  type CosignAttestationInput,
  type CosignSignatureInput,
} from './attach';
import { blobOf, digestHex } from './digest';
import { descriptorOf } from './image';
import {
  BUNDLE_ANNOTATION,
  COSIGN_ANNOTATION,
  COSIGN_SIMPLESIGNING,
  DSSE_ENVELOPE,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from './media-types';
import type { Predicate } from './predicates';
import { cosignAttestationLayer, cosignSignatureLayer, type BundleSigner } from './publish';
import type { OciTarget } from './target';

/**
 * `trustops attest`'s publishing core: sign the image and/or in-toto statements about it, check every
 * signed piece exactly as `trustops verify` will read it, then publish in cosign's formats. Nothing is
 * pushed until everything is signed and checked, so a failure leaves the registry as it was.
 *
 * Formats (both are what cosign writes, and what the policy pack reads):
 * - `cosign`: cosign's tag scheme. `sha256-<hex>.sig` gets one simple-signing layer per signature
 *   (`cosign sign`), `sha256-<hex>.att` one DSSE envelope layer per attestation (`cosign attest`,
 *   in-toto Statement v0.1), layers appended to those already there, as cosign does.
 * - `referrer`: Sigstore bundles as OCI 1.1 referrers (cosign v3's default, `--new-bundle-format`): the
 *   image signature is a DSSE bundle over an in-toto v1 statement of type
 *   `https://sigstore.dev/cosign/sign/v1` (what `cosign sign` makes), each attestation a DSSE bundle; each
 *   referrer also goes into the `sha256-<hex>` referrers tag-schema index for registries without the
 *   referrers API.
 */

export type AttestFormat = 'cosign' | 'referrer';

export type AttestFailureCode =
  | 'REGISTRY_ERROR' // the image (or the rebuilt image) could not be read
  | 'SIGNING_FAILED' // Fulcio, Rekor, the TSA or the identity token failed
  | 'SELF_CHECK_FAILED' // what was signed does not verify against the trusted root: nothing pushed
  | 'PUBLISH_FAILED'; // the registry or layout refused a write (part may have been written)

export class AttestFailure extends Error {
  constructor(
    readonly code: AttestFailureCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AttestFailure';
  }
}

export interface AttestSubject {
  reference: ImageReference;
  /** `host/repo`, as in payloads and statement subjects. */
  name: string;
  digest: string;
  /** The manifest's descriptor (mediaType, digest, size): the `subject` of referrers. */
  descriptor: Descriptor;
  /** The manifest bytes (sha256 = digest). */
  manifest: Buffer;
}

export interface AttestPlan {
  subject: AttestSubject;
  sign: boolean;
  predicates: Predicate[];
  formats: AttestFormat[];
  /** `org.opencontainers.image.created` of referrers. */
  now: Date;
}

interface SignedAttestation {
  predicate: Predicate;
  bundle: SerializedBundle;
  layer: CosignAttestationInput;
}

export interface SignedEvidence {
  cosignSignature?: CosignSignatureInput;
  referrerSignature?: SerializedBundle;
  attestations: SignedAttestation[];
}

/** The in-toto v1 statement `cosign sign` signs in the bundle format: the digest as the only subject. */
export function cosignSignStatement(digest: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: digestHex(digest) } }],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    }),
  );
}

/** The statement `cosign attest` signs for a predicate: Statement v0.1, subject `host/repo` and the digest. */
export function attestationStatement(subject: AttestSubject, p: Predicate): Buffer {
  return inTotoStatement({
    subjects: [imageSubject(subject.name, subject.digest)],
    predicateType: p.predicateType,
    predicate: p.predicate,
    statementVersion: 'v0.1',
  });
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The DER leaf certificate of a keyless bundle (base64), if any. */
function leafOf(bundle: SerializedBundle): string | undefined {
  const m = bundle.verificationMaterial;
  return m.certificate?.rawBytes ?? m.x509CertificateChain?.certificates[0]?.rawBytes;
}

/**
 * Signs everything the plan asks for. `chainFor` gives the CA chain cosign writes beside a keyless
 * certificate (`dev.sigstore.cosign/chain`). Throws AttestFailure SIGNING_FAILED.
 */
export async function signPlan(
  plan: AttestPlan,
  signer: BundleSigner,
  chainFor: (leafPem: string) => string | undefined = () => undefined,
): Promise<SignedEvidence> {
  const withChain = <T extends { certificate?: string }>(layer: T): T & { chain?: string } => {
    const chain = layer.certificate ? chainFor(layer.certificate) : undefined;
    return chain ? { ...layer, chain } : layer;
  };
  const out: SignedEvidence = { attestations: [] };
  try {
    if (plan.sign && plan.formats.includes('cosign')) {
      const { layer } = await cosignSignatureLayer(
        signer,
        simpleSigningPayload(plan.subject.name, plan.subject.digest),
      );
      out.cosignSignature = withChain(layer);
    }
    if (plan.sign && plan.formats.includes('referrer')) {
      out.referrerSignature = await signer.signDsse(
        cosignSignStatement(plan.subject.digest),
        IN_TOTO_PAYLOAD_TYPE,
      );
    }
    for (const predicate of plan.predicates) {
      const bundle = await signer.signDsse(
        attestationStatement(plan.subject, predicate),
        IN_TOTO_PAYLOAD_TYPE,
      );
      out.attestations.push({
        predicate,
        bundle,
        layer: withChain(cosignAttestationLayer(bundle, predicate.predicateType)),
      });
    }
  } catch (e) {
    if (e instanceof AttestFailure) throw e;
    throw new AttestFailure('SIGNING_FAILED', `signing failed: ${describe(e)}`, { cause: e });
  }
  return out;
}

/** The layers and referrers exactly as they will be published, in the shape the registry layer reads. */
function asAttachments(plan: AttestPlan, ev: SignedEvidence): Attachments {
  const layer = (mediaType: string, payload: Buffer, annotations: Record<string, string>): CosignLayer => {
    const blob = { ...blobOf(mediaType, payload), annotations };
    return { descriptor: descriptorOf(blob), payload, annotations };
  };
  const optional = (l: {
    certificate?: string;
    chain?: string;
    bundle?: string;
    rfc3161Timestamp?: string;
  }): Record<string, string> => ({
    ...(l.certificate ? { [COSIGN_ANNOTATION.certificate]: l.certificate } : {}),
    ...(l.chain ? { [COSIGN_ANNOTATION.chain]: l.chain } : {}),
    ...(l.bundle ? { [COSIGN_ANNOTATION.bundle]: l.bundle } : {}),
    ...(l.rfc3161Timestamp ? { [COSIGN_ANNOTATION.rfc3161Timestamp]: l.rfc3161Timestamp } : {}),
  });
  const cosign = plan.formats.includes('cosign');
  const referrer = (bundle: SerializedBundle, predicateType: string): ReferrerBundle => {
    const bytes = Buffer.from(JSON.stringify(bundle));
    // only the bundle and its announced predicate type are read; the digest labels it in messages
    const { digest, size } = blobOf(SIGSTORE_BUNDLE_V03, bytes);
    return {
      descriptor: {
        mediaType: OCI_MANIFEST,
        digest,
        size,
        artifactType: SIGSTORE_BUNDLE_V03,
        annotations: { [BUNDLE_ANNOTATION.predicateType]: predicateType },
      },
      bundle: bytes,
    };
  };
  const bundles: ReferrerBundle[] = [];
  if (ev.referrerSignature) bundles.push(referrer(ev.referrerSignature, COSIGN_SIGN_PREDICATE));
  if (plan.formats.includes('referrer')) {
    for (const a of ev.attestations) bundles.push(referrer(a.bundle, a.predicate.predicateType));
  }
  return {
    reference: plan.subject.reference,
    digest: plan.subject.digest,
    signatures: ev.cosignSignature
      ? [
          layer(COSIGN_SIMPLESIGNING, ev.cosignSignature.payload, {
            [COSIGN_ANNOTATION.signature]: ev.cosignSignature.signature,
            ...optional(ev.cosignSignature),
          }),
        ]
      : [],
    attestations: cosign
      ? ev.attestations.map((a) =>
          layer(DSSE_ENVELOPE, a.layer.envelope, {
            [COSIGN_ANNOTATION.signature]: '',
            [COSIGN_ANNOTATION.predicateType]: a.predicate.predicateType,
            ...optional(a.layer),
          }),
        )
      : [],
    bundles,
    unsigned: [],
  };
}

/** Who signs, for the check: the key, or the keyless identity the (first) certificate was issued to. */
export type SelfSigner =
  { kind: 'key'; publicKeyPem: string; requireTransparencyLog: boolean } | { kind: 'keyless' };

function resolvedSigner(self: SelfSigner, ev: SignedEvidence): ResolvedSigner {
  if (self.kind === 'key') {
    return {
      name: 'attest',
      key: { publicKeyPem: self.publicKeyPem, requireTransparencyLog: self.requireTransparencyLog },
    };
  }
  const first = ev.referrerSignature ?? ev.attestations[0]?.bundle;
  const leaf = first ? leafOf(first) : ev.cosignSignature?.certificate?.replace(/-----[A-Z ]+-----|\s+/g, '');
  if (!leaf)
    throw new AttestFailure('SELF_CHECK_FAILED', 'a keyless signature came back without a certificate');
  const der = Buffer.from(leaf, 'base64') as Buffer<ArrayBuffer>;
  const id = certificateIdentity(SigstoreCertificate.parse(der));
  const subject = id.uri ?? id.email;
  if (!subject || !id.issuer) {
    throw new AttestFailure(
      'SELF_CHECK_FAILED',
      'the Fulcio certificate names no subject or no OIDC issuer, so no policy could trust it',
    );
  }
  return { name: 'attest', keyless: { subject, issuer: id.issuer } };
}

export interface SelfCheck {
  /** Readable identity of the signer, as `trustops verify` reports it. */
  identity: string;
}

/**
 * Verifies every signed piece as the policy pack will read it once published (same evidence collector,
 * same bundle verifier, the given trusted root): signature valid, certificate chain, transparency-log
 * entry and timestamps verified, payload bound to this digest. Throws SELF_CHECK_FAILED naming the piece.
 */
export function selfCheck(
  plan: AttestPlan,
  ev: SignedEvidence,
  trustedRoot: TrustedRootMaterial,
  self: SelfSigner,
): SelfCheck {
  const signer = resolvedSigner(self, ev);
  const names = [signer.name];
  const collector = new EvidenceCollector(
    createBundleVerifier({ trustedRoot, signers: [signer] }),
    { signature: names, sbom: names, provenance: names, vsa: names, other: names },
    evidenceKindOf,
  );
  const collected = collector.collect({
    digest: plan.subject.digest,
    manifest: plan.subject.manifest,
    attachments: asAttachments(plan, ev),
  });
  const rejected = collected.rejected[0];
  if (rejected) {
    throw new AttestFailure(
      'SELF_CHECK_FAILED',
      `the ${rejected.kind} signed for ${plan.subject.name}@${plan.subject.digest} does not verify against ${trustedRoot.source} (${rejected.origin.source}: ${rejected.detail}); nothing was pushed`,
    );
  }
  const expectedSignatures = (ev.cosignSignature ? 1 : 0) + (ev.referrerSignature ? 1 : 0);
  const expectedStatements = ev.attestations.length * plan.formats.length;
  if (
    collected.signatures.length !== expectedSignatures ||
    collected.statements.length !== expectedStatements
  ) {
    throw new AttestFailure(
      'SELF_CHECK_FAILED',
      `expected ${expectedSignatures} signatures and ${expectedStatements} attestations to verify, found ${collected.signatures.length} and ${collected.statements.length}; nothing was pushed`,
    );
  }
  const identity = collected.signatures[0]?.identity ?? collected.statements[0]?.identity ?? '';
  return { identity };
}

export interface PublishedPiece {
  kind: 'signature' | 'attestation';
  /** The in-toto predicate type (attestations, and cosign v3 signatures in the referrer format). */
  predicateType?: string;
  label: string;
  format: AttestFormat;
  /** Where it went: the cosign tag, or the referrer manifest digest. */
  location: string;
}

/** Pushes the signed evidence. Throws AttestFailure PUBLISH_FAILED. */
export async function publishEvidence(
  target: OciTarget,
  plan: AttestPlan,
  ev: SignedEvidence,
): Promise<PublishedPiece[]> {
  const { subject } = plan;
  const repo = subject.reference.repository;
  const out: PublishedPiece[] = [];
  const created = plan.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  try {
    if (ev.cosignSignature) {
      await attachCosignSignatures(target, repo, subject.digest, [ev.cosignSignature], { append: true });
      out.push({
        kind: 'signature',
        label: 'signature',
        format: 'cosign',
        location: digestTag(subject.digest, '.sig'),
      });
    }
    if (plan.formats.includes('cosign') && ev.attestations.length > 0) {
      await attachCosignAttestations(
        target,
        repo,
        subject.digest,
        ev.attestations.map((a) => a.layer),
        { append: true },
      );
      for (const a of ev.attestations) {
        out.push({
          kind: 'attestation',
          predicateType: a.predicate.predicateType,
          label: a.predicate.label,
          format: 'cosign',
          location: digestTag(subject.digest, '.att'),
        });
      }
    }
    const referrer = async (bundle: SerializedBundle, predicateType: string): Promise<string> => {
      const d = await attachBundleReferrer(
        target,
        repo,
        subject.descriptor,
        Buffer.from(JSON.stringify(bundle)),
        SIGSTORE_BUNDLE_V03,
        { predicateType, created },
      );
      return d.digest;
    };
    if (ev.referrerSignature) {
      out.push({
        kind: 'signature',
        predicateType: COSIGN_SIGN_PREDICATE,
        label: 'signature',
        format: 'referrer',
        location: await referrer(ev.referrerSignature, COSIGN_SIGN_PREDICATE),
      });
    }
    if (plan.formats.includes('referrer')) {
      for (const a of ev.attestations) {
        out.push({
          kind: 'attestation',
          predicateType: a.predicate.predicateType,
          label: a.predicate.label,
          format: 'referrer',
          location: await referrer(a.bundle, a.predicate.predicateType),
        });
      }
    }
  } catch (e) {
    const done = out.map((p) => `${p.label} (${p.format})`).join(', ') || 'nothing';
    throw new AttestFailure(
      'PUBLISH_FAILED',
      `publishing to ${subject.name} failed after ${done} was written: ${describe(e)}`,
      { cause: e },
    );
  }
  return out;
}
