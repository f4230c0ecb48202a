/**
 * Media types, annotation keys and index `kind` values that images and their attachments use.
 * Each was checked against its source: the OCI image spec, Docker's manifest v2 schema 2, cosign
 * (`pkg/oci/static`, `pkg/oci/layout`, `specs/BUNDLE_SPEC.md`) and the Sigstore bundle spec.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** The empty descriptor's media type: config of artifact manifests, blob content `{}`. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** Layer media type of cosign `.sig` manifests (simple-signing payloads). */
export const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** Layer media type of cosign `.att` manifests (DSSE envelopes). */
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
/** The Sigstore bundle v0.3 media type: artifactType and layer type of bundle referrers. */
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Layer annotations of cosign's tag scheme (cosign pkg/oci/static/signature.go). */
export const COSIGN_ANNOTATION = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
  /** On `.att` layers (cosign attest). */
  predicateType: 'predicateType',
} as const;

/** Manifest / referrers-index annotations of the Sigstore OCI conventions (cosign specs/BUNDLE_SPEC.md). */
export const BUNDLE_ANNOTATION = {
  content: 'dev.sigstore.bundle.content',
  predicateType: 'dev.sigstore.bundle.predicateType',
  created: 'org.opencontainers.image.created',
  title: 'org.opencontainers.image.title',
} as const;

/** Tag annotation of index.json entries in an OCI image layout. */
export const OCI_REF_NAME = 'org.opencontainers.image.ref.name';

/** index.json `kind` annotation values written by `cosign save` (cosign pkg/oci/layout/index.go). */
export const COSIGN_LAYOUT_KIND_KEY = 'kind';
export const COSIGN_LAYOUT_KIND = {
  image: 'dev.cosignproject.cosign/image',
  imageIndex: 'dev.cosignproject.cosign/imageIndex',
  sigs: 'dev.cosignproject.cosign/sigs',
  atts: 'dev.cosignproject.cosign/atts',
} as const;

/** BuildKit's in-index attestations (moby/buildkit util/attestation): unsigned, never evidence on their own. */
export const BUILDKIT = {
  referenceType: 'vnd.docker.reference.type',
  referenceDigest: 'vnd.docker.reference.digest',
  attestationManifest: 'attestation-manifest',
  predicateTypeAnnotation: 'in-toto.io/predicate-type',
} as const;

/** SBOM layer media types of `cosign attach sbom` (cosign pkg/types). SPDX JSON really is `spdx+json` there. */
export const COSIGN_SBOM_MEDIA_TYPE = {
  spdx: 'text/spdx',
  spdxJson: 'spdx+json',
  cyclonedxXml: 'application/vnd.cyclonedx+xml',
  cyclonedxJson: 'application/vnd.cyclonedx+json',
  syftJson: 'application/vnd.syft+json',
} as const;
