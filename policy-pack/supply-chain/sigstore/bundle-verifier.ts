import type { Bundle, Envelope, MessageSignature, TransparencyLogEntry } from '@sigstore/bundle';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { toSignedEntity, Verifier, type SignedEntity, type TrustMaterial } from '@sigstore/verify';
import { createHash, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { certificateIdentity, describeIdentity } from './certificate-identity';
import { submittedEnvelopeOf } from './cosign-legacy';
import { DecodedCertificate } from './decoded-certificate';
import { assertCertificateStructure } from './certificate-structure';
import { SignatureError } from './errors';
import { matchKeylessSigner } from './identity-match';
import type {
  BundleVerifier,
  ResolvedSigner,
  TrustedRootMaterial,
  VerifiedSignature,
  VerifyOptions,
} from './index';
import { isHashedrekordOverDsse, verifyHashedrekordOverDsse } from './dsse-hashedrekord-entry';
import { checkpointForLibrary } from './inclusion-proof-consistency';
import { isIntotoV001, verifyIntotoV001Entry } from './intoto-v001-entry';
import { withEdwardsKeys } from './edwards-message-signature';
import { toSignatureError } from './library-errors';
import { parseBundle } from './parse-bundle';
import { PrehashedMessageSignature } from './prehashed-signature';
import { asLoaded } from './trusted-root';
import type { KeylessSigner } from '../types';

type PreparedSigner =
  | { name: string; kind: 'keyless'; keyless: KeylessSigner }
  | { name: string; kind: 'key'; key: KeyObject; spki: Buffer; keyId: string; requireEvidence: boolean };

type Evidence = VerifiedSignature['evidence'];

const DIGEST_ALGORITHMS: Partial<Record<HashAlgorithm, string>> = {
  [HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED]: 'sha256',
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
};

/**
 * Crypto first (@sigstore/verify: chain, SCTs, tlog inclusion and body, timestamps, signature), identity
 * second (our anchored matching, see identity-match.ts). A certificate bundle is checked once and then
 * matched against each allowed keyless signer in order; a key bundle is checked against each allowed key.
 */
export function createBundleVerifier(opts: {
  trustedRoot: TrustedRootMaterial;
  signers: ResolvedSigner[];
}): BundleVerifier {
  const trust = asLoaded(opts.trustedRoot);
  const signers = new Map<string, PreparedSigner>();
  for (const s of opts.signers) signers.set(s.name, prepareSigner(s));
  // Keyless: any time source will do (tlog SET or RFC 3161), but at least one, since the short-lived
  // certificate is only meaningful at a proven time; every tlog entry present is verified regardless.
  const keylessVerifier = new Verifier(trust.material, {
    tlogThreshold: 0,
    ctlogThreshold: 1,
    timestampThreshold: 1,
  });
  const keyVerifiers = new Map<string, Verifier>();
  const keyVerifier = (s: Extract<PreparedSigner, { kind: 'key' }>): Verifier => {
    let v = keyVerifiers.get(s.name);
    if (!v) {
      const material: TrustMaterial = {
        ...trust.material,
        // The policy names the key; the bundle's hint is free text that cosign and others fill differently.
        publicKey: () => ({ publicKey: s.key, validFor: () => true }),
      };
      v = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
      keyVerifiers.set(s.name, v);
    }
    return v;
  };

  return {
    verify(bundleJson: unknown, options: VerifyOptions): VerifiedSignature {
      const allowed = resolveAllowed(options.allowedSigners, signers);
      const acceptedNames = options.acceptedSigners;
      // what messages name: the requirement's own signers, not every signer tried
      const accepted =
        acceptedNames && acceptedNames.length > 0
          ? allowed.filter((s) => acceptedNames.includes(s.name))
          : allowed;
      const bundle = parseBundle(bundleJson);
      const submitted = submittedEnvelopeOf(bundleJson);
      const parsedEntity = toEntity(bundle, options);
      // Checkpoints are checked here, their signing log found by key hint (see checkpointForLibrary).
      const entity: SignedEntity = {
        ...parsedEntity,
        tlogEntries: parsedEntity.tlogEntries.map((e) => checkpointForLibrary(e, trust.material)),
      };
      const envelope = bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope : undefined;
      // Entry kinds the library cannot bind to this content are checked here (gap fillers), the rest by it.
      const isGap = (e: TransparencyLogEntry) => isIntotoV001(e) || isHashedrekordOverDsse(e, envelope);
      const gapEntries = entity.tlogEntries.filter(isGap);
      const libraryEntity: SignedEntity = {
        ...entity,
        tlogEntries: entity.tlogEntries.filter((e) => !isGap(e)),
      };
      const verifyGapEntries = (materialDER: Buffer) => {
        for (const entry of gapEntries) {
          if (isIntotoV001(entry))
            verifyIntotoV001Entry(entry, envelope, materialDER, trust.material, submitted);
          else verifyHashedrekordOverDsse(entry, envelope!, trust.material);
        }
      };
      const evidence = evidenceOf(bundle);
      const dsse = envelope ? { payloadType: envelope.payloadType, payload: envelope.payload } : {};

      if (entity.key.$case === 'certificate') {
        const candidates = allowed.filter((s) => s.kind === 'keyless');
        if (candidates.length === 0) {
          throw new SignatureError(
            'IDENTITY_MISMATCH',
            `bundle is signed with a certificate; allowed signers ${names(accepted)} are all keys`,
          );
        }
        const leafDER = leafCertificateDER(bundle);
        assertCertificateStructure(leafDER);
        try {
          verifyGapEntries(leafDER);
          keylessVerifier.verify(libraryEntity);
        } catch (e) {
          throw toSignatureError(e, 'keyless bundle verification failed');
        }
        const identity = certificateIdentity(entity.key.certificate);
        const misses: string[] = [];
        for (const s of candidates) {
          const miss = matchKeylessSigner(s.keyless, identity);
          if (!miss) return { signer: s.name, identity: describeIdentity(identity), evidence, ...dsse };
          if (accepted.includes(s))
            misses.push(`${s.name}: ${miss.field} expected ${miss.expected}, found ${miss.found}`);
        }
        throw new SignatureError(
          'IDENTITY_MISMATCH',
          misses.length > 0
            ? `certificate identity ${describeIdentity(identity)} matches no allowed signer (${misses.join('; ')})`
            : `certificate identity ${describeIdentity(identity)} matches no allowed signer (allowed signers ${names(accepted)} are all keys)`,
        );
      }

      const candidates = allowed.filter((s) => s.kind === 'key');
      if (candidates.length === 0) {
        throw new SignatureError(
          'KEY_MISMATCH',
          `bundle is signed with a public key; allowed signers ${names(accepted)} are all keyless identities`,
        );
      }
      const failures: SignatureError[] = [];
      for (const s of candidates) {
        try {
          verifyGapEntries(s.spki);
          keyVerifier(s).verify(libraryEntity);
        } catch (e) {
          failures.push(toSignatureError(e, `key signer ${s.name}`));
          continue;
        }
        if (s.requireEvidence && evidence.length === 0) {
          throw new SignatureError(
            'TIMESTAMP_MISSING',
            `signer ${s.name} requires transparency-log or signed-timestamp evidence; the bundle has neither`,
          );
        }
        return { signer: s.name, identity: `key ${s.keyId}`, evidence, ...dsse };
      }
      const bundleWide = failures.find((f) => f.code !== 'SIGNATURE_INVALID');
      if (bundleWide) throw bundleWide;
      const acceptedKeys = candidates.filter((s) => accepted.includes(s));
      throw new SignatureError(
        'KEY_MISMATCH',
        acceptedKeys.length > 0
          ? `the signature verifies with none of the allowed keys ${acceptedKeys.map((s) => `${s.name} (${s.keyId})`).join(', ')}`
          : `the signature verifies with no key (allowed signers ${names(accepted)} are all keyless identities)`,
      );
    },
  };
}

function prepareSigner(s: ResolvedSigner): PreparedSigner {
  if (Boolean(s.keyless) === Boolean(s.key)) {
    throw new SignatureError('SIGNER_INVALID', `signer ${s.name} must be exactly one of keyless or key`);
  }
  if (s.keyless) return { name: s.name, kind: 'keyless', keyless: s.keyless };
  const { publicKeyPem, requireTransparencyLog } = s.key!;
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (e) {
    throw new SignatureError('SIGNER_INVALID', `signer ${s.name}: public key does not parse as PEM`, {
      cause: e,
    });
  }
  const spki = key.export({ format: 'der', type: 'spki' });
  return {
    name: s.name,
    kind: 'key',
    key,
    spki,
    keyId: `sha256:${createHash('sha256').update(spki).digest('hex')}`,
    requireEvidence: requireTransparencyLog,
  };
}

function resolveAllowed(allowed: string[], signers: Map<string, PreparedSigner>): PreparedSigner[] {
  if (allowed.length === 0) throw new SignatureError('SIGNER_UNKNOWN', 'no allowed signers given');
  return allowed.map((name) => {
    const s = signers.get(name);
    if (!s)
      throw new SignatureError(
        'SIGNER_UNKNOWN',
        `allowed signer ${name} is not among the configured signers`,
      );
    return s;
  });
}

/** Build the library's SignedEntity, binding a message signature to the artifact or its digest. */
function toEntity(bundle: Bundle, options: VerifyOptions): SignedEntity {
  let entity: SignedEntity;
  try {
    entity = toSignedEntity(bundle, options.artifact);
  } catch (e) {
    throw toSignatureError(e, 'bundle content');
  }
  if (entity.key.$case === 'certificate') {
    // chain building compares and re-checks the leaf several times: decode it once
    entity = {
      ...entity,
      key: { ...entity.key, certificate: DecodedCertificate.of(entity.key.certificate) },
    };
  }
  if (bundle.content.$case === 'dsseEnvelope') {
    assertSingleSignature(bundle.content.dsseEnvelope);
    return entity;
  }
  const message = bundle.content.messageSignature;
  if (options.artifact) {
    assertArtifactDigest(message, options.artifact);
    return { ...entity, signature: withEdwardsKeys(entity.signature, options.artifact) };
  }
  if (options.artifactDigest !== undefined) {
    const digest = parseSha256(options.artifactDigest);
    assertDigestMatches(message, digest);
    return { ...entity, signature: new PrehashedMessageSignature(message, digest) };
  }
  throw new SignatureError(
    'DIGEST_MISMATCH',
    'a message-signature bundle needs the artifact or its sha256 digest',
  );
}

function assertSingleSignature(envelope: Envelope): void {
  if (envelope.signatures.length !== 1) {
    throw new SignatureError(
      'BUNDLE_MALFORMED',
      `DSSE envelope has ${envelope.signatures.length} signatures, expected 1`,
    );
  }
}

/** The bundle's messageDigest is an unauthenticated hint, but it must not contradict the artifact. */
function assertArtifactDigest(message: MessageSignature, artifact: Buffer): void {
  if (!message.messageDigest) return;
  const algorithm = DIGEST_ALGORITHMS[message.messageDigest.algorithm];
  if (!algorithm)
    throw new SignatureError(
      'UNSUPPORTED',
      `unsupported message digest algorithm ${message.messageDigest.algorithm}`,
    );
  const actual = createHash(algorithm).update(artifact).digest();
  if (!equalBytes(actual, message.messageDigest.digest)) {
    throw new SignatureError(
      'DIGEST_MISMATCH',
      `bundle messageDigest ${message.messageDigest.digest.toString('hex')} is not the artifact's ${algorithm} ${actual.toString('hex')}`,
    );
  }
}

function assertDigestMatches(message: MessageSignature, digest: Buffer): void {
  const md = message.messageDigest;
  if (!md || DIGEST_ALGORITHMS[md.algorithm] !== 'sha256') {
    throw new SignatureError(
      'DIGEST_MISMATCH',
      'verifying by digest needs a sha256 messageDigest in the bundle',
    );
  }
  if (!equalBytes(md.digest, digest)) {
    throw new SignatureError(
      'DIGEST_MISMATCH',
      `bundle signs sha256:${md.digest.toString('hex')}, expected sha256:${digest.toString('hex')}`,
    );
  }
}

function parseSha256(digest: string): Buffer {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m?.[1])
    throw new SignatureError('DIGEST_MISMATCH', `artifact digest ${digest} is not sha256:<64 lowercase hex>`);
  return Buffer.from(m[1], 'hex');
}

function leafCertificateDER(bundle: Bundle): Buffer {
  const c = bundle.verificationMaterial.content;
  const raw =
    c.$case === 'certificate'
      ? c.certificate.rawBytes
      : c.$case === 'x509CertificateChain'
        ? c.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  if (!raw) throw new SignatureError('BUNDLE_MALFORMED', 'bundle has no leaf certificate');
  return Buffer.from(raw);
}

function evidenceOf(bundle: Bundle): Evidence {
  const evidence: Evidence = [];
  const entries: TransparencyLogEntry[] = bundle.verificationMaterial.tlogEntries;
  if (entries.length > 0) evidence.push('tlog');
  if ((bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0) > 0) {
    evidence.push('timestamp');
  }
  return evidence;
}

function names(signers: PreparedSigner[]): string {
  return signers.map((s) => s.name).join(', ');
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
