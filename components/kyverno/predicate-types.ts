import { VSA_PREDICATE_TYPES } from '../../policy-pack/supply-chain/predicate-types';

/**
 * in-toto predicate types the admission policy asks Kyverno to find, signed, on each image: exactly the
 * list the pack counts at deploy time (policy-pack/supply-chain/predicate-types.ts), imported, never
 * copied, so the two cannot drift.
 */
export {
  PRIMARY_SBOM_PREDICATE_TYPE,
  PROVENANCE_PREDICATE_TYPES,
  SBOM_PREDICATE_TYPES,
  VSA_PREDICATE_TYPES,
} from '../../policy-pack/supply-chain/predicate-types';

/**
 * A rebuilder's evidence Kyverno can check: a SLSA verification summary (VSA, v1 or v0.2) that PASSED.
 * The pack also counts a rebuilder's SLSA provenance whose source matches the original's; comparing two
 * payloads is beyond an admission policy, so at admission rebuilders must publish VSAs (stricter, never
 * weaker). The ClusterPolicy form, which cannot express alternatives, asks for this one (v1).
 */
export const REBUILD_PREDICATE_TYPE = VSA_PREDICATE_TYPES[0];
