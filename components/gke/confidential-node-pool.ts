import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { ArgsProblems, known } from '../validation';
import {
  CONFIDENTIAL_MACHINE_TABLE,
  CONFIDENTIAL_NODE_LABEL,
  CONFIDENTIAL_TAINT_KEY,
  DEFAULT_MACHINE_TYPES,
  extendMachineTable,
  machineVerdict,
  minCpuPlatform,
  zoneProblem,
  type AdditionalMachine,
  type ConfidentialMachineTable,
  type ConfidentialTechnology,
} from './confidential-technology';
import { MACHINE_PATTERN, ZONE_PATTERN } from '../../policy-pack/policies/support/confidential-machines';

/**
 * Arguments of a confidential GKE node pool. Confidential nodes, shielded boot, the metadata server,
 * private nodes and the taint are not arguments: they cannot be switched off.
 */
export interface ConfidentialNodePoolArgs {
  /** Project that owns the cluster, the node service account and its role bindings. */
  project: pulumi.Input<string>;
  /** The cluster's name (`ConfidentialCluster.cluster.name`). */
  cluster: pulumi.Input<string>;
  /** The cluster's location (region or zone). */
  location: pulumi.Input<string>;
  /** Default `TDX` (Intel TDX on C3 standard). `SEV_SNP` runs AMD SEV-SNP on N2D with the AMD Milan platform. */
  technology?: ConfidentialTechnology;
  /**
   * Default `c3-standard-4` for TDX, `n2d-standard-4` for SEV_SNP; must match a shape of the machine
   * table for the technology (TDX: `c3-standard-*`, `c3-standard-*-lssd`; SEV_SNP: `n2d-standard-*`, `n2d-highcpu-*`, `n2d-highmem-*`).
   */
  machineType?: string;
  /**
   * Zones for the nodes; each must run the technology on the machine's shape (machine table) and lie in
   * `location`. Default: the zones of `location` the table lists for the shape; a location with none is
   * rejected.
   */
  nodeLocations?: string[];
  /**
   * Additions to the machine table (CONFIDENTIAL_MACHINE_TABLE): zones you have verified for a shape, or
   * a shape GKE has started to support. Same form as the pack's `gke-confidential-nodes.additionalMachines`.
   */
  machineTable?: AdditionalMachine[];
  /**
   * Network tags for the nodes. Pass `[cluster.nodeNetworkTag]` of the ConfidentialCluster: its firewall
   * rule for admission webhooks opens only nodes with that tag.
   */
  networkTags?: string[];
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
  networkTags: string[];
  table: ConfidentialMachineTable;
  minNodeCount: number;
  maxNodeCount: number;
  maxSurge: number;
  maxUnavailable: number;
  diskSizeGb: number;
}

const TECHNOLOGIES: readonly ConfidentialTechnology[] = ['TDX', 'SEV_SNP'];
const ALL_TECHNOLOGIES = ['TDX', 'SEV_SNP', 'SEV'];
const NETWORK_TAG = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

function tableAdditions(args: ConfidentialNodePoolArgs, problems: ArgsProblems): AdditionalMachine[] {
  const additions = args.machineTable ?? [];
  const machine = new RegExp(MACHINE_PATTERN);
  const zone = new RegExp(ZONE_PATTERN);
  additions.forEach((a, i) => {
    const at = `machineTable[${i}]`;
    if (!ALL_TECHNOLOGIES.includes(a.technology))
      problems.add(`${at}.technology`, `expected TDX, SEV_SNP or SEV, found ${String(a.technology)}`);
    if (typeof a.machineType !== 'string' || !machine.test(a.machineType))
      problems.add(
        `${at}.machineType`,
        `expected a machine type or pattern such as c3-standard-* (\`*\` stands for a number), found ${String(a.machineType)}`,
      );
    if (!Array.isArray(a.zones) || a.zones.length === 0)
      problems.add(`${at}.zones`, 'expected at least one zone');
    else
      a.zones.forEach((z, j) => {
        if (typeof z !== 'string' || !zone.test(z))
          problems.add(`${at}.zones[${j}]`, `expected a zone such as us-central1-a, found ${String(z)}`);
      });
  });
  return additions;
}

/** Checks every argument and returns the effective settings, or throws one InputPropertiesError listing all problems. */
export function validateConfidentialNodePoolArgs(args: ConfidentialNodePoolArgs): ValidatedNodePool {
  const problems = new ArgsProblems();
  const technology = args.technology ?? 'TDX';
  const offered = TECHNOLOGIES.includes(technology);
  if (!offered) {
    problems.add(
      'technology',
      `expected TDX or SEV_SNP, found ${String(technology)}${
        String(technology) === 'SEV'
          ? ' (SEV does not protect memory integrity; ConfidentialNodePool does not offer it)'
          : ''
      }`,
    );
  }
  // A stray argument from a plain GKE node pool must not weaken the confidential guarantees.
  problems.rejectFixed(
    args,
    [
      'confidentialNodes',
      'nodeConfig',
      'networkConfig',
      'shieldedInstanceConfig',
      'workloadMetadataConfig',
      'taints',
      'imageType',
    ],
    'ConfidentialNodePool (confidential nodes, private nodes, shielded boot, GKE metadata server, COS_CONTAINERD, taint)',
  );
  const before = problems.list.length;
  const additions = tableAdditions(args, problems);
  const table = extendMachineTable(
    CONFIDENTIAL_MACHINE_TABLE,
    problems.list.length > before ? [] : additions,
  );
  const machineType = args.machineType ?? (offered ? DEFAULT_MACHINE_TYPES[technology] : '');
  const verdict = offered ? machineVerdict(machineType, technology, table) : undefined;
  if (verdict && !verdict.ok) problems.add('machineType', verdict.reason);
  const shape = verdict?.ok ? verdict.shape : undefined;
  let nodeLocations = args.nodeLocations;
  const location = known(args.location);
  if (shape && nodeLocations !== undefined) {
    if (nodeLocations.length === 0) problems.add('nodeLocations', 'expected at least one zone');
    for (const [i, zone] of nodeLocations.entries()) {
      const problem = zoneProblem(zone, technology, shape, table);
      if (problem) problems.add(`nodeLocations[${i}]`, problem);
      else if (location !== undefined && zone !== location && !zone.startsWith(`${location}-`)) {
        problems.add(`nodeLocations[${i}]`, `zone ${zone} is not in the cluster's location ${location}`);
      }
    }
  } else if (shape && location !== undefined) {
    // GKE would otherwise spread the pool over every zone of the region, including ones without the technology.
    nodeLocations = shape.zones.filter((z) => z === location || z.startsWith(`${location}-`));
    if (nodeLocations.length === 0) {
      const regions = [...new Set(shape.zones.map((z) => z.replace(/-[a-z]$/, '')))];
      problems.add(
        'location',
        shape.zones.length === 0
          ? `no zone of ${shape.machineType} has been checked for ${technology}${shape.note ? ` (${shape.note})` : ''}; add the zones of ${location} you verified through machineTable (machine table: ${table.source}; checked ${table.checked})`
          : `no zone of ${location} is known to run ${technology} on ${shape.machineType}; expected one of ${regions.join(', ')}, explicit nodeLocations, or zones you verified added through machineTable (machine table: ${table.source}; checked ${table.checked})`,
      );
    }
  }
  const networkTags = args.networkTags ?? [];
  networkTags.forEach((t, i) => {
    if (typeof t !== 'string' || !NETWORK_TAG.test(t))
      problems.add(
        `networkTags[${i}]`,
        `expected a network tag (RFC 1035: lower-case letters, digits, dashes; at most 63), found ${String(t)}`,
      );
  });
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
    networkTags,
    table,
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

/**
 * The roles of a pool's node service account: `roles/container.defaultNodeServiceAccount`, the minimum GKE
 * documents for node service accounts ("Configure GKE node service accounts": logging, monitoring,
 * metadata and the permissions GKE's own troubleshooting checks for), and `roles/artifactregistry.reader`
 * so the nodes can pull images from the project's Artifact Registry.
 */
export const NODE_SERVICE_ACCOUNT_ROLES = [
  'roles/container.defaultNodeServiceAccount',
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
        // Private nodes per pool (GKE deprecates the cluster-wide privateClusterConfig.enablePrivateNodes).
        networkConfig: { enablePrivateNodes: true },
        upgradeSettings: { strategy: 'SURGE', maxSurge: v.maxSurge, maxUnavailable: v.maxUnavailable },
        nodeConfig: {
          machineType: v.machineType,
          minCpuPlatform: minCpuPlatform(v.technology, v.table),
          confidentialNodes: { enabled: true, confidentialInstanceType: v.technology },
          imageType: 'COS_CONTAINERD',
          diskSizeGb: v.diskSizeGb,
          diskType: 'pd-balanced',
          shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
          workloadMetadataConfig: { mode: 'GKE_METADATA' },
          serviceAccount: this.serviceAccount.email,
          oauthScopes: [CLOUD_PLATFORM_SCOPE],
          metadata: { 'disable-legacy-endpoints': 'true' },
          ...(v.networkTags.length > 0 ? { tags: v.networkTags } : {}),
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
