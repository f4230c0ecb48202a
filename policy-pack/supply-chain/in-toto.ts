/**
 * In-toto statements carried in DSSE envelopes: the payload type and statement shape are checked before
 * anything inside is believed, and a statement counts for an image only when one of its subjects names
 * that image's digest (an attestation made for another digest never counts, whoever signed it).
 */

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPES: readonly string[] = [
  'https://in-toto.io/Statement/v0.1',
  'https://in-toto.io/Statement/v1',
];

export interface InTotoSubject {
  name?: string;
  digest: Record<string, string>;
}

export interface InTotoStatement {
  _type: string;
  subject: InTotoSubject[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

export type StatementProblem =
  | { kind: 'payload-type'; found: string }
  | { kind: 'not-json'; detail: string }
  | { kind: 'shape'; detail: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks a DSSE payload as an in-toto statement; returns the problem instead of throwing. */
export function parseStatement(
  payloadType: string | undefined,
  payload: Buffer,
): { statement: InTotoStatement } | { problem: StatementProblem } {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return { problem: { kind: 'payload-type', found: String(payloadType) } };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { problem: { kind: 'not-json', detail: (e as Error).message } };
  }
  if (!isRecord(json)) return { problem: { kind: 'shape', detail: 'the statement is not a JSON object' } };
  if (typeof json._type !== 'string' || !STATEMENT_TYPES.includes(json._type)) {
    return {
      problem: {
        kind: 'shape',
        detail: `_type ${JSON.stringify(json._type)} is not an in-toto Statement v0.1 or v1`,
      },
    };
  }
  if (typeof json.predicateType !== 'string' || json.predicateType === '') {
    return { problem: { kind: 'shape', detail: 'predicateType is missing' } };
  }
  if (!isRecord(json.predicate))
    return { problem: { kind: 'shape', detail: 'predicate is not a JSON object' } };
  const subjects = json.subject;
  if (!Array.isArray(subjects) || subjects.length === 0) {
    return { problem: { kind: 'shape', detail: 'subject is not a non-empty list' } };
  }
  for (const s of subjects) {
    if (!isRecord(s) || !isRecord(s.digest) || !Object.values(s.digest).every((d) => typeof d === 'string')) {
      return { problem: { kind: 'shape', detail: 'a subject has no digest map' } };
    }
  }
  return { statement: json as unknown as InTotoStatement };
}

/** True when a subject's sha256 equals the image digest `sha256:<hex>` (hex compared case-insensitively). */
export function statementNamesDigest(statement: InTotoStatement, digest: string): boolean {
  const hex = digest.startsWith('sha256:') ? digest.slice(7).toLowerCase() : undefined;
  if (hex === undefined) return false;
  return statement.subject.some((s) => s.digest.sha256?.toLowerCase() === hex);
}

/** The sha256 digests a statement's subjects name, for reports. */
export function subjectDigests(statement: InTotoStatement): string[] {
  return statement.subject.flatMap((s) =>
    s.digest.sha256 !== undefined ? [`sha256:${s.digest.sha256}`] : [],
  );
}

/**
 * Reads the payload of a DSSE envelope WITHOUT verifying it: only to route a rejected attestation to the
 * requirement it was meant for, or to skip cryptography on evidence that cannot count anyway.
 */
export function peekEnvelope(envelope: unknown): { payloadType?: string; payload?: Buffer } {
  if (!isRecord(envelope)) return {};
  const payloadType = typeof envelope.payloadType === 'string' ? envelope.payloadType : undefined;
  const payload = typeof envelope.payload === 'string' ? Buffer.from(envelope.payload, 'base64') : undefined;
  return { payloadType, payload };
}

/** Predicate type of an unverified payload, when it looks like a statement (routing only). */
export function peekPredicateType(payload: Buffer | undefined): string | undefined {
  if (payload === undefined) return undefined;
  try {
    const j = JSON.parse(payload.toString('utf8')) as unknown;
    return isRecord(j) && typeof j.predicateType === 'string' ? j.predicateType : undefined;
  } catch {
    return undefined;
  }
}
