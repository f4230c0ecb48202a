import { createHash } from 'node:crypto';
import { OciWriteError } from './errors';
import type { Blob } from './image';

/** `sha256:<hex>` of the bytes: the content address used everywhere in OCI. */
export function sha256Digest(data: Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function blobOf(mediaType: string, data: Buffer): Blob {
  return { mediaType, digest: sha256Digest(data), size: data.length, data };
}

/** The hex part of a `sha256:<hex>` digest; throws on anything else, so a bad digest never becomes a path or tag. */
export function digestHex(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m?.[1])
    throw new OciWriteError(
      'INVALID_INPUT',
      `expected a sha256:<64 hex> digest, found ${JSON.stringify(digest)}`,
    );
  return m[1];
}
