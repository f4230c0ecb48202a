import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { describe, isRecord, isUnknownValue, rawProperties, type PropertyPath } from '../workloads';
import { readConfig } from './support/config';
import { report, resourceLabel } from './support/report';
import { SettingsChecker, equalsIgnoreCase, isTrue, rawAt, valueAt } from './support/settings';

export const GKE_CONFIDENTIAL_NODES = 'gke-confidential-nodes';

export type ConfidentialInstanceType = 'TDX' | 'SEV_SNP' | 'SEV';

export interface GkeConfidentialNodesConfig {
  /** Confidential technologies allowed. Default TDX only; add SEV_SNP to allow AMD pools. */
  allowedTypes: ConfidentialInstanceType[];
  /** Machine series (type prefixes) that support each technology. */
  machineSeries: Record<ConfidentialInstanceType, string[]>;
}

const TYPES: ConfidentialInstanceType[] = ['TDX', 'SEV_SNP', 'SEV'];
const seriesList: {
  type: 'array';
  minItems: number;
  maxItems: number;
  items: { type: 'string'; pattern: string };
} = {
  type: 'array',
  minItems: 1,
  maxItems: 32,
  items: { type: 'string', pattern: '^[a-z0-9]+-$' },
};

export const gkeConfidentialNodesConfigSchema: PolicyConfigSchema = {
  properties: {
    allowedTypes: {
      type: 'array',
      default: ['TDX'],
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: TYPES },
    },
    machineSeries: {
      type: 'object',
      // GCP "Confidential VM supported configurations": TDX on C3; SEV-SNP on N2D (AMD Milan); SEV on N2D, C2D, C3D.
      default: { TDX: ['c3-'], SEV_SNP: ['n2d-'], SEV: ['n2d-', 'c2d-', 'c3d-'] },
      additionalProperties: false,
      required: TYPES,
      properties: { TDX: seriesList, SEV_SNP: seriesList, SEV: seriesList },
    },
  },
};

const NODE_POOL = 'gcp:container/nodePool:NodePool';
const CLUSTER = 'gcp:container/cluster:Cluster';

/** The confidential instance type at `path` under `container` is set explicitly and allowed by config. */
function requireAllowedType(
  check: SettingsChecker,
  container: unknown,
  path: string[],
  allowed: readonly ConfidentialInstanceType[],
): boolean {
  return check.require(
    container,
    path,
    'confidential instance type',
    `one of ${allowed.join(', ')}, set explicitly`,
    (v) => typeof v === 'string' && allowed.includes(v.toUpperCase() as ConfidentialInstanceType),
    { code: 'CONFIDENTIAL_TYPE_NOT_ALLOWED' },
  );
}

/** Every requirement on one nodeConfig; each unmet one is its own diagnostic. */
function checkNodeConfig(check: SettingsChecker, nodeConfig: unknown, cfg: GkeConfidentialNodesConfig): void {
  const allowed = cfg.allowedTypes;
  check.require(nodeConfig, ['confidentialNodes', 'enabled'], 'confidential nodes', 'true', isTrue);
  const typeOk = requireAllowedType(
    check,
    nodeConfig,
    ['confidentialNodes', 'confidentialInstanceType'],
    allowed,
  );
  const type = valueAt(nodeConfig, ['confidentialNodes', 'confidentialInstanceType']);
  if (typeOk && !type.unknown && typeof type.value === 'string') {
    const series = cfg.machineSeries[type.value.toUpperCase() as ConfidentialInstanceType] ?? [];
    check.require(
      nodeConfig,
      ['machineType'],
      'machine type',
      `a ${type.value} machine type (${series.map((s) => `${s}*`).join(', ')})`,
      (v) => typeof v === 'string' && series.some((s) => v.toLowerCase().startsWith(s)),
      {
        code: 'MACHINE_TYPE_UNSUPPORTED',
        found: (v) => (v === undefined ? 'nothing (GKE defaults to e2-medium)' : describe(v)),
      },
    );
  }
  check.require(
    nodeConfig,
    ['shieldedInstanceConfig', 'enableSecureBoot'],
    'shielded secure boot',
    'true',
    isTrue,
  );
  check.require(
    nodeConfig,
    ['shieldedInstanceConfig', 'enableIntegrityMonitoring'],
    'shielded integrity monitoring',
    'true',
    isTrue,
  );
  check.require(
    nodeConfig,
    ['imageType'],
    'node image',
    'COS_CONTAINERD',
    equalsIgnoreCase('COS_CONTAINERD'),
  );
  check.require(
    nodeConfig,
    ['workloadMetadataConfig', 'mode'],
    'GKE metadata server',
    'GKE_METADATA',
    equalsIgnoreCase('GKE_METADATA'),
  );
}

/**
 * GKE node pools, and a cluster's own nodeConfig and inline pools, run confidential nodes of an allowed
 * technology (default TDX) on a machine type that supports it, with the type explicit, shielded secure
 * boot and integrity monitoring, COS_CONTAINERD and the GKE metadata server.
 */
export function createGkeConfidentialNodesPolicy(): ResourceValidationPolicy {
  return {
    name: GKE_CONFIDENTIAL_NODES,
    description:
      'GKE nodes are confidential VMs of an allowed type on a supporting machine type, shielded, COS_CONTAINERD, GKE metadata server.',
    enforcementLevel: 'mandatory',
    configSchema: gkeConfidentialNodesConfigSchema,
    validateResource: (args, reportViolation) => {
      if (args.type !== NODE_POOL && args.type !== CLUSTER) return;
      const resource = resourceLabel(args.name, args.type);
      const cfg = readConfig<GkeConfidentialNodesConfig>(gkeConfidentialNodesConfigSchema, args.getConfig());
      if (!cfg.ok) {
        report(reportViolation, {
          code: 'CONFIG_INVALID',
          resource,
          requirement: 'confidential nodes',
          expected: `a valid ${GKE_CONFIDENTIAL_NODES} config`,
          found: cfg.problems.join('; '),
        });
        return;
      }
      const props = rawProperties(args.props);
      const nodeConfigs: PropertyPath[] = [];
      if (args.type === NODE_POOL) {
        nodeConfigs.push(['nodeConfig']);
      } else {
        const p = isRecord(props) ? props : {};
        if (p.enableAutopilot === true) {
          // Autopilot has no node pools to configure: confidential nodes are a cluster setting.
          const check = new SettingsChecker(reportViolation, resource, ['confidentialNodes']);
          check.require(p.confidentialNodes, ['enabled'], 'confidential nodes', 'true', isTrue);
          requireAllowedType(
            check,
            p.confidentialNodes,
            ['confidentialInstanceType'],
            cfg.config.allowedTypes,
          );
          return;
        }
        if (p.confidentialNodes !== undefined) {
          // A cluster-wide setting must not name a technology the pools may not use.
          const check = new SettingsChecker(reportViolation, resource, ['confidentialNodes']);
          requireAllowedType(
            check,
            p.confidentialNodes,
            ['confidentialInstanceType'],
            cfg.config.allowedTypes,
          );
        }
        // The default pool is built from nodeConfig; it only escapes the rules when it is removed.
        if (p.nodeConfig !== undefined || p.removeDefaultNodePool !== true) nodeConfigs.push(['nodeConfig']);
        if (Array.isArray(p.nodePools))
          p.nodePools.forEach((_pool, i) => nodeConfigs.push(['nodePools', i, 'nodeConfig']));
      }
      for (const path of nodeConfigs) {
        const at = rawAt(props, path);
        const check = new SettingsChecker(reportViolation, resource, path);
        if (!isUnknownValue(at) && !isRecord(at)) {
          check.require(at, [], 'confidential nodes', 'a nodeConfig with confidential nodes', () => false, {
            found: (v) =>
              v === undefined ? 'no nodeConfig (GKE defaults are not confidential)' : describe(v),
          });
          continue;
        }
        checkNodeConfig(check, at, cfg.config);
      }
    },
  };
}
