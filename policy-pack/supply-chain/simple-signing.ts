/**
 * Cosign's simple-signing payload (`cosign container image signature`). Only
 * `critical.image.docker-manifest-digest` binds a signature to an image: `critical.identity.docker-reference`
 * names a repository (and maybe a tag) the signer had in mind, and a tag can be moved to other content,
 * so the reference is reported but never trusted.
 */

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  dockerReference?: string;
  manifestDigest: string;
}

export function parseSimpleSigning(payload: Buffer): { payload: SimpleSigningPayload } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { problem: `the payload is not JSON (${(e as Error).message})` };
  }
  const critical = (json as { critical?: unknown } | null)?.critical as
    | {
        type?: unknown;
        image?: { 'docker-manifest-digest'?: unknown };
        identity?: { 'docker-reference'?: unknown };
      }
    | undefined;
  if (typeof critical !== 'object' || critical === null)
    return { problem: 'the payload has no "critical" section' };
  if (critical.type !== SIMPLE_SIGNING_TYPE) {
    return { problem: `critical.type is ${JSON.stringify(critical.type)}, not "${SIMPLE_SIGNING_TYPE}"` };
  }
  const digest = critical.image?.['docker-manifest-digest'];
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    return { problem: 'critical.image.docker-manifest-digest is missing or not a sha256 digest' };
  }
  const ref = critical.identity?.['docker-reference'];
  return { payload: { manifestDigest: digest, dockerReference: typeof ref === 'string' ? ref : undefined } };
}
