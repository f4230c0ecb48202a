import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { describe, isRecord, isUnknownValue, rawProperties, type PropertyPath } from '../workloads';
import { readConfig } from './support/config';
import { report, resourceLabel } from './support/report';
import {
  CONFIDENTIAL_INSTANCE_TYPES,
  CONFIDENTIAL_MACHINE_TABLE,
  MACHINE_PATTERN,
  ZONE_PATTERN,
  extendMachineTable,
  machineVerdict,
  zoneProblem,
  type AdditionalMachine,
  type ConfidentialInstanceType,
  type ConfidentialMachineTable,
} from './support/confidential-machines';
import { SettingsChecker, equalsIgnoreCase, isTrue, rawAt, valueAt } from './support/settings';

export const GKE_CONFIDENTIAL_NODES = 'gke-confidential-nodes';

export type { ConfidentialInstanceType };

export interface GkeConfidentialNodesConfig {
  /** Confidential technologies allowed. Default TDX only; add SEV_SNP to allow AMD pools. */
  allowedTypes: ConfidentialInstanceType[];
  /**
   * Additions to the machine table (support/confidential-machines.ts): zones you verified for a shape,
   * or a shape GKE has started to support. Entries only extend the table.
   */
  additionalMachines: AdditionalMachine[];
}

export const gkeConfidentialNodesConfigSchema: PolicyConfigSchema = {
  properties: {
    allowedTypes: {
      type: 'array',
      default: ['TDX'],
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: [...CONFIDENTIAL_INSTANCE_TYPES] },
    },
    additionalMachines: {
      type: 'array',
      default: [],
      maxItems: 256,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['technology', 'machineType', 'zones'],
        properties: {
          technology: { type: 'string', enum: [...CONFIDENTIAL_INSTANCE_TYPES] },
          machineType: { type: 'string', pattern: MACHINE_PATTERN, maxLength: 63 },
          zones: {
            type: 'array',
            minItems: 1,
            maxItems: 256,
            uniqueItems: true,
            items: { type: 'string', pattern: ZONE_PATTERN },
          },
        },
      },
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

/** Where a pool's zones are: the resource's own locations, checked against the machine's shape. */
interface ZoneSite {
  check: SettingsChecker;
  root: unknown;
  path: PropertyPath;
}

/** Each explicit zone runs the technology on the machine's shape (the table); absent zones are GKE's choice. */
function checkZones(
  site: ZoneSite,
  technology: ConfidentialInstanceType,
  shape: Parameters<typeof zoneProblem>[2],
  table: ConfidentialMachineTable,
): void {
  const zones = valueAt(site.root, site.path);
  if (!zones.unknown && !Array.isArray(zones.value)) return;
  let problem = '';
  site.check.require(
    site.root,
    site.path,
    'zones',
    `zones that run ${technology} on ${shape.machineType}`,
    (v) => {
      if (!Array.isArray(v)) return false;
      for (const z of v) {
        const p =
          typeof z === 'string'
            ? zoneProblem(z, technology, shape, table)
            : `zone ${describe(z)} is not a zone`;
        if (p) {
          problem = p;
          return false;
        }
      }
      return true;
    },
    { code: 'ZONE_UNSUPPORTED', found: () => problem },
  );
}

/** Every requirement on one nodeConfig; each unmet one is its own diagnostic. */
function checkNodeConfig(
  check: SettingsChecker,
  nodeConfig: unknown,
  cfg: GkeConfidentialNodesConfig,
  table: ConfidentialMachineTable,
  zones?: ZoneSite,
): void {
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
    const technology = type.value.toUpperCase() as ConfidentialInstanceType;
    const shapes = table.technologies[technology].shapes.map((s) => s.machineType).join(', ');
    let reason = '';
    const machineOk = check.require(
      nodeConfig,
      ['machineType'],
      'machine type',
      `a ${technology} machine type (${shapes})`,
      (v) => {
        if (typeof v !== 'string') return false;
        const verdict = machineVerdict(v, technology, table);
        if (!verdict.ok) reason = verdict.reason;
        return verdict.ok;
      },
      {
        code: 'MACHINE_TYPE_UNSUPPORTED',
        found: (v) => (v === undefined ? 'nothing (GKE defaults to e2-medium)' : reason || describe(v)),
      },
    );
    const machine = valueAt(nodeConfig, ['machineType']);
    if (machineOk && zones && !machine.unknown && typeof machine.value === 'string') {
      const verdict = machineVerdict(machine.value, technology, table);
      if (verdict.ok) checkZones(zones, technology, verdict.shape, table);
    }
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
 * Autopilot has no node pools to configure: confidential nodes are a cluster setting. With no type
 * named, Autopilot runs AMD SEV; TDX and SEV-SNP are named explicitly (recent GKE versions; GKE
 * refuses them on older ones). The machine is Autopilot's choice, so no machine or zone is checked.
 */
function checkAutopilot(
  check: SettingsChecker,
  cluster: Record<string, unknown>,
  cfg: GkeConfidentialNodesConfig,
): void {
  check.require(cluster.confidentialNodes, ['enabled'], 'confidential nodes', 'true', isTrue);
  const type = valueAt(cluster.confidentialNodes, ['confidentialInstanceType']);
  if (!type.unknown && (type.value === undefined || type.value === null || type.value === '')) {
    check.require(
      cluster.confidentialNodes,
      ['confidentialInstanceType'],
      'confidential instance type',
      `one of ${cfg.allowedTypes.join(', ')}`,
      () => cfg.allowedTypes.includes('SEV'),
      { code: 'CONFIDENTIAL_TYPE_NOT_ALLOWED', found: () => 'nothing (Autopilot then runs AMD SEV)' },
    );
    return;
  }
  requireAllowedType(check, cluster.confidentialNodes, ['confidentialInstanceType'], cfg.allowedTypes);
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
      const raw = args.getConfig() as Record<string, unknown> | undefined;
      const cfg: ReturnType<typeof readConfig<GkeConfidentialNodesConfig>> =
        raw && 'machineSeries' in raw
          ? {
              ok: false,
              problems: [
                '/machineSeries was replaced by the machine table (support/confidential-machines.ts); extend it with additionalMachines',
              ],
            }
          : readConfig<GkeConfidentialNodesConfig>(gkeConfidentialNodesConfigSchema, raw);
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
      const table = extendMachineTable(CONFIDENTIAL_MACHINE_TABLE, cfg.config.additionalMachines);
      const props = rawProperties(args.props);
      const zoneCheck = new SettingsChecker(reportViolation, resource);
      const site = (path: PropertyPath): ZoneSite => ({ check: zoneCheck, root: props, path });
      const nodeConfigs: [PropertyPath, ZoneSite][] = [];
      if (args.type === NODE_POOL) {
        nodeConfigs.push([['nodeConfig'], site(['nodeLocations'])]);
      } else {
        const p = isRecord(props) ? props : {};
        if (p.enableAutopilot === true) {
          checkAutopilot(
            new SettingsChecker(reportViolation, resource, ['confidentialNodes']),
            p,
            cfg.config,
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
        if (p.nodeConfig !== undefined || p.removeDefaultNodePool !== true)
          nodeConfigs.push([['nodeConfig'], site(['nodeLocations'])]);
        if (Array.isArray(p.nodePools))
          p.nodePools.forEach((pool, i) =>
            nodeConfigs.push([
              ['nodePools', i, 'nodeConfig'],
              site(
                isRecord(pool) && pool.nodeLocations !== undefined
                  ? ['nodePools', i, 'nodeLocations']
                  : ['nodeLocations'],
              ),
            ]),
          );
      }
      for (const [path, zones] of nodeConfigs) {
        const at = rawAt(props, path);
        const check = new SettingsChecker(reportViolation, resource, path);
        if (!isUnknownValue(at) && !isRecord(at)) {
          check.require(at, [], 'confidential nodes', 'a nodeConfig with confidential nodes', () => false, {
            found: (v) =>
              v === undefined ? 'no nodeConfig (GKE defaults are not confidential)' : describe(v),
          });
          continue;
        }
        checkNodeConfig(check, at, cfg.config, table, zones);
      }
    },
  };
}
