import { inTotoStatement } from '../../cli/oci/attach';
import { blobOf } from '../../cli/oci/digest';
import { buildArtifactManifest, buildIndex, type OciImage } from '../../cli/oci/image';
import { OCI_MANIFEST } from '../../cli/oci/media-types';

/**
 * What `docker buildx build --provenance=true` pushes: an index holding the image and an unsigned in-toto
 * attestation manifest about it, tied by the `vnd.docker.reference.*` annotations. Push `attestation` and
 * the image by digest, then `index` (an OCI index) under a tag.
 */
export function buildKitIndex(
  image: OciImage,
  predicateType: string,
  predicate: unknown,
): { attestation: OciImage; index: Buffer } {
  const statement = blobOf(
    'application/vnd.in-toto+json',
    inTotoStatement({
      subjects: [{ name: 'app', digest: { sha256: image.digest.slice(7) } }],
      predicateType,
      predicate,
    }),
  );
  const attestation = buildArtifactManifest({
    layers: [{ ...statement, annotations: { 'in-toto.io/predicate-type': predicateType } }],
  });
  const indexJson = JSON.parse(buildIndex([image]).manifest.toString()) as { manifests: unknown[] };
  indexJson.manifests.push({
    mediaType: OCI_MANIFEST,
    digest: attestation.digest,
    size: attestation.manifest.length,
    platform: { os: 'unknown', architecture: 'unknown' },
    annotations: {
      'vnd.docker.reference.digest': image.digest,
      'vnd.docker.reference.type': 'attestation-manifest',
    },
  });
  return { attestation, index: Buffer.from(JSON.stringify(indexJson)) };
}
