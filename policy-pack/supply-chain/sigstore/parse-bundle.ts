import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  bundleFromJSON,
  type Bundle,
} from '@sigstore/bundle';
import { SignatureError } from './errors';

const KNOWN_MEDIA_TYPES = new Set([
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
]);

/**
 * Bundle JSON (object, string or bytes) -> validated protobuf Bundle. Only the media types of v0.1 to
 * v0.3 are accepted: the library's own check admits any `version=N.N`, and a bundle from the future may
 * carry semantics this verifier does not know.
 */
export function parseBundle(input: unknown): Bundle {
  let json = input;
  if (Buffer.isBuffer(input) || typeof input === 'string') {
    try {
      json = JSON.parse(input.toString());
    } catch (e) {
      throw new SignatureError('BUNDLE_MALFORMED', `bundle is not JSON: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SignatureError('BUNDLE_MALFORMED', 'bundle is not a JSON object');
  }
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !KNOWN_MEDIA_TYPES.has(mediaType)) {
    throw new SignatureError(
      'BUNDLE_MALFORMED',
      `unsupported bundle mediaType ${JSON.stringify(mediaType)}; expected one of ${[...KNOWN_MEDIA_TYPES].join(', ')}`,
    );
  }
  try {
    return bundleFromJSON(json);
  } catch (e) {
    throw new SignatureError('BUNDLE_MALFORMED', `bundle does not validate: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
