import type {
  Attachments,
  CosignLayer,
  IgnoredAttachment,
  ReferrerBundle,
  UnsignedEvidence,
} from '../registry/types';
import {
  type InTotoStatement,
  parseStatement,
  peekEnvelope,
  peekPredicateType,
  statementNamesDigest,
  subjectDigests,
} from './in-toto';
import { certificatesFromBundle, firstCertificateProblem } from './certificate-der';
import { preferHintedKeys } from './key-hints';
import { parseSimpleSigning } from './simple-signing';
import { type BundleVerifier, cosignLayerToBundle, SignatureError, type VerifiedSignature } from './sigstore';
import type { VerdictNote } from './types';

/**
 * Turns what is attached to one manifest digest into verified evidence. Every signature goes through
 * the Sigstore layer; every payload is bound to the digest being verified. What fails is kept with the
 * reason, so a blocked verdict can say what was found. Nothing unsigned is ever promoted to evidence.
 */

/** cosign v3's image signature in the bundle format: a DSSE statement with this predicate type. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export type EvidenceSource = 'cosign-signature' | 'cosign-attestation' | 'referrer-bundle';

export interface EvidenceOrigin {
  source: EvidenceSource;
  /** Digest of the cosign layer or referrer manifest the evidence came from. */
  descriptor: string;
}

export interface VerifiedImageSignature {
  signer: string;
  identity: string;
  origin: EvidenceOrigin;
}

export interface VerifiedStatement {
  signer: string;
  identity: string;
  origin: EvidenceOrigin;
  statement: InTotoStatement;
}

/** Why a piece of evidence was rejected; each maps to a verdict code. */
export type RejectionReason =
  | 'other-digest' // bound to another image digest (replay, tag swap)
  | 'untrusted-signer' // valid signature by nobody the policy names
  | 'bad-signature' // cryptography, certificate, log or timestamp failed
  | 'malformed'; // not parseable as what it claims to be

export interface RejectedEvidence {
  kind: 'signature' | 'attestation';
  origin: EvidenceOrigin;
  /** For attestations, the (unverified) predicate type, to route the rejection to a requirement. */
  predicateType?: string;
  reason: RejectionReason;
  detail: string;
}

export interface CollectedEvidence {
  digest: string;
  signatures: VerifiedImageSignature[];
  statements: VerifiedStatement[];
  rejected: RejectedEvidence[];
  unsigned: UnsignedEvidence[];
  /** Attached items the registry layer skipped as malformed: never evidence, reported as notes. */
  ignored?: IgnoredAttachment[];
  /** `registry/repository` the evidence was read from when the rule stores it elsewhere (`repository`). */
  storedIn?: string;
}

/** What the verifier needs about the manifest being verified. */
export interface EvidenceSubject {
  digest: string;
  /** The manifest bytes (sha256 = digest): the artifact of message-signature bundles. */
  manifest: Buffer;
  attachments: Attachments;
}

/**
 * Signer names each kind of evidence's requirement accepts (tried first, named in messages); `other` is
 * every signer of the rule, tried after them (see signer-order.ts).
 */
export interface SignerOrder {
  signature: string[];
  sbom: string[];
  provenance: string[];
  vsa: string[];
  other: string[];
}

function rejectionOf(e: unknown): { reason: RejectionReason; detail: string } {
  if (e instanceof SignatureError) {
    const detail = `${e.code}: ${e.message}`;
    switch (e.code) {
      case 'IDENTITY_MISMATCH':
      case 'SIGNER_UNKNOWN':
      case 'KEY_MISMATCH':
        return { reason: 'untrusted-signer', detail };
      case 'BUNDLE_MALFORMED':
        return { reason: 'malformed', detail };
      case 'DIGEST_MISMATCH':
        // the signature covers other bytes than this manifest: evidence for another digest
        return { reason: 'other-digest', detail };
      default:
        return { reason: 'bad-signature', detail };
    }
  }
  // @sigstore/verify can throw plain TypeErrors on malformed input: a failed verification, never a pass.
  return { reason: 'bad-signature', detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

/** Rejects a bundle whose certificates are not exactly as issued (see certificate-der.ts). */
function assertStrictCertificates(bundle: unknown): void {
  const problem = firstCertificateProblem(certificatesFromBundle(bundle));
  if (problem !== undefined) throw new SignatureError('CERTIFICATE_INVALID', problem);
}

export class EvidenceCollector {
  constructor(
    private readonly verifier: BundleVerifier,
    private readonly order: SignerOrder,
    private readonly classify: (predicateType: string | undefined) => keyof SignerOrder,
    /** Key fingerprints by signer name, to try the key a bundle names first (see signer-order.ts). */
    private readonly fingerprints: ReadonlyMap<string, string> = new Map(),
  ) {}

  /**
   * Who a bundle of `kind` is checked against: the signers its requirement accepts, then every other
   * signer of the rule; the key the bundle hints at first (same outcome, fewer failed verifications).
   */
  private signersFor(
    kind: keyof SignerOrder,
    bundle: unknown,
  ): { allowedSigners: string[]; acceptedSigners?: string[] } {
    const accepted = this.order[kind];
    const tried = [...new Set([...accepted, ...this.order.other])];
    return {
      allowedSigners: preferHintedKeys(tried, bundle, this.fingerprints),
      ...(accepted.length > 0 ? { acceptedSigners: accepted } : {}),
    };
  }

  collect(subject: EvidenceSubject): CollectedEvidence {
    const out: CollectedEvidence = {
      digest: subject.digest,
      signatures: [],
      statements: [],
      rejected: [],
      unsigned: [...subject.attachments.unsigned],
      ignored: [...(subject.attachments.ignored ?? [])],
      ...(subject.attachments.storedIn ? { storedIn: subject.attachments.storedIn } : {}),
    };
    for (const layer of subject.attachments.signatures) this.cosignSignature(subject, layer, out);
    for (const layer of subject.attachments.attestations) this.cosignAttestation(subject, layer, out);
    for (const referrer of subject.attachments.bundles) this.referrerBundle(subject, referrer, out);
    return out;
  }

  private cosignSignature(subject: EvidenceSubject, layer: CosignLayer, out: CollectedEvidence): void {
    const origin: EvidenceOrigin = { source: 'cosign-signature', descriptor: layer.descriptor.digest };
    const parsed = parseSimpleSigning(layer.payload);
    if ('problem' in parsed) {
      out.rejected.push({ kind: 'signature', origin, reason: 'malformed', detail: parsed.problem });
      return;
    }
    // Cheap check first: a payload for another digest can never count, whoever signed it.
    if (parsed.payload.manifestDigest !== subject.digest) {
      out.rejected.push({
        kind: 'signature',
        origin,
        reason: 'other-digest',
        detail: `the signed payload names ${parsed.payload.manifestDigest}`,
      });
      return;
    }
    try {
      const bundle = cosignLayerToBundle(layer, 'signature');
      assertStrictCertificates(bundle);
      const v = this.verifier.verify(bundle, {
        artifact: layer.payload,
        ...this.signersFor('signature', bundle),
      });
      out.signatures.push({ signer: v.signer, identity: v.identity, origin });
    } catch (e) {
      out.rejected.push({ kind: 'signature', origin, ...rejectionOf(e) });
    }
  }

  private cosignAttestation(subject: EvidenceSubject, layer: CosignLayer, out: CollectedEvidence): void {
    const origin: EvidenceOrigin = { source: 'cosign-attestation', descriptor: layer.descriptor.digest };
    let envelope: unknown;
    try {
      envelope = JSON.parse(layer.payload.toString('utf8'));
    } catch (e) {
      out.rejected.push({
        kind: 'attestation',
        origin,
        predicateType: layer.annotations.predicateType,
        reason: 'malformed',
        detail: `the DSSE envelope is not JSON (${(e as Error).message})`,
      });
      return;
    }
    let bundle: unknown;
    try {
      bundle = cosignLayerToBundle(layer, 'attestation');
    } catch (e) {
      const peeked = peekEnvelope(envelope);
      out.rejected.push({
        kind: 'attestation',
        origin,
        predicateType: peekPredicateType(peeked.payload) ?? layer.annotations.predicateType,
        ...rejectionOf(e),
      });
      return;
    }
    this.dsse(subject, envelope, bundle, origin, out, layer.annotations.predicateType);
  }

  private referrerBundle(subject: EvidenceSubject, referrer: ReferrerBundle, out: CollectedEvidence): void {
    const origin: EvidenceOrigin = { source: 'referrer-bundle', descriptor: referrer.descriptor.digest };
    let bundle: { messageSignature?: unknown; dsseEnvelope?: unknown };
    try {
      bundle = JSON.parse(referrer.bundle.toString('utf8')) as typeof bundle;
      if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle)) {
        throw new Error('not a JSON object');
      }
      // Any JSON object is not a bundle: without either content it can only be malformed, never a signature.
      if (!isObject(bundle.messageSignature) && !isObject(bundle.dsseEnvelope)) {
        throw new Error('neither messageSignature nor dsseEnvelope');
      }
    } catch (e) {
      const predicateType = referrer.descriptor.annotations?.['dev.sigstore.bundle.predicateType'];
      out.rejected.push({
        kind: predicateType === undefined ? 'signature' : 'attestation',
        origin,
        predicateType,
        reason: 'malformed',
        detail: `the bundle is not a Sigstore bundle JSON object (${(e as Error).message})`,
      });
      return;
    }
    if (bundle.dsseEnvelope !== undefined) {
      const announced = referrer.descriptor.annotations?.['dev.sigstore.bundle.predicateType'];
      this.dsse(subject, bundle.dsseEnvelope, bundle, origin, out, announced);
      return;
    }
    // A message signature over the manifest bytes themselves: the signed digest is the image digest.
    try {
      assertStrictCertificates(bundle);
      const v = this.verifier.verify(bundle, {
        artifact: subject.manifest,
        ...this.signersFor('signature', bundle),
      });
      out.signatures.push({ signer: v.signer, identity: v.identity, origin });
    } catch (e) {
      out.rejected.push({ kind: 'signature', origin, ...rejectionOf(e) });
    }
  }

  private dsse(
    subject: EvidenceSubject,
    envelope: unknown,
    bundle: unknown,
    origin: EvidenceOrigin,
    out: CollectedEvidence,
    /** The predicate type the attachment's annotations announce (routing only). */
    announced: string | undefined,
  ): void {
    const peeked = peekEnvelope(envelope);
    const predicateType = peekPredicateType(peeked.payload) ?? announced;
    const kind = predicateType === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation';
    const reject = (reason: RejectionReason, detail: string): void => {
      out.rejected.push({ kind, origin, predicateType, reason, detail });
    };
    // Cheap check on the unverified payload; repeated below on the authenticated one.
    if (peeked.payload !== undefined) {
      const pre = parseStatement(peeked.payloadType, peeked.payload);
      if ('statement' in pre && !statementNamesDigest(pre.statement, subject.digest)) {
        reject(
          'other-digest',
          `the statement's subjects are ${subjectDigests(pre.statement).join(', ') || 'none'}`,
        );
        return;
      }
    }
    let verified: VerifiedSignature;
    try {
      assertStrictCertificates(bundle);
      verified = this.verifier.verify(bundle, this.signersFor(this.classify(predicateType), bundle));
    } catch (e) {
      const r = rejectionOf(e);
      reject(r.reason, r.detail);
      return;
    }
    const parsed = parseStatement(verified.payloadType, verified.payload ?? Buffer.alloc(0));
    if ('problem' in parsed) {
      const p = parsed.problem;
      reject(
        'malformed',
        p.kind === 'payload-type'
          ? `DSSE payloadType is ${p.found}, not application/vnd.in-toto+json`
          : p.detail,
      );
      return;
    }
    if (!statementNamesDigest(parsed.statement, subject.digest)) {
      reject('other-digest', `the statement's subjects are ${subjectDigests(parsed.statement).join(', ')}`);
      return;
    }
    if (parsed.statement.predicateType === COSIGN_SIGN_PREDICATE) {
      out.signatures.push({ signer: verified.signer, identity: verified.identity, origin });
      return;
    }
    out.statements.push({
      signer: verified.signer,
      identity: verified.identity,
      origin,
      statement: parsed.statement,
    });
  }
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NOTE_SOURCE: Record<EvidenceSource, IgnoredAttachment['source']> = {
  'cosign-signature': 'cosign-sig',
  'cosign-attestation': 'cosign-att',
  'referrer-bundle': 'referrer',
};

/**
 * Notes for everything attached to this manifest that was skipped as malformed: by the registry layer
 * (unreadable on its own) or here (read, but not the signature, envelope or bundle it claims to be).
 * Evidence rejected for any other reason (wrong signer, bad signature, another digest) is well-formed
 * and is reported in findings when it matters, not here.
 */
export function malformedNotes(ev: CollectedEvidence, subject?: string): VerdictNote[] {
  const notes: VerdictNote[] = [
    ...(ev.ignored ?? []).map((i) => ({
      code: 'ATTACHMENT_IGNORED' as const,
      source: i.source,
      attachment: i.attachment,
      reason: i.reason,
      message: `${i.source} ${i.attachment} ignored: ${i.detail}`,
    })),
    ...ev.rejected
      .filter((r) => r.reason === 'malformed')
      .map((r) => ({
        code: 'ATTACHMENT_IGNORED' as const,
        source: NOTE_SOURCE[r.origin.source],
        attachment: r.origin.descriptor,
        reason: 'MALFORMED_PAYLOAD',
        message: `${NOTE_SOURCE[r.origin.source]} ${r.origin.descriptor} ignored: ${r.detail}`,
      })),
  ];
  return subject === undefined ? notes : notes.map((n) => ({ ...n, subject }));
}
