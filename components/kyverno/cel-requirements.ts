import { kyvernoPattern } from './policy-pattern';
import { normaliseRepositoryUri } from '../../policy-pack/supply-chain/provenance';
import type { ImageRule, SbomFormat } from '../../policy-pack/supply-chain/types';
import { PROVENANCE_PREDICATE_TYPES, REBUILD_PREDICATE_TYPE, SBOM_PREDICATE_TYPES } from './predicate-types';

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

export function provenanceAttestations(): DeclaredAttestation[] {
  return PROVENANCE_PREDICATE_TYPES.map((type) => ({
    name: type.endsWith('/v1') ? 'provenance_slsa_v1' : 'provenance_slsa_v02',
    type,
  }));
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

/** Signed SLSA provenance (v1 or v0.2), well formed, meeting the rule's builder and source constraints. */
export function provenanceCheck(rule: ImageRule, signers: string): string {
  const prov = rule.provenance!;
  return provenanceAttestations()
    .map(({ name, type }) => {
      const p = `${payload(name)}.predicate`;
      const v1 = type.endsWith('/v1');
      const builder = v1 ? `${p}.runDetails.builder.id` : `${p}.builder.id`;
      const parts = [
        verified(name, signers),
        v1
          ? `has(${p}.buildDefinition.buildType) && has(${p}.buildDefinition.externalParameters) && ${builder} != ''`
          : `has(${p}.buildType) && ${builder} != ''`,
      ];
      if (prov.builderId !== undefined) parts.push(`${builder} == ${cel(prov.builderId)}`);
      if (prov.builderIdRegExp !== undefined)
        parts.push(
          `${builder}.matches(${cel(kyvernoPattern(prov.builderIdRegExp, 'provenance.builderIdRegExp'))})`,
        );
      if (prov.sourceRepository !== undefined) {
        const re = sourceRepositoryRegex(prov.sourceRepository);
        parts.push(
          v1
            ? `has(${p}.buildDefinition.resolvedDependencies) && ${p}.buildDefinition.resolvedDependencies.exists(d, ${pinnedSource('d', re)})`
            : `((has(${p}.invocation) && has(${p}.invocation.configSource) && ${pinnedSource(`${p}.invocation.configSource`, re)}) || (has(${p}.materials) && ${p}.materials.exists(m, ${pinnedSource('m', re)})))`,
        );
      }
      return `(${parts.join(' && ')})`;
    })
    .join(' || ');
}

/**
 * One attestation per rebuilder, all of the VSA type: `extractPayload` returns one payload per
 * (image, attestation), so only a per-rebuilder attestation lets each rebuilder's own VSA be read.
 */
export function rebuildAttestations(rebuilderIds: readonly string[]): DeclaredAttestation[] {
  return rebuilderIds.map((id) => ({ name: `rebuild_vsa_${id}`, type: REBUILD_PREDICATE_TYPE }));
}

/**
 * At least `threshold` DISTINCT listed rebuilders each signed a verification summary that PASSED.
 * `rebuilderIds` are attestor names.
 */
export function rebuildCheck(rebuilderIds: readonly string[], threshold: number): string {
  const perRebuilder = rebuildAttestations(rebuilderIds).map(
    ({ name }, i) =>
      `(${verified(name, `[attestors.${rebuilderIds[i]!}]`)} && ${payload(name)}.predicate.verificationResult == 'PASSED')`,
  );
  return `[${perRebuilder.join(', ')}].filter(ok, ok).size() >= ${threshold}`;
}
