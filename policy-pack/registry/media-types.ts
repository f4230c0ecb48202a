/** Media types the registry layer reads. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export const IMAGE_MANIFEST_TYPES: readonly string[] = [OCI_MANIFEST, DOCKER_MANIFEST];
export const INDEX_TYPES: readonly string[] = [OCI_INDEX, DOCKER_MANIFEST_LIST];
export const MANIFEST_TYPES: readonly string[] = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];

/** Sent as Accept on every manifest request so registries do not down-convert to schema 1. */
export const MANIFEST_ACCEPT = MANIFEST_TYPES.join(', ');

/** Sigstore bundle artifact/media types (`application/vnd.dev.sigstore.bundle.v0.3+json`, ...). */
export const SIGSTORE_BUNDLE_PREFIX = 'application/vnd.dev.sigstore.bundle';

/** BuildKit marks its attestation manifests inside an index with this annotation. */
export const BUILDKIT_REFERENCE_TYPE = 'vnd.docker.reference.type';
export const BUILDKIT_ATTESTATION_MANIFEST = 'attestation-manifest';
export const BUILDKIT_REFERENCE_DIGEST = 'vnd.docker.reference.digest';

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_TYPES.includes(mediaType);
}

export function isSigstoreBundleType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && mediaType.startsWith(SIGSTORE_BUNDLE_PREFIX);
}

/**
 * The SBOM format a media type, artifact type or predicate type names, if any: `cosign attach sbom`
 * layers (`spdx+json`, `text/spdx`, `application/vnd.cyclonedx+json`), OCI artifact types
 * (`application/spdx+json`), in-toto predicate types (`https://spdx.dev/Document`). Unsigned items only:
 * it decides what a finding calls them, never whether they count (they never do).
 */
export function sbomFormatOfType(type: string | undefined): 'spdx' | 'cyclonedx' | undefined {
  if (type === undefined) return undefined;
  if (/spdx/i.test(type)) return 'spdx';
  if (/cyclonedx/i.test(type)) return 'cyclonedx';
  return undefined;
}
