import { kyvernoPattern } from './policy-pattern';
import { normaliseRepositoryUri } from '../../policy-pack/supply-chain/provenance';
import type { ImageRule, SbomFormat } from '../../policy-pack/supply-chain/types';
import {
  SLSA_PROVENANCE_V01,
  SLSA_PROVENANCE_V02,
  SLSA_PROVENANCE_V1,
} from '../../policy-pack/supply-chain/predicate-types';
import { PROVENANCE_PREDICATE_TYPES, SBOM_PREDICATE_TYPES, VSA_PREDICATE_TYPES } from './predicate-types';

/**
 * CEL, per image, for each requirement of a trust-policy rule, mirroring the pack's checks
 * (policy-pack/supply-chain/rule-evaluation.ts) as far as an admission policy can. `image` is the
 * reference being checked; `signers` is a CEL list of attestors.
 */

/** A CEL single-quoted string literal. */
export function cel(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An attestation the policy declares: a CEL name and the predicate type Kyverno fetches for it. */
export interface DeclaredAttestation {
  name: string;
  type: string;
}

const payload = (name: string): string => `extractPayload(image, attestations.${name})`;
const verified = (name: string, signers: string): string =>
  `verifyAttestationSignatures(image, attestations.${name}, ${signers}) > 0`;

/** The SBOM attestations for `formats`, named `sbom_<format>_<n>`. */
export function sbomAttestations(formats: readonly SbomFormat[]): DeclaredAttestation[] {
  return formats.flatMap((f) => SBOM_PREDICATE_TYPES[f].map((type, i) => ({ name: `sbom_${f}_${i}`, type })));
}

/** A signed SBOM of an allowed format that lists at least one package (SPDX) or component (CycloneDX). */
export function sbomCheck(formats: readonly SbomFormat[], signers: string): string {
  return sbomAttestations(formats)
    .map(({ name }) => {
      const list = name.startsWith('sbom_spdx') ? 'packages' : 'components';
      const p = payload(name);
      return `(${verified(name, signers)} && has(${p}.predicate.${list}) && size(${p}.predicate.${list}) > 0)`;
    })
    .join(' || ');
}

const PROVENANCE_ATTESTATION_NAMES: Readonly<Record<string, string>> = {
  [SLSA_PROVENANCE_V1]: 'provenance_slsa_v1',
  [SLSA_PROVENANCE_V02]: 'provenance_slsa_v02',
  [SLSA_PROVENANCE_V01]: 'provenance_slsa_v01',
};

export function provenanceAttestations(): DeclaredAttestation[] {
  return PROVENANCE_PREDICATE_TYPES.map((type) => ({ name: PROVENANCE_ATTESTATION_NAMES[type]!, type }));
}

/**
 * A regular expression over a source URI that matches exactly the URIs the pack normalises to the same
 * repository as `sourceRepository` (optional `git+`, scheme, `.git`, trailing `/`, `@ref`; host case-insensitive).
 */
export function sourceRepositoryRegex(sourceRepository: string): string {
  const want = normaliseRepositoryUri(sourceRepository);
  const slash = want.indexOf('/');
  const host = slash < 0 ? want : want.slice(0, slash);
  const rest = slash < 0 ? '' : want.slice(slash);
  return `^(?:git\\+)?(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?i:${escapeRegex(host)})${escapeRegex(rest)}(?:\\.git)?/*(?:@.*)?$`;
}

/** A source entry the pack counts: a URI and at least one non-empty digest. */
function pinnedSource(entry: string, uriRegex: string): string {
  return `has(${entry}.uri) && has(${entry}.digest) && ${entry}.digest.exists(k, ${entry}.digest[k] != '') && ${entry}.uri.matches(${cel(uriRegex)})`;
}

/**
 * Signed SLSA provenance (v1, v0.2 or v0.1), well formed as the pack reads it (provenance.ts: a non-empty
 * builder id, the build type or recipe), meeting the rule's builder and source constraints.
 */
export function provenanceCheck(rule: ImageRule, signers: string): string {
  const prov = rule.provenance!;
  return provenanceAttestations()
    .map(({ name, type }) => {
      const p = `${payload(name)}.predicate`;
      const builder = type === SLSA_PROVENANCE_V1 ? `${p}.runDetails.builder.id` : `${p}.builder.id`;
      const shape =
        type === SLSA_PROVENANCE_V1
          ? `has(${p}.buildDefinition.buildType) && has(${p}.buildDefinition.externalParameters) && ${builder} != ''`
          : type === SLSA_PROVENANCE_V02
            ? `has(${p}.buildType) && ${builder} != ''`
            : `has(${p}.recipe) && has(${p}.recipe.type) && ${p}.recipe.type != '' && ${builder} != ''`;
      const parts = [verified(name, signers), shape];
      if (prov.builderId !== undefined) parts.push(`${builder} == ${cel(prov.builderId)}`);
      if (prov.builderIdRegExp !== undefined)
        parts.push(
          `${builder}.matches(${cel(kyvernoPattern(prov.builderIdRegExp, 'provenance.builderIdRegExp'))})`,
        );
      if (prov.sourceRepository !== undefined) {
        const re = sourceRepositoryRegex(prov.sourceRepository);
        const materials = `(has(${p}.materials) && ${p}.materials.exists(m, ${pinnedSource('m', re)}))`;
        parts.push(
          type === SLSA_PROVENANCE_V1
            ? `has(${p}.buildDefinition.resolvedDependencies) && ${p}.buildDefinition.resolvedDependencies.exists(d, ${pinnedSource('d', re)})`
            : type === SLSA_PROVENANCE_V02
              ? `((has(${p}.invocation) && has(${p}.invocation.configSource) && ${pinnedSource(`${p}.invocation.configSource`, re)}) || ${materials})`
              : materials,
        );
      }
      return `(${parts.join(' && ')})`;
    })
    .join(' || ');
}

/**
 * One attestation per rebuilder and VSA version (v1, v0.2): `extractPayload` returns one payload per
 * (image, attestation), so only a per-rebuilder attestation lets each rebuilder's own VSA be read.
 */
export function rebuildAttestations(rebuilderIds: readonly string[]): DeclaredAttestation[] {
  return rebuilderIds.flatMap((id) =>
    VSA_PREDICATE_TYPES.map((type, v) => ({
      name: v === 0 ? `rebuild_vsa_${id}` : `rebuild_vsa${v}_${id}`,
      type,
    })),
  );
}

/**
 * At least `threshold` DISTINCT listed rebuilders each signed a verification summary (any accepted VSA
 * version) that PASSED. `rebuilderIds` are attestor names.
 */
export function rebuildCheck(rebuilderIds: readonly string[], threshold: number): string {
  const attestations = rebuildAttestations(rebuilderIds);
  const perRebuilder = rebuilderIds.map((id, i) => {
    const mine = attestations.slice(i * VSA_PREDICATE_TYPES.length, (i + 1) * VSA_PREDICATE_TYPES.length);
    return `(${mine
      .map(
        ({ name }) =>
          `(${verified(name, `[attestors.${id}]`)} && ${payload(name)}.predicate.verificationResult == 'PASSED')`,
      )
      .join(' || ')})`;
  });
  return `[${perRebuilder.join(', ')}].filter(ok, ok).size() >= ${threshold}`;
}
