import { createHash } from 'node:crypto';
import { SignatureError } from './errors';

const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1']);

/**
 * Subject digest algorithms that can be computed from the artifact (in-toto digest-set names). npm
 * provenance and publish attestations name their tarballs by sha512 only; other ecosystems use sha384.
 */
const COMPUTABLE = ['sha256', 'sha384', 'sha512'] as const;
type Computable = (typeof COMPUTABLE)[number];

/** The artifact a DSSE statement must name: its bytes (any algorithm can be computed) or its sha256. */
export interface StatementArtifact {
  bytes?: Buffer;
  /** Lower-case hex sha256 of the artifact. */
  sha256: string;
}

type Subject = { digest?: Record<string, unknown> } | null;

/**
 * For a verified DSSE envelope: the payload must be an in-toto statement (v0.1 or v1) with a subject
 * that names the artifact. Used by `verify-bundle`, where the artifact argument of a DSSE bundle is the
 * attestation's subject.
 *
 * Given the artifact's bytes, each subject is compared by every algorithm it uses that can be computed
 * (sha256, sha384, sha512): a subject names the artifact when it uses at least one of them and all of
 * them match (a right sha256 beside a wrong sha512 is not a match). Given only a `sha256:` digest, a
 * subject must carry that sha256; a statement whose subjects carry no sha256 at all fails with
 * DIGEST_ALGORITHM_MISMATCH, since the digest given cannot be compared with theirs.
 */
export function assertStatementSubject(
  payloadType: string | undefined,
  payload: Buffer | undefined,
  artifact: StatementArtifact,
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
  const subjects = (s.subject as Subject[]).map((sub) => digestsOf(sub));
  const found = describe(subjects);
  if (artifact.bytes === undefined) {
    if (!subjects.some((d) => d.sha256 !== undefined)) {
      throw new SignatureError(
        'DIGEST_ALGORITHM_MISMATCH',
        `the in-toto statement's subjects carry no sha256 digest (${found || 'none'}), so the sha256:${artifact.sha256} given cannot be compared with them; give the artifact file instead, whose digests are computed with the subjects' algorithms`,
      );
    }
    if (!subjects.some((d) => d.sha256 === artifact.sha256)) {
      throw new SignatureError(
        'DIGEST_MISMATCH',
        `in-toto statement subjects (${found}) do not include sha256:${artifact.sha256}`,
      );
    }
    return;
  }
  const bytes = artifact.bytes;
  const computed = new Map<Computable, string>();
  const digestOf = (alg: Computable): string => {
    let d = computed.get(alg);
    if (d === undefined) {
      d = createHash(alg).update(bytes).digest('hex');
      computed.set(alg, d);
    }
    return d;
  };
  const names = (d: Partial<Record<Computable, string>>): boolean => {
    const algs = COMPUTABLE.filter((a) => d[a] !== undefined);
    return algs.length > 0 && algs.every((a) => d[a] === digestOf(a));
  };
  if (!subjects.some(names)) {
    const mine = [...computed.entries()].map(([a, d]) => `${a}:${d}`).join(', ');
    throw new SignatureError(
      'DIGEST_MISMATCH',
      `in-toto statement subjects (${found || 'none with sha256, sha384 or sha512'}) do not name the artifact (${mine || `sha256:${artifact.sha256}`})`,
    );
  }
}

/** A subject's computable digests, lower-cased; other algorithms and non-strings are left out. */
function digestsOf(subject: Subject): Partial<Record<Computable, string>> {
  const out: Partial<Record<Computable, string>> = {};
  const digest = subject?.digest;
  if (typeof digest !== 'object' || digest === null) return out;
  for (const alg of COMPUTABLE) {
    const v = digest[alg];
    if (typeof v === 'string') out[alg] = v.toLowerCase();
  }
  return out;
}

function describe(subjects: Partial<Record<Computable, string>>[]): string {
  return subjects
    .flatMap((d) => COMPUTABLE.filter((a) => d[a] !== undefined).map((a) => `${a}:${d[a]}`))
    .join(', ');
}
