import type { Platform } from '../../policy-pack/registry/types';
import { blobOf, sha256Digest } from './digest';
import { descriptorOf, type OciImage, type OciIndex } from './image';
import { BUILDKIT, IN_TOTO_PAYLOAD_TYPE, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from './media-types';

/**
 * Images as `docker buildx build --provenance --sbom` publishes them: an OCI index whose extra entries
 * (platform unknown/unknown, `vnd.docker.reference.*` annotations) are attestation manifests holding
 * plain in-toto statements. Nothing in them is signed, so a verifier must never count them as evidence;
 * the fixtures exist to prove that.
 */

export interface BuildkitAttestation {
  predicateType: string;
  /** The in-toto statement JSON (unsigned). */
  statement: Buffer;
}

const UNKNOWN_PLATFORM: Platform = { architecture: 'unknown', os: 'unknown' };

function attestationManifest(attestations: BuildkitAttestation[]): OciImage {
  const layers = attestations.map((a) => ({
    ...blobOf(IN_TOTO_PAYLOAD_TYPE, a.statement),
    annotations: { [BUILDKIT.predicateTypeAnnotation]: a.predicateType },
  }));
  const config = blobOf(
    OCI_CONFIG,
    Buffer.from(
      JSON.stringify({
        architecture: 'unknown',
        os: 'unknown',
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    ),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptorOf(config),
      layers: layers.map(descriptorOf),
    }),
  );
  return {
    mediaType: OCI_MANIFEST,
    digest: sha256Digest(manifest),
    manifest,
    config,
    layers,
    platform: UNKNOWN_PLATFORM,
  };
}

/** An OCI index over `entries`' images plus one BuildKit attestation manifest per entry with attestations. */
export function buildBuildkitIndex(
  entries: { image: OciImage; attestations: BuildkitAttestation[] }[],
): OciIndex {
  const images: OciImage[] = [];
  const descriptors: Record<string, unknown>[] = [];
  for (const { image } of entries) {
    images.push(image);
    descriptors.push({
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.manifest.length,
      platform: image.platform,
    });
  }
  for (const { image, attestations } of entries) {
    if (attestations.length === 0) continue;
    const att = attestationManifest(attestations);
    images.push(att);
    descriptors.push({
      mediaType: att.mediaType,
      digest: att.digest,
      size: att.manifest.length,
      annotations: {
        [BUILDKIT.referenceDigest]: image.digest,
        [BUILDKIT.referenceType]: BUILDKIT.attestationManifest,
      },
      platform: UNKNOWN_PLATFORM,
    });
  }
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: descriptors }),
  );
  return { mediaType: OCI_INDEX, digest: sha256Digest(manifest), manifest, images };
}
