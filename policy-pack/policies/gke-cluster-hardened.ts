import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { rawProperties } from '../workloads';
import { readConfig } from './support/config';
import { ofType } from './support/of-type';
import { report, resourceLabel } from './support/report';
import { SettingsChecker, equalsIgnoreCase, isTrue, valueAt } from './support/settings';

export const GKE_CLUSTER_HARDENED = 'gke-cluster-hardened';

export interface GkeClusterHardenedConfig {
  /** Release channels a cluster may follow. Default every real channel (not UNSPECIFIED). */
  allowedReleaseChannels: string[];
}

export const gkeClusterHardenedConfigSchema: PolicyConfigSchema = {
  properties: {
    allowedReleaseChannels: {
      type: 'array',
      default: ['RAPID', 'REGULAR', 'STABLE', 'EXTENDED'],
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: ['RAPID', 'REGULAR', 'STABLE', 'EXTENDED'] },
    },
  },
};

const CLUSTER = 'gcp:container/cluster:Cluster';
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';
const notTrue = (v: unknown): boolean => v === undefined || v === null || v === false;
const absentOrEmpty = (v: unknown): boolean => v === undefined || v === null || v === '';

/**
 * A GKE cluster is hardened: Workload Identity, private nodes, Binary Authorization enforcing, a release
 * channel, shielded nodes, no legacy ABAC or basic auth, no default node pool, and network policy or
 * Dataplane V2. Each unmet requirement is its own diagnostic.
 */
export function createGkeClusterHardenedPolicy(): ResourceValidationPolicy {
  return {
    name: GKE_CLUSTER_HARDENED,
    description:
      'GKE clusters use Workload Identity, private nodes, enforcing Binary Authorization, a release channel, shielded nodes, no legacy ABAC or basic auth, no default node pool, and network policy or Dataplane V2.',
    enforcementLevel: 'mandatory',
    configSchema: gkeClusterHardenedConfigSchema,
    validateResource: ofType(CLUSTER, (args, reportViolation) => {
      if (args.type !== CLUSTER) return;
      const resource = resourceLabel(args.name, args.type);
      const cfg = readConfig<GkeClusterHardenedConfig>(gkeClusterHardenedConfigSchema, args.getConfig());
      if (!cfg.ok) {
        report(reportViolation, {
          code: 'CONFIG_INVALID',
          resource,
          requirement: 'hardened cluster',
          expected: `a valid ${GKE_CLUSTER_HARDENED} config`,
          found: cfg.problems.join('; '),
        });
        return;
      }
      const p = rawProperties(args.props);
      const check = new SettingsChecker(reportViolation, resource);
      check.require(
        p,
        ['workloadIdentityConfig', 'workloadPool'],
        'Workload Identity',
        'a workload pool (PROJECT.svc.id.goog)',
        nonEmptyString,
      );
      check.require(p, ['privateClusterConfig', 'enablePrivateNodes'], 'private nodes', 'true', isTrue);
      check.require(
        p,
        ['binaryAuthorization', 'evaluationMode'],
        'Binary Authorization',
        'PROJECT_SINGLETON_POLICY_ENFORCE',
        equalsIgnoreCase('PROJECT_SINGLETON_POLICY_ENFORCE'),
      );
      const channels = cfg.config.allowedReleaseChannels;
      check.require(
        p,
        ['releaseChannel', 'channel'],
        'release channel',
        `one of ${channels.join(', ')}`,
        (v) => typeof v === 'string' && channels.includes(v.toUpperCase()),
      );
      check.require(p, ['enableShieldedNodes'], 'shielded nodes', 'true', isTrue);
      check.require(p, ['enableLegacyAbac'], 'no legacy ABAC', 'false or unset', notTrue);
      check.require(p, ['masterAuth', 'username'], 'no basic auth', 'no username', absentOrEmpty);
      check.require(p, ['masterAuth', 'password'], 'no basic auth', 'no password', absentOrEmpty);
      check.require(
        p,
        ['masterAuth', 'clientCertificateConfig', 'issueClientCertificate'],
        'no client certificate auth',
        'false or unset',
        notTrue,
      );
      const autopilot = valueAt(p, ['enableAutopilot']);
      if (autopilot.unknown || autopilot.value !== true) {
        check.require(p, ['removeDefaultNodePool'], 'no default node pool', 'true', isTrue);
      }
      const dataplane = valueAt(p, ['datapathProvider']);
      const dataplaneV2 = !dataplane.unknown && equalsIgnoreCase('ADVANCED_DATAPATH')(dataplane.value);
      if (!dataplaneV2) {
        check.require(
          p,
          ['networkPolicy', 'enabled'],
          'network policy',
          'networkPolicy.enabled true, or datapathProvider ADVANCED_DATAPATH (Dataplane V2)',
          isTrue,
          {
            found: (v) =>
              `networkPolicy.enabled ${v === undefined ? 'unset' : JSON.stringify(v)} and datapathProvider ${
                dataplane.unknown
                  ? 'unknown'
                  : dataplane.value === undefined
                    ? 'unset'
                    : JSON.stringify(dataplane.value)
              }`,
          },
        );
      }
    }),
  };
}
