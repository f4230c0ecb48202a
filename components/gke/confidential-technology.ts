/**
 * Which machines and zones can run each confidential-computing technology on GKE. Keeping the table here
 * lets validation reject a pairing GKE would only refuse minutes into `pulumi up`, and name both sides.
 * Zones are the conservative intersection we rely on (GCP "Confidential VM supported configurations");
 * add a zone only after GKE has created a confidential pool there.
 */
export type ConfidentialTechnology = 'TDX' | 'SEV_SNP';

export interface TechnologyProfile {
  /** Machine types must start with one of these series prefixes. */
  machineSeries: readonly string[];
  /** CPU platform GCE must schedule onto, when the technology needs one. */
  minCpuPlatform?: string;
  zones: readonly string[];
  defaultMachineType: string;
}

export const TECHNOLOGY_PROFILES: Readonly<Record<ConfidentialTechnology, TechnologyProfile>> = {
  TDX: {
    machineSeries: ['c3-'],
    zones: [
      'us-central1-a',
      'us-central1-b',
      'us-central1-c',
      'europe-west4-a',
      'europe-west4-b',
      'europe-west4-c',
      'asia-southeast1-a',
      'asia-southeast1-b',
      'asia-southeast1-c',
    ],
    defaultMachineType: 'c3-standard-4',
  },
  SEV_SNP: {
    machineSeries: ['n2d-'],
    minCpuPlatform: 'AMD Milan',
    zones: [
      'us-central1-a',
      'us-central1-b',
      'us-central1-c',
      'europe-west4-a',
      'europe-west4-b',
      'europe-west4-c',
      'asia-southeast1-a',
      'asia-southeast1-b',
      'asia-southeast1-c',
    ],
    defaultMachineType: 'n2d-standard-4',
  },
};

/** Label and taint every confidential pool carries, so workloads opt in explicitly and SPIRE can select on it. */
export const CONFIDENTIAL_NODE_LABEL = 'trustops.dev/confidential-node';
export const CONFIDENTIAL_TAINT_KEY = 'trustops.dev/confidential-node';

export function machineFitsTechnology(machineType: string, technology: ConfidentialTechnology): boolean {
  return TECHNOLOGY_PROFILES[technology].machineSeries.some((s) => machineType.startsWith(s));
}
