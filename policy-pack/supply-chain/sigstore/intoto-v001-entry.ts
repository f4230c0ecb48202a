import type { Envelope, TransparencyLogEntry } from '@sigstore/bundle';
import { createHash, timingSafeEqual } from 'node:crypto';
import { toDER } from './pem';
import { SignatureError } from './errors';
import type { TrustMaterial } from '@sigstore/verify';
// Not re-exported by the package's index; the dist layout is stable across 3.x and pinned by the lockfile.
import { verifyTLogInclusion } from '@sigstore/verify/dist/tlog';

/**
 * Rekor `intoto` v0.0.1 entries (what cosign < 2.0 wrote for attestations). @sigstore/verify 3.x only
 * knows intoto v0.0.2, so this fills the gap: the inclusion promise / proof is still checked by the
 * library's own routine, and the body is bound to the bundle here.
 *
 * The v0.0.1 canonical body keeps `content.hash` (sha256 of the envelope JSON as submitted),
 * `content.payloadHash` (sha256 of the DSSE payload) and `publicKey` (the signer's PEM certificate or key),
 * but not the envelope's signature. The binding checked is: same payload, same verification material
 * and, when the envelope bytes as submitted are known (a cosign attestation layer is exactly those
 * bytes), the same envelope, which covers its signature. The signature itself is verified against the
 * same key by the library.
 */
export function isIntotoV001(entry: TransparencyLogEntry): boolean {
  return entry.kindVersion?.kind === 'intoto' && entry.kindVersion.version === '0.0.1';
}

export function verifyIntotoV001Entry(
  entry: TransparencyLogEntry,
  envelope: Envelope | undefined,
  verificationMaterialDER: Buffer,
  trust: TrustMaterial,
  submittedEnvelope?: Buffer,
): void {
  if (!envelope) {
    throw new SignatureError(
      'TLOG_INVALID',
      'an intoto tlog entry can only log a DSSE envelope, the bundle has a message signature',
    );
  }
  try {
    verifyTLogInclusion(entry, trust.tlogs);
  } catch (e) {
    throw new SignatureError('TLOG_INVALID', `intoto v0.0.1 entry inclusion: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const body = parseBody(entry);
  const payloadHash = createHash('sha256').update(envelope.payload).digest();
  if (!sameHex(body.payloadHashHex, payloadHash)) {
    throw new SignatureError(
      'TLOG_INVALID',
      `intoto v0.0.1 entry logs payload sha256:${body.payloadHashHex}, the envelope's payload is sha256:${payloadHash.toString('hex')}`,
    );
  }
  if (submittedEnvelope) {
    const envelopeHash = createHash('sha256').update(submittedEnvelope).digest();
    if (body.envelopeHashHex === undefined || !sameHex(body.envelopeHashHex, envelopeHash)) {
      throw new SignatureError(
        'TLOG_INVALID',
        `intoto v0.0.1 entry logs envelope sha256:${body.envelopeHashHex ?? '(none)'}, the attached envelope is sha256:${envelopeHash.toString('hex')}`,
      );
    }
  }
  let loggedDER: Buffer;
  try {
    loggedDER = toDER(Buffer.from(body.publicKeyB64, 'base64').toString('utf8'));
  } catch (e) {
    throw new SignatureError('TLOG_INVALID', 'intoto v0.0.1 entry has an unreadable publicKey', { cause: e });
  }
  if (!(
    loggedDER.length === verificationMaterialDER.length && timingSafeEqual(loggedDER, verificationMaterialDER)
  )) {
    throw new SignatureError('TLOG_INVALID', 'intoto v0.0.1 entry was logged for another certificate or key');
  }
}

function parseBody(entry: TransparencyLogEntry): {
  payloadHashHex: string;
  envelopeHashHex?: string;
  publicKeyB64: string;
} {
  let body: unknown;
  try {
    body = JSON.parse(entry.canonicalizedBody.toString('utf8'));
  } catch (e) {
    throw new SignatureError('TLOG_INVALID', 'intoto v0.0.1 entry body is not JSON', { cause: e });
  }
  const b = body as {
    kind?: unknown;
    apiVersion?: unknown;
    spec?: {
      content?: {
        payloadHash?: { algorithm?: unknown; value?: unknown };
        hash?: { algorithm?: unknown; value?: unknown };
      };
      publicKey?: unknown;
    };
  };
  const payloadHash = b.spec?.content?.payloadHash;
  if (
    b.kind !== 'intoto' ||
    b.apiVersion !== '0.0.1' ||
    payloadHash?.algorithm !== 'sha256' ||
    typeof payloadHash.value !== 'string' ||
    typeof b.spec?.publicKey !== 'string'
  ) {
    throw new SignatureError(
      'TLOG_INVALID',
      'intoto v0.0.1 entry body lacks kind/apiVersion, a sha256 payloadHash or a publicKey',
    );
  }
  const hash = b.spec.content?.hash;
  const envelopeHashHex =
    hash?.algorithm === 'sha256' && typeof hash.value === 'string' ? hash.value : undefined;
  return { payloadHashHex: payloadHash.value, envelopeHashHex, publicKeyB64: b.spec.publicKey };
}

function sameHex(hex: string, digest: Buffer): boolean {
  const logged = Buffer.from(hex, 'hex');
  return (
    logged.length === digest.length &&
    logged.toString('hex') === hex.toLowerCase() &&
    timingSafeEqual(logged, digest)
  );
}
