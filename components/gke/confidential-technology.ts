/**
 * Which machines and zones can run each confidential-computing technology on GKE. The table itself lives
 * in the policy pack (policy-pack/policies/support/confidential-machines.ts), so the component and the
 * `gke-confidential-nodes` policy refuse the same pairings for the same reasons; see there for its
 * sources and the date it was checked. Extend it with `ConfidentialNodePoolArgs.machineTable`.
 */
import {
  CONFIDENTIAL_MACHINE_TABLE,
  type ConfidentialMachineTable,
} from '../../policy-pack/policies/support/confidential-machines';

export {
  CONFIDENTIAL_MACHINE_TABLE,
  extendMachineTable,
  machinePatternMatches,
  machineVerdict,
  zoneProblem,
  type AdditionalMachine,
  type ConfidentialMachineTable,
  type MachineShape,
} from '../../policy-pack/policies/support/confidential-machines';

/**
 * The technologies ConfidentialNodePool offers. AMD SEV (without SNP) is left out: it encrypts memory
 * but does not protect its integrity; the policy's table still knows it, for pools made elsewhere.
 */
export type ConfidentialTechnology = 'TDX' | 'SEV_SNP';

export const DEFAULT_MACHINE_TYPES: Readonly<Record<ConfidentialTechnology, string>> = {
  TDX: 'c3-standard-4',
  SEV_SNP: 'n2d-standard-4',
};

/** Label and taint every confidential pool carries, so workloads opt in explicitly and SPIRE can select on it. */
export const CONFIDENTIAL_NODE_LABEL = 'trustops.dev/confidential-node';
export const CONFIDENTIAL_TAINT_KEY = 'trustops.dev/confidential-node';

export function minCpuPlatform(
  technology: ConfidentialTechnology,
  table: ConfidentialMachineTable = CONFIDENTIAL_MACHINE_TABLE,
): string | undefined {
  return table.technologies[technology].minCpuPlatform;
}
