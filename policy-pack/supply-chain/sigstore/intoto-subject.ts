import { SignatureError } from './errors';

const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1']);

/**
 * For a verified DSSE envelope: the payload must be an in-toto statement (v0.1 or v1) that names the
 * artifact (`sha256:<hex>`) among its subjects. Used by `verify-bundle`, where the artifact argument of a
 * DSSE bundle is the attestation's subject.
 */
export function assertStatementSubject(
  payloadType: string | undefined,
  payload: Buffer | undefined,
  sha256Hex: string,
): void {
  if (payloadType !== INTOTO_PAYLOAD_TYPE || !payload) {
    throw new SignatureError(
      'DIGEST_MISMATCH',
      `DSSE payloadType ${String(payloadType)} is not ${INTOTO_PAYLOAD_TYPE}`,
    );
  }
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw new SignatureError('BUNDLE_MALFORMED', 'DSSE payload is not JSON', { cause: e });
  }
  const s = statement as { _type?: unknown; subject?: unknown };
  if (typeof s._type !== 'string' || !STATEMENT_TYPES.has(s._type) || !Array.isArray(s.subject)) {
    throw new SignatureError(
      'BUNDLE_MALFORMED',
      `DSSE payload is not an in-toto statement v0.1/v1 (_type ${String(s._type)})`,
    );
  }
  const digests = s.subject.map((sub: { digest?: { sha256?: unknown } } | null) => sub?.digest?.sha256);
  if (!digests.some((d) => typeof d === 'string' && d.toLowerCase() === sha256Hex)) {
    throw new SignatureError(
      'DIGEST_MISMATCH',
      `in-toto statement subjects (sha256 ${digests.map(String).join(', ') || 'none'}) do not include sha256:${sha256Hex}`,
    );
  }
}
