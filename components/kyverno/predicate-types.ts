import type { SbomFormat } from '../../policy-pack/supply-chain/types';

/**
 * in-toto predicate types the admission policy asks Kyverno to find, signed, on each image: the same
 * types the pack accepts at deploy time (policy-pack/supply-chain/sbom.ts and provenance.ts).
 */

/** The type an SBOM attestation usually carries (`cosign attest --type spdxjson|cyclonedx`). */
export const PRIMARY_SBOM_PREDICATE_TYPE: Readonly<Record<SbomFormat, string>> = {
  spdx: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
};

const versions = (prefix: string, list: readonly string[]): string[] =>
  list.flatMap((v) => [`${prefix}/v${v}`, `${prefix}/${v}`]);

/** Every SBOM predicate type the pack accepts: the bare type and its versioned forms (SPDX 2.2/2.3, CycloneDX 1.x). */
export const SBOM_PREDICATE_TYPES: Readonly<Record<SbomFormat, readonly string[]>> = {
  spdx: [PRIMARY_SBOM_PREDICATE_TYPE.spdx, ...versions(PRIMARY_SBOM_PREDICATE_TYPE.spdx, ['2.2', '2.3'])],
  cyclonedx: [
    PRIMARY_SBOM_PREDICATE_TYPE.cyclonedx,
    ...versions(
      PRIMARY_SBOM_PREDICATE_TYPE.cyclonedx,
      Array.from({ length: 10 }, (_, i) => `1.${i}`),
    ),
  ],
};

/** SLSA provenance: v1 first (preferred), v0.2 still accepted. */
export const PROVENANCE_PREDICATE_TYPES = [
  'https://slsa.dev/provenance/v1',
  'https://slsa.dev/provenance/v0.2',
] as const;

/**
 * A rebuilder's evidence Kyverno can check: a SLSA verification summary (VSA) that PASSED. The pack also
 * counts a rebuilder's SLSA provenance whose source matches the original's; comparing two payloads is
 * beyond an admission policy, so at admission rebuilders must publish VSAs (stricter, never weaker).
 */
export const REBUILD_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
