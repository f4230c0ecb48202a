import { isSha256Digest } from './digest';
import { RegistryError, type RegistryErrorDetails } from './errors';
import { toDescriptor } from './manifest';
import type { Descriptor, IgnoredAttachment, IgnoredAttachmentReason, ImageStore } from './types';

/**
 * Tells a broken attachment from a broken registry. Anyone who can push to a repository can attach a
 * malformed referrer or cosign layer to any image in it; if that failed the whole lookup, one bad push
 * would block every deployment of the image. So a fault of one attached item as it is stored (not JSON,
 * no bundle layer, a descriptor that lies about size or type, listed but absent) skips that item and
 * records it: skipped evidence never counts, so this can only ever remove evidence, never add any.
 *
 * What a pusher cannot cause on a content-addressed registry still fails the lookup (fail closed, and
 * not cached as a verdict): bytes that do not hash to their digest, timeouts, 5xx and 429 storms, auth,
 * insecure redirects, bodies streamed past the size limit.
 */

/**
 * A skipped item, or undefined when `e` must propagate (a registry or transport failure, or a bug).
 * Item faults: absent (NOT_FOUND: listed, but the registry has no such content), and, for a manifest,
 * bytes that hashed to their digest but are not a usable manifest (UNSUPPORTED_MEDIA_TYPE, and
 * BAD_RESPONSE without an HTTP status). A BAD_RESPONSE with a status is the registry answering
 * unexpectedly; for a blob, whose digest is checked before any request, it is the transport: both fail.
 */
export function itemFault(
  e: unknown,
  source: IgnoredAttachment['source'],
  attachment: string,
  what: 'manifest' | 'blob',
): IgnoredAttachment | undefined {
  if (!(e instanceof RegistryError)) return undefined;
  let reason: IgnoredAttachmentReason;
  if (e.code === 'NOT_FOUND') reason = 'NOT_FOUND';
  else if (what === 'blob') return undefined;
  else if (e.code === 'UNSUPPORTED_MEDIA_TYPE') reason = 'UNSUPPORTED_MEDIA_TYPE';
  else if (e.code === 'BAD_RESPONSE' && e.status === undefined) reason = 'MALFORMED_MANIFEST';
  else return undefined;
  return { source, attachment, reason, detail: `${e.code}: ${e.message}` };
}

/**
 * The descriptors of a manifest's `field`, each read on its own: one malformed entry is skipped (and
 * counted in `malformed`), the others stay usable. Undefined when `field` is present but not an array.
 */
export function lenientDescriptors(
  json: unknown,
  field: 'layers' | 'manifests',
  details: RegistryErrorDetails,
): { descriptors: Descriptor[]; malformed: number } | undefined {
  const list = (json as Record<string, unknown>)[field];
  if (list === undefined) return { descriptors: [], malformed: 0 };
  if (!Array.isArray(list)) return undefined;
  const descriptors: Descriptor[] = [];
  let malformed = 0;
  for (const entry of list) {
    try {
      descriptors.push(toDescriptor(entry, details));
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
      malformed++;
    }
  }
  return { descriptors, malformed };
}

export type BlobRead = { bytes: Buffer } | { ignored: IgnoredAttachment };

/**
 * Runs blob re-reads (see readAttachmentBlob) one at a time and stops at the first that fails, so a
 * registry that oversizes every blob costs one re-read up to the limit, not one per attachment.
 */
export class ProbeQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  run<T>(probe: () => Promise<T>): Promise<T> {
    const next = this.tail.then(async () => {
      if (this.failure !== undefined) throw this.failure.error;
      try {
        return await probe();
      } catch (error) {
        this.failure = { error };
        throw error;
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export interface AttachmentBlobRead {
  store: ImageStore;
  repository: string;
  descriptor: Descriptor;
  maxBytes: number;
  probes: ProbeQueue;
  /** What a skipped blob is recorded as. */
  source: IgnoredAttachment['source'];
  attachment: string;
}

/**
 * Reads one attachment blob. What its descriptor declares (a digest that is not sha256, a size over the
 * limit) is judged before any request. A blob longer than its descriptor says is read once more up to
 * the limit: if those bytes hash to the digest, the registry is honest and the descriptor lied (a pushed
 * manifest, which distribution accepts with any layer size), so the item is skipped; if not, the
 * registry lies and the error (DIGEST_MISMATCH, or TOO_LARGE past the limit) propagates.
 */
export async function readAttachmentBlob(read: AttachmentBlobRead): Promise<BlobRead> {
  const { store, repository, descriptor, maxBytes } = read;
  const skip = (reason: IgnoredAttachmentReason, detail: string): BlobRead => ({
    ignored: { source: read.source, attachment: read.attachment, reason, detail },
  });
  if (!isSha256Digest(descriptor.digest)) {
    return skip('DESCRIPTOR_MISMATCH', `its blob digest "${descriptor.digest.slice(0, 80)}" is not sha256`);
  }
  if (descriptor.size > maxBytes) {
    return skip(
      'TOO_LARGE',
      `its blob ${descriptor.digest} declares ${descriptor.size} bytes, over the ${maxBytes}-byte limit`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await store.getBlob(repository, descriptor, maxBytes);
  } catch (e) {
    if (e instanceof RegistryError && e.code === 'TOO_LARGE' && descriptor.size < maxBytes) {
      const actual = await read.probes.run(() =>
        store.getBlob(repository, { ...descriptor, size: maxBytes }, maxBytes),
      );
      return skip(
        'DESCRIPTOR_MISMATCH',
        `its blob ${descriptor.digest} is ${actual.length} bytes where the descriptor says ${descriptor.size}`,
      );
    }
    const fault = itemFault(e, read.source, read.attachment, 'blob');
    if (fault === undefined) throw e;
    return { ignored: fault };
  }
  if (bytes.length !== descriptor.size) {
    return skip(
      'DESCRIPTOR_MISMATCH',
      `its blob ${descriptor.digest} is ${bytes.length} bytes where the descriptor says ${descriptor.size}`,
    );
  }
  return { bytes };
}
