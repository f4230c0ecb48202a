import { COSIGN_SIGN_PREDICATE, type SignerOrder } from './evidence';
import { predicateFamilyOf } from './predicate-types';
import type { ImageRule } from './types';

/**
 * Which signer names each kind of evidence's requirement accepts; `other` is every signer of the rule.
 * The evidence collector tries a kind's own signers first and then the rest of the rule's (the Sigstore
 * layer returns the FIRST listed signer a bundle satisfies), so that a valid signature by someone the
 * requirement does not accept is reported as such rather than as a broken signature; its messages name
 * only the requirement's own signers.
 */
export function signerOrderFor(rule: ImageRule): SignerOrder {
  const sig = rule.signature?.signers ?? [];
  const sbom = rule.sbom?.signers ?? [];
  const prov = rule.provenance?.signers ?? [];
  const reb = rule.reproducible?.rebuilders ?? [];
  const all = [...new Set([...sig, ...sbom, ...prov, ...reb])];
  return { signature: sig, sbom, provenance: prov, vsa: reb, other: all };
}

/**
 * The kind of evidence a predicate type announces, by family (an SBOM of a version the pack does not
 * read is still checked against the SBOM signers first, so its finding names it as an SBOM).
 */
export function evidenceKindOf(predicateType: string | undefined): keyof SignerOrder {
  if (predicateType === undefined) return 'other';
  if (predicateType === COSIGN_SIGN_PREDICATE) return 'signature';
  switch (predicateFamilyOf(predicateType)) {
    case 'spdx':
    case 'cyclonedx':
      return 'sbom';
    case 'provenance':
      return 'provenance';
    case 'vsa':
      return 'vsa';
    default:
      return 'other';
  }
}
