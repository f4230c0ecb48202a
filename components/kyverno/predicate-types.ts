import type { SbomFormat } from '../../policy-pack/supply-chain/types';

/**
 * in-toto predicate types the admission policy asks Kyverno to find, signed, on each image. They are
 * the types the trust policy's requirements stand for; the pack checks the same evidence at deploy time.
 */
export const SBOM_PREDICATE_TYPES: Readonly<Record<SbomFormat, string>> = {
  spdx: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
};

/** SLSA provenance: v1 first (preferred), v0.2 still accepted. */
export const PROVENANCE_PREDICATE_TYPES = [
  'https://slsa.dev/provenance/v1',
  'https://slsa.dev/provenance/v0.2',
] as const;

/** An independent rebuilder's evidence: a SLSA verification summary (VSA) saying it reached the same digest. */
export const REBUILD_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
