import { sha256Digest, verifyDigest } from './digest';
import { RegistryError, type RegistryErrorDetails } from './errors';
import { MANIFEST_TYPES } from './media-types';
import type { Descriptor, FetchedManifest } from './types';

/**
 * Turns manifest bytes into a `FetchedManifest` only after they pass every check: digest (when one is
 * expected), size, JSON, schemaVersion 2, a known manifest media type that agrees with what the
 * registry and the referring descriptor claimed.
 */
export function parseManifest(
  bytes: Buffer,
  opts: {
    expectedDigest?: string;
    expected?: Partial<Descriptor>;
    contentType?: string;
    details: RegistryErrorDetails;
  },
): FetchedManifest {
  const { details } = opts;
  const digest = sha256Digest(bytes);
  if (opts.expectedDigest !== undefined) verifyDigest(bytes, opts.expectedDigest, details);
  if (opts.expected?.size !== undefined && opts.expected.size !== bytes.length) {
    throw new RegistryError(
      'DIGEST_MISMATCH',
      `Manifest ${digest} is ${bytes.length} bytes where its descriptor says ${opts.expected.size}; the source is inconsistent.`,
      details,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new RegistryError('BAD_RESPONSE', `Manifest ${digest} is not valid JSON.`, { ...details, cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RegistryError('BAD_RESPONSE', `Manifest ${digest} is not a JSON object.`, details);
  }
  const obj = json as { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown; layers?: unknown };
  if (obj.schemaVersion !== 2) {
    throw new RegistryError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Manifest ${digest} has schemaVersion ${String(obj.schemaVersion)}; only schema 2 (OCI, Docker v2) is read. Re-push the image with a current tool.`,
      details,
    );
  }
  const contentType = opts.contentType?.split(';')[0]?.trim();
  const declared = typeof obj.mediaType === 'string' ? obj.mediaType : undefined;
  const mediaType =
    declared ??
    (contentType && MANIFEST_TYPES.includes(contentType) ? contentType : undefined) ??
    opts.expected?.mediaType ??
    inferOciType(obj);
  if (!MANIFEST_TYPES.includes(mediaType)) {
    throw new RegistryError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Manifest ${digest} has media type "${mediaType.slice(0, 100)}", not an image manifest or index.`,
      details,
    );
  }
  // A registry that says one type while the bytes say another is either broken or lying: refuse both.
  for (const claimed of [contentType, opts.expected?.mediaType]) {
    if (
      declared !== undefined &&
      claimed !== undefined &&
      MANIFEST_TYPES.includes(claimed) &&
      claimed !== declared
    ) {
      throw new RegistryError(
        'BAD_RESPONSE',
        `Manifest ${digest} declares ${declared} but was served as ${claimed}.`,
        details,
      );
    }
  }
  if (Array.isArray(obj.manifests) && Array.isArray(obj.layers)) {
    throw new RegistryError(
      'BAD_RESPONSE',
      `Manifest ${digest} has both "manifests" and "layers"; it is ambiguous.`,
      details,
    );
  }
  const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
  const artifactType = (json as { artifactType?: unknown }).artifactType;
  if (typeof artifactType === 'string') descriptor.artifactType = artifactType;
  return { descriptor, bytes, json };
}

function inferOciType(obj: { manifests?: unknown }): string {
  return Array.isArray(obj.manifests)
    ? 'application/vnd.oci.image.index.v1+json'
    : 'application/vnd.oci.image.manifest.v1+json';
}

/** Reads an array of descriptors (layers, manifests) from parsed JSON, refusing malformed entries. */
export function descriptorsOf(
  json: unknown,
  field: 'layers' | 'manifests',
  details: RegistryErrorDetails,
): Descriptor[] {
  const list = (json as Record<string, unknown>)[field];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new RegistryError('BAD_RESPONSE', `"${field}" is not an array.`, details);
  return list.map((entry) => toDescriptor(entry, details));
}

export function toDescriptor(entry: unknown, details: RegistryErrorDetails): Descriptor {
  const e = entry as Record<string, unknown> | null;
  if (
    typeof e !== 'object' ||
    e === null ||
    typeof e.mediaType !== 'string' ||
    typeof e.digest !== 'string' ||
    typeof e.size !== 'number' ||
    !Number.isSafeInteger(e.size) ||
    e.size < 0
  ) {
    throw new RegistryError(
      'BAD_RESPONSE',
      'A descriptor lacks a mediaType, digest or non-negative integer size.',
      details,
    );
  }
  const d: Descriptor = { mediaType: e.mediaType, digest: e.digest, size: e.size };
  if (typeof e.artifactType === 'string') d.artifactType = e.artifactType;
  if (isStringRecord(e.annotations)) d.annotations = e.annotations;
  const p = e.platform as Record<string, unknown> | undefined;
  if (p && typeof p.architecture === 'string' && typeof p.os === 'string') {
    d.platform = { architecture: p.architecture, os: p.os };
    if (typeof p.variant === 'string') d.platform.variant = p.variant;
  }
  return d;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string')
  );
}

/** The `subject` digest of a manifest (OCI 1.1 referrers), if any. */
export function subjectDigest(json: unknown): string | undefined {
  const s = (json as { subject?: { digest?: unknown } }).subject;
  return typeof s?.digest === 'string' ? s.digest : undefined;
}
