import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { ArgsProblems, known } from '../validation';
import {
  CONFIDENTIAL_NODE_LABEL,
  CONFIDENTIAL_TAINT_KEY,
  machineFitsTechnology,
  TECHNOLOGY_PROFILES,
  type ConfidentialTechnology,
} from './confidential-technology';

/**
 * Arguments of a confidential GKE node pool. Confidential nodes, shielded boot, the metadata server and
 * the taint are not arguments: they cannot be switched off.
 */
export interface ConfidentialNodePoolArgs {
  /** Project that owns the cluster, the node service account and its role bindings. */
  project: pulumi.Input<string>;
  /** The cluster's name (`ConfidentialCluster.cluster.name`). */
  cluster: pulumi.Input<string>;
  /** The cluster's location (region or zone). */
  location: pulumi.Input<string>;
  /** Default `TDX` (Intel TDX on C3). `SEV_SNP` runs AMD SEV-SNP on N2D with the AMD Milan platform. */
  technology?: ConfidentialTechnology;
  /** Default `c3-standard-4` for TDX, `n2d-standard-4` for SEV_SNP; must belong to the technology's series. */
  machineType?: string;
  /**
   * Zones for the nodes; each must offer the technology and lie in `location`. Default: the zones of
   * `location` known to offer it (see TECHNOLOGY_PROFILES); a location with none is rejected.
   */
  nodeLocations?: string[];
  /** Autoscaling bounds per zone. Defaults 1 and 3. */
  minNodeCount?: number;
  maxNodeCount?: number;
  /** Surge upgrade: extra nodes during an upgrade (default 1) and nodes down at once (default 0). */
  maxSurge?: number;
  maxUnavailable?: number;
  /** Boot disk size in GB. Default 100. */
  diskSizeGb?: number;
  /** Extra Kubernetes labels; the confidential label is always added. */
  labels?: Record<string, string>;
}

export interface ValidatedNodePool {
  technology: ConfidentialTechnology;
  machineType: string;
  nodeLocations?: string[];
  minNodeCount: number;
  maxNodeCount: number;
  maxSurge: number;
  maxUnavailable: number;
  diskSizeGb: number;
}

/** Checks every argument and returns the effective settings, or throws one InputPropertiesError listing all problems. */
export function validateConfidentialNodePoolArgs(args: ConfidentialNodePoolArgs): ValidatedNodePool {
  const problems = new ArgsProblems();
  const technology = args.technology ?? 'TDX';
  const profile = TECHNOLOGY_PROFILES[technology];
  if (!profile) {
    problems.add('technology', `expected TDX or SEV_SNP, found ${String(technology)}`);
  }
  // A stray argument from a plain GKE node pool must not weaken the confidential guarantees.
  problems.rejectFixed(
    args,
    [
      'confidentialNodes',
      'nodeConfig',
      'shieldedInstanceConfig',
      'workloadMetadataConfig',
      'taints',
      'imageType',
    ],
    'ConfidentialNodePool (confidential nodes, shielded boot, GKE metadata server, COS_CONTAINERD, taint)',
  );
  const machineType = args.machineType ?? profile?.defaultMachineType ?? '';
  if (profile && !machineFitsTechnology(machineType, technology)) {
    problems.add(
      'machineType',
      `machine type ${machineType} cannot run ${technology}: ${technology} needs ${profile.machineSeries.join(' or ')}* machines`,
    );
  }
  let nodeLocations = args.nodeLocations;
  const location = known(args.location);
  if (profile && nodeLocations !== undefined) {
    if (nodeLocations.length === 0) problems.add('nodeLocations', 'expected at least one zone');
    for (const [i, zone] of nodeLocations.entries()) {
      if (!profile.zones.includes(zone)) {
        problems.add(
          `nodeLocations[${i}]`,
          `zone ${zone} does not offer ${technology}; expected one of ${profile.zones.join(', ')}`,
        );
      } else if (location !== undefined && zone !== location && !zone.startsWith(`${location}-`)) {
        problems.add(`nodeLocations[${i}]`, `zone ${zone} is not in the cluster's location ${location}`);
      }
    }
  } else if (profile && location !== undefined) {
    // GKE would otherwise spread the pool over every zone of the region, including ones without the technology.
    nodeLocations = profile.zones.filter((z) => z === location || z.startsWith(`${location}-`));
    if (nodeLocations.length === 0) {
      const regions = [...new Set(profile.zones.map((z) => z.replace(/-[a-z]$/, '')))];
      problems.add(
        'location',
        `no zone of ${location} is known to offer ${technology}; expected one of ${regions.join(', ')}, or explicit nodeLocations`,
      );
    }
  }
  const minNodeCount = args.minNodeCount ?? 1;
  const maxNodeCount = args.maxNodeCount ?? 3;
  if (!Number.isInteger(minNodeCount) || minNodeCount < 0)
    problems.add('minNodeCount', `expected an integer >= 0, found ${minNodeCount}`);
  if (!Number.isInteger(maxNodeCount) || maxNodeCount < 1)
    problems.add('maxNodeCount', `expected an integer >= 1, found ${maxNodeCount}`);
  if (maxNodeCount < minNodeCount)
    problems.add('maxNodeCount', `expected >= minNodeCount (${minNodeCount}), found ${maxNodeCount}`);
  const maxSurge = args.maxSurge ?? 1;
  const maxUnavailable = args.maxUnavailable ?? 0;
  if (!Number.isInteger(maxSurge) || maxSurge < 0)
    problems.add('maxSurge', `expected an integer >= 0, found ${maxSurge}`);
  if (!Number.isInteger(maxUnavailable) || maxUnavailable < 0)
    problems.add('maxUnavailable', `expected an integer >= 0, found ${maxUnavailable}`);
  if (maxSurge === 0 && maxUnavailable === 0)
    problems.add('maxSurge', 'maxSurge and maxUnavailable cannot both be 0: upgrades could never proceed');
  const diskSizeGb = args.diskSizeGb ?? 100;
  if (!Number.isInteger(diskSizeGb) || diskSizeGb < 10)
    problems.add('diskSizeGb', `expected an integer >= 10, found ${diskSizeGb}`);
  for (const key of Object.keys(args.labels ?? {})) {
    if (key === CONFIDENTIAL_NODE_LABEL)
      problems.add(`labels.${key}`, 'is set by ConfidentialNodePool and cannot be overridden');
  }
  if (known(args.cluster) === '') problems.add('cluster', 'expected the cluster name, found an empty string');
  problems.throwIfAny('ConfidentialNodePool');
  return {
    technology,
    machineType,
    nodeLocations,
    minNodeCount,
    maxNodeCount,
    maxSurge,
    maxUnavailable,
    diskSizeGb,
  };
}

/**
 * A service account id for the pool's nodes: 6-30 characters, lower-case letters, digits and dashes,
 * starting with a letter and not ending with a dash (GCP's rule), recognisably derived from the pool name.
 */
export function nodeServiceAccountId(poolName: string): string {
  let id = `${poolName.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-nodes`.replace(/^[^a-z]+/, '');
  if (id.length > 30) id = `${id.slice(0, 24).replace(/-+$/, '')}-nodes`;
  id = id.replace(/-{2,}/g, '-').replace(/-+$/, '');
  return id.length >= 6 ? id : `pool-${id}`.slice(0, 30);
}

/** Node OAuth scope: access is governed by IAM on the dedicated service account, not by scopes. */
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Least-privilege roles a GKE node needs (logging, monitoring, pulling from Artifact Registry). */
export const NODE_SERVICE_ACCOUNT_ROLES = [
  'roles/logging.logWriter',
  'roles/monitoring.metricWriter',
  'roles/monitoring.viewer',
  'roles/stackdriver.resourceMetadata.writer',
  'roles/artifactregistry.reader',
] as const;

/** A GKE node pool of confidential VMs (TDX or SEV-SNP) with its own least-privilege service account. */
export class ConfidentialNodePool extends pulumi.ComponentResource {
  readonly nodePool: gcp.container.NodePool;
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly technology: ConfidentialTechnology;
  /** The label (key=value) and taint workloads must select and tolerate to land here. */
  readonly nodeLabel = { key: CONFIDENTIAL_NODE_LABEL, value: 'true' } as const;
  readonly taint = { key: CONFIDENTIAL_TAINT_KEY, value: 'true', effect: 'NoSchedule' } as const;

  constructor(name: string, args: ConfidentialNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super('trustops:gke:ConfidentialNodePool', name, {}, opts);
    const v = validateConfidentialNodePoolArgs(args);
    this.technology = v.technology;
    const profile = TECHNOLOGY_PROFILES[v.technology];

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-nodes`,
      {
        project: args.project,
        accountId: nodeServiceAccountId(name),
        displayName: `GKE nodes of confidential pool ${name}`,
      },
      { parent: this },
    );
    NODE_SERVICE_ACCOUNT_ROLES.forEach((role, i) => {
      new gcp.projects.IAMMember(
        `${name}-nodes-role-${i}`,
        {
          project: args.project,
          role,
          member: pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`,
        },
        { parent: this },
      );
    });

    this.nodePool = new gcp.container.NodePool(
      name,
      {
        project: args.project,
        cluster: args.cluster,
        location: args.location,
        nodeLocations: v.nodeLocations,
        autoscaling: { minNodeCount: v.minNodeCount, maxNodeCount: v.maxNodeCount },
        management: { autoRepair: true, autoUpgrade: true },
        upgradeSettings: { strategy: 'SURGE', maxSurge: v.maxSurge, maxUnavailable: v.maxUnavailable },
        nodeConfig: {
          machineType: v.machineType,
          minCpuPlatform: profile.minCpuPlatform,
          confidentialNodes: { enabled: true, confidentialInstanceType: v.technology },
          imageType: 'COS_CONTAINERD',
          diskSizeGb: v.diskSizeGb,
          diskType: 'pd-balanced',
          shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
          workloadMetadataConfig: { mode: 'GKE_METADATA' },
          serviceAccount: this.serviceAccount.email,
          oauthScopes: [CLOUD_PLATFORM_SCOPE],
          metadata: { 'disable-legacy-endpoints': 'true' },
          labels: { ...(args.labels ?? {}), [CONFIDENTIAL_NODE_LABEL]: 'true' },
          taints: [{ key: CONFIDENTIAL_TAINT_KEY, value: 'true', effect: 'NO_SCHEDULE' }],
        },
      },
      { parent: this },
    );
    this.registerOutputs({ nodePool: this.nodePool.id, serviceAccount: this.serviceAccount.email });
  }
}

export function createConfidentialNodePool(
  name: string,
  args: ConfidentialNodePoolArgs,
  opts?: pulumi.ComponentResourceOptions,
): ConfidentialNodePool {
  return new ConfidentialNodePool(name, args, opts);
}
