import type { SbomFormat } from './types';

/**
 * The in-toto predicate types trustops accepts as evidence, in one place: the verifier counts exactly
 * these (sbom.ts, provenance.ts, rule-evaluation.ts) and the Kyverno renderer asks admission for exactly
 * these (components/kyverno). A type of a known family (an SBOM, SLSA provenance or a VSA) with a version
 * not listed here is never counted; findings name it as found and say which versions the rule accepts.
 */

/** SPDX 2.2 and 2.3 JSON. */
export const SPDX_VERSIONS = ['2.2', '2.3'] as const;
/**
 * CycloneDX JSON spec versions whose schemas ship with @cyclonedx/cyclonedx-library: 1.2/1.3 (Tern and
 * older CycloneDX tools), 1.4-1.6, 1.7 (trivy's default since v0.71).
 */
export const CYCLONEDX_SPEC_VERSIONS = ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7'] as const;
export type CycloneDxSpecVersion = (typeof CYCLONEDX_SPEC_VERSIONS)[number];

/** The type an SBOM attestation usually carries (`cosign attest --type spdxjson|cyclonedx`). */
export const PRIMARY_SBOM_PREDICATE_TYPE: Readonly<Record<SbomFormat, string>> = {
  spdx: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
};

/** `<base>/v<version>` and `<base>/<version>`: both spellings are in use. */
function versioned(base: string, list: readonly string[]): string[] {
  return list.flatMap((v) => [`${base}/v${v}`, `${base}/${v}`]);
}

/** Every SBOM predicate type accepted, per format: the bare type first, then the versioned forms. */
export const SBOM_PREDICATE_TYPES: Readonly<Record<SbomFormat, readonly string[]>> = {
  spdx: [PRIMARY_SBOM_PREDICATE_TYPE.spdx, ...versioned(PRIMARY_SBOM_PREDICATE_TYPE.spdx, SPDX_VERSIONS)],
  cyclonedx: [
    PRIMARY_SBOM_PREDICATE_TYPE.cyclonedx,
    ...versioned(PRIMARY_SBOM_PREDICATE_TYPE.cyclonedx, CYCLONEDX_SPEC_VERSIONS),
  ],
};

export const SLSA_PROVENANCE_V01 = 'https://slsa.dev/provenance/v0.1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** SLSA provenance: v1 first (preferred), then v0.2 and v0.1 (Google Cloud Build and older builders). */
export const PROVENANCE_PREDICATE_TYPES = [
  SLSA_PROVENANCE_V1,
  SLSA_PROVENANCE_V02,
  SLSA_PROVENANCE_V01,
] as const;
export type ProvenancePredicateType = (typeof PROVENANCE_PREDICATE_TYPES)[number];

export const SLSA_VSA_V02 = 'https://slsa.dev/verification_summary/v0.2';
export const SLSA_VSA_V1 = 'https://slsa.dev/verification_summary/v1';
/** SLSA verification summaries: v1 first, then v0.2. */
export const VSA_PREDICATE_TYPES = [SLSA_VSA_V1, SLSA_VSA_V02] as const;

/** The SBOM format a predicate type announces, if it is one of the accepted SBOM types. */
export function sbomFormatOf(predicateType: string): SbomFormat | undefined {
  if (SBOM_PREDICATE_TYPES.spdx.includes(predicateType)) return 'spdx';
  if (SBOM_PREDICATE_TYPES.cyclonedx.includes(predicateType)) return 'cyclonedx';
  return undefined;
}

export function isProvenancePredicate(predicateType: string): predicateType is ProvenancePredicateType {
  return (PROVENANCE_PREDICATE_TYPES as readonly string[]).includes(predicateType);
}

export function isVsaPredicate(predicateType: string): boolean {
  return (VSA_PREDICATE_TYPES as readonly string[]).includes(predicateType);
}

/**
 * The family a predicate type belongs to, accepted version or not (`https://spdx.dev/Document/v3.0` is an
 * SPDX SBOM trustops does not read; `https://slsa.dev/provenance/v0.3` provenance it does not read). Used
 * to say "found X; this rule accepts Y" instead of "missing".
 */
export type PredicateFamily = 'spdx' | 'cyclonedx' | 'provenance' | 'vsa';

const FAMILIES: readonly [PredicateFamily, RegExp][] = [
  ['spdx', /^https?:\/\/spdx\.(dev|org)\/(Document|spdx)/i],
  ['cyclonedx', /^https?:\/\/cyclonedx\.org\/(bom|schema)/i],
  ['provenance', /^https?:\/\/slsa\.dev\/provenance\//i],
  ['vsa', /^https?:\/\/slsa\.dev\/verification_summary\//i],
];

export function predicateFamilyOf(predicateType: string | undefined): PredicateFamily | undefined {
  if (predicateType === undefined) return undefined;
  return FAMILIES.find(([, re]) => re.test(predicateType))?.[0];
}

/** For people: what a family's accepted types are. */
export function acceptedDescription(family: PredicateFamily): string {
  switch (family) {
    case 'spdx':
      return `SPDX ${SPDX_VERSIONS.join('/')} JSON (${SBOM_PREDICATE_TYPES.spdx.join(', ')})`;
    case 'cyclonedx': {
      const [first, last] = [CYCLONEDX_SPEC_VERSIONS[0], CYCLONEDX_SPEC_VERSIONS.at(-1)!];
      const base = PRIMARY_SBOM_PREDICATE_TYPE.cyclonedx;
      return `CycloneDX ${first}-${last} JSON (${base}, or ${base}/v${first} to /v${last}, or ${base}/${first} to /${last})`;
    }
    case 'provenance':
      return `SLSA provenance v1, v0.2 or v0.1 (${PROVENANCE_PREDICATE_TYPES.join(', ')})`;
    case 'vsa':
      return `a SLSA verification summary v1 or v0.2 (${VSA_PREDICATE_TYPES.join(', ')})`;
  }
}

/** For people, short: `SPDX 2.2/2.3`, `CycloneDX 1.2-1.7` (what an SBOM requirement expects). */
export function sbomFormatName(format: SbomFormat): string {
  return format === 'spdx'
    ? `SPDX ${SPDX_VERSIONS.join('/')}`
    : `CycloneDX ${CYCLONEDX_SPEC_VERSIONS[0]}-${CYCLONEDX_SPEC_VERSIONS.at(-1)!}`;
}

/** For people: `SLSA provenance v0.1`, `CycloneDX SBOM (https://cyclonedx.org/bom/v1.9)`. */
export function describePredicateType(predicateType: string): string {
  const slsa = /^https:\/\/slsa\.dev\/(provenance|verification_summary)\/(v[\w.]+)$/.exec(predicateType);
  if (slsa) return `${slsa[1] === 'provenance' ? 'SLSA provenance' : 'SLSA VSA'} ${slsa[2]}`;
  switch (predicateFamilyOf(predicateType)) {
    case 'spdx':
      return `SPDX SBOM (${predicateType})`;
    case 'cyclonedx':
      return `CycloneDX SBOM (${predicateType})`;
    case 'provenance':
      return `SLSA provenance (${predicateType})`;
    case 'vsa':
      return `SLSA VSA (${predicateType})`;
    default:
      return predicateType;
  }
}
