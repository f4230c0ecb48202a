import type { PolicyConfigSchema, PolicyResource, StackValidationPolicy } from '@pulumi/policy';
import { describe, isRecord, isUnknownValue, rawProperties } from '../workloads';
import { readConfig } from './support/config';
import { report, resourceLabel } from './support/report';
import { SettingsChecker, equalsIgnoreCase, isTrue, valueAt } from './support/settings';

export const GKE_CLUSTER_HARDENED = 'gke-cluster-hardened';

export interface GkeClusterHardenedConfig {
  /** Release channels a cluster may follow. Default every real channel (not UNSPECIFIED). */
  allowedReleaseChannels: string[];
  binaryAuthorization: {
    /**
     * Projects whose Binary Authorization policy is managed outside the stack (by another stack or the
     * security team), declared here by whoever owns the pack config. Default none: the policy must be in
     * the stack, where the pack can read what it enforces.
     */
    externalPolicyProjects: string[];
  };
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
    binaryAuthorization: {
      type: 'object',
      additionalProperties: false,
      default: { externalPolicyProjects: [] },
      properties: {
        externalPolicyProjects: {
          type: 'array',
          default: [],
          maxItems: 256,
          uniqueItems: true,
          items: { type: 'string', pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' },
        },
      },
    },
  },
};

const CLUSTER = 'gcp:container/cluster:Cluster';
const NODE_POOL = 'gcp:container/nodePool:NodePool';
const BINAUTHZ_POLICY = 'gcp:binaryauthorization/policy:Policy';
const ENFORCING_MODES = [
  'PROJECT_SINGLETON_POLICY_ENFORCE',
  'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE',
];
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';
const notTrue = (v: unknown): boolean => v === undefined || v === null || v === false;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

type Verdict = { unknown: true } | { ok: true } | { ok: false; found: string };

/** Whether any value in `v` (deeply) is unknown during preview. */
function hasUnknown(v: unknown, depth = 0): boolean {
  if (isUnknownValue(v)) return true;
  if (depth > 8) return false;
  if (Array.isArray(v)) return v.some((x) => hasUnknown(x, depth + 1));
  if (isRecord(v)) return Object.values(v).some((x) => hasUnknown(x, depth + 1));
  return false;
}

/**
 * The control plane's IP endpoint is not open to the internet: IP endpoints off, the private endpoint
 * only, or the public one limited to authorized networks (none of them the whole internet, and not every
 * Google Cloud public address).
 */
function ipEndpointVerdict(p: Record<string, unknown>): Verdict {
  // Only the fields the verdict reads: provider-computed outputs (endpoint addresses) stay out of it.
  const ipEnabled = valueAt(p, ['controlPlaneEndpointsConfig', 'ipEndpointsConfig', 'enabled']);
  if (ipEnabled.unknown) return { unknown: true };
  if (ipEnabled.value === false) return { ok: true };
  const privateOnly = valueAt(p, ['privateClusterConfig', 'enablePrivateEndpoint']);
  if (privateOnly.unknown) return { unknown: true };
  if (privateOnly.value === true) return { ok: true };
  const blocks = valueAt(p, ['masterAuthorizedNetworksConfig', 'cidrBlocks']);
  const publicCidrs = valueAt(p, ['masterAuthorizedNetworksConfig', 'gcpPublicCidrsAccessEnabled']);
  if (blocks.unknown || publicCidrs.unknown || hasUnknown(blocks.value)) return { unknown: true };
  const cidrs = list(blocks.value).map((b) => (isRecord(b) ? b.cidrBlock : undefined));
  if (cidrs.length === 0)
    return {
      ok: false,
      found: 'a public IP endpoint with no authorized networks (reachable from the whole internet)',
    };
  const open = cidrs.find((c) => typeof c !== 'string' || c.endsWith('/0'));
  if (open !== undefined) return { ok: false, found: `a public IP endpoint authorizing ${describe(open)}` };
  if (publicCidrs.value === true)
    return {
      ok: false,
      found:
        'a public IP endpoint open to every Google Cloud public address (gcpPublicCidrsAccessEnabled true)',
    };
  return { ok: true };
}

/** Why an admission rule does not block unattested images, or undefined when it does. */
function ruleGap(rule: unknown): string | undefined {
  if (!isRecord(rule)) return 'no default admission rule';
  const mode =
    typeof rule.evaluationMode === 'string' ? rule.evaluationMode.toUpperCase() : rule.evaluationMode;
  const enforcement =
    typeof rule.enforcementMode === 'string' ? rule.enforcementMode.toUpperCase() : rule.enforcementMode;
  if (mode === 'ALWAYS_ALLOW') return 'evaluationMode ALWAYS_ALLOW (every image is admitted)';
  if (mode === 'REQUIRE_ATTESTATION') {
    if (list(rule.requireAttestationsBies).length === 0) return 'REQUIRE_ATTESTATION with no attestor';
  } else if (mode !== 'ALWAYS_DENY') return `evaluationMode ${describe(mode)}`;
  if (enforcement !== 'ENFORCED_BLOCK_AND_AUDIT_LOG')
    return `enforcementMode ${describe(enforcement)} (violations are only logged)`;
  return undefined;
}

/** A policy pattern that exempts every image of every registry. */
function exemptsEverything(pattern: unknown): boolean {
  return (
    typeof pattern === 'string' && (pattern.trim() === '' || !pattern.includes('/') || /^\*+$/.test(pattern))
  );
}

/** Why `policy` lets `cluster`'s images in unattested, or undefined when its rule for the cluster blocks them. */
function policyGap(policy: PolicyResource, cluster: Record<string, unknown>): Verdict {
  const p = rawProperties(policy.props);
  const props = isRecord(p) ? p : {};
  // Only what decides admission: other outputs (etag, computed defaults) may stay unknown.
  if (
    [props.admissionWhitelistPatterns, props.clusterAdmissionRules, props.defaultAdmissionRule].some((v) =>
      hasUnknown(v),
    )
  )
    return { unknown: true };
  const label = resourceLabel(policy.name, policy.type);
  const open = list(props.admissionWhitelistPatterns).find(
    (w) => isRecord(w) && exemptsEverything(w.namePattern),
  );
  if (open !== undefined)
    return {
      ok: false,
      found: `${label}: admissionWhitelistPatterns ${describe((open as Record<string, unknown>).namePattern)} exempts every image`,
    };
  const clusterRules = list(props.clusterAdmissionRules).filter(isRecord);
  let rule: unknown = props.defaultAdmissionRule;
  let which = 'defaultAdmissionRule';
  if (clusterRules.length > 0) {
    if (isUnknownValue(cluster.name) || isUnknownValue(cluster.location)) return { unknown: true };
    const id = `${String(cluster.location)}.${String(cluster.name)}`;
    const specific = clusterRules.find((r) => r.cluster === id);
    if (specific) {
      rule = specific;
      which = `clusterAdmissionRules[${id}]`;
    }
  }
  const gap = ruleGap(rule);
  return gap ? { ok: false, found: `${label}: ${which} ${gap}` } : { ok: true };
}

function binaryAuthorizationVerdict(
  p: Record<string, unknown>,
  resources: PolicyResource[],
  external: readonly string[],
): Verdict {
  const mode = valueAt(p, ['binaryAuthorization', 'evaluationMode']);
  const legacy = valueAt(p, ['binaryAuthorization', 'enabled']);
  if (mode.unknown || legacy.unknown) return { unknown: true };
  const enforcing =
    (typeof mode.value === 'string' && ENFORCING_MODES.includes(mode.value.toUpperCase())) ||
    (mode.value === undefined && legacy.value === true);
  if (!enforcing)
    return {
      ok: false,
      found: `binaryAuthorization.evaluationMode ${mode.value === undefined ? 'unset' : describe(mode.value)}`,
    };
  const project = valueAt(p, ['project']);
  if (project.unknown) return { unknown: true };
  if (typeof project.value === 'string' && external.includes(project.value)) return { ok: true };
  const policies = resources.filter((r) => {
    if (r.type !== BINAUTHZ_POLICY) return false;
    const pp = valueAt(rawProperties(r.props), ['project']);
    return pp.unknown || pp.value === project.value;
  });
  const where =
    project.value === undefined ? "the provider's default project" : `project ${String(project.value)}`;
  if (policies.length === 0)
    return {
      ok: false,
      found: `PROJECT_SINGLETON_POLICY_ENFORCE, and no Binary Authorization policy for ${where} in the stack nor declared external (a project without a policy allows every image)`,
    };
  for (const policy of policies) {
    const pp = valueAt(rawProperties(policy.props), ['project']);
    if (pp.unknown) return { unknown: true };
    const v = policyGap(policy, p);
    if (!('ok' in v) || !v.ok) return v;
  }
  return { ok: true };
}

/**
 * GKE clusters in the stack are hardened: Workload Identity, private nodes, Binary Authorization
 * enforcing a project policy that requires attestations (in the stack, or declared external in config),
 * a release channel, shielded nodes, no legacy ABAC, no client certificates, anonymous access limited,
 * the control plane's IP endpoint not open to the internet, the DNS endpoint guarded by IAM, no default
 * node pool, network policy or Dataplane V2; and no node pool in the stack opts out of private nodes or
 * turns the legacy metadata endpoints back on. A stack policy: Binary Authorization is only as strong
 * as the project policy it enforces, a separate resource. Each unmet requirement is its own diagnostic,
 * on its resource.
 */
export function createGkeClusterHardenedPolicy(): StackValidationPolicy {
  return {
    name: GKE_CLUSTER_HARDENED,
    description:
      'GKE clusters use Workload Identity, private nodes, Binary Authorization enforcing a policy that requires attestations, a release channel, shielded nodes, no legacy ABAC or client certificates, limited anonymous access, no control-plane IP endpoint open to the internet, no default node pool, and network policy or Dataplane V2.',
    enforcementLevel: 'mandatory',
    configSchema: gkeClusterHardenedConfigSchema,
    validateStack: (args, reportViolation) => {
      const clusters = args.resources.filter((r) => r.type === CLUSTER);
      const pools = args.resources.filter((r) => r.type === NODE_POOL);
      if (clusters.length === 0 && pools.length === 0) return;
      const cfg = readConfig<GkeClusterHardenedConfig>(gkeClusterHardenedConfigSchema, args.getConfig());
      if (!cfg.ok) {
        report(reportViolation, {
          code: 'CONFIG_INVALID',
          resource: 'stack',
          requirement: 'hardened cluster',
          expected: `a valid ${GKE_CLUSTER_HARDENED} config`,
          found: cfg.problems.join('; '),
        });
        return;
      }
      for (const c of clusters) checkCluster(c, args.resources, cfg.config, reportViolation);
      for (const pool of pools) {
        const p = rawProperties(pool.props);
        const check = new SettingsChecker(reportViolation, resourceLabel(pool.name, pool.type), [], pool.urn);
        check.require(
          p,
          ['networkConfig', 'enablePrivateNodes'],
          'private nodes',
          'true or unset (the cluster default)',
          (v) => v !== false,
        );
        check.require(
          p,
          ['nodeConfig', 'metadata', 'disable-legacy-endpoints'],
          'legacy metadata endpoints off',
          'disable-legacy-endpoints "true" or unset',
          (v) => v === undefined || v === null || String(v).toLowerCase() === 'true',
        );
      }
    },
  };
}

function checkCluster(
  c: PolicyResource,
  resources: PolicyResource[],
  config: GkeClusterHardenedConfig,
  reportViolation: Parameters<StackValidationPolicy['validateStack']>[1],
): void {
  const raw = rawProperties(c.props);
  const p = isRecord(raw) ? raw : {};
  const resource = resourceLabel(c.name, c.type);
  const check = new SettingsChecker(reportViolation, resource, [], c.urn);
  const verdict = (
    subject: string,
    requirement: string,
    expected: string,
    v: Verdict,
    code: 'SETTING_REQUIRED' | 'BINARY_AUTHORIZATION_NOT_ENFORCING' = 'SETTING_REQUIRED',
  ): void => {
    if ('unknown' in v)
      report(
        reportViolation,
        {
          code: 'VALUE_UNKNOWN',
          resource,
          subject,
          requirement,
          expected,
          found: 'a value unknown during preview',
          hint: 'It is checked when the value is known, at update.',
        },
        'advisory',
        c.urn,
      );
    else if (!v.ok)
      report(
        reportViolation,
        { code, resource, subject, requirement, expected, found: v.found },
        undefined,
        c.urn,
      );
  };
  check.require(
    p,
    ['workloadIdentityConfig', 'workloadPool'],
    'Workload Identity',
    'a workload pool (PROJECT.svc.id.goog)',
    nonEmptyString,
  );
  check.require(p, ['privateClusterConfig', 'enablePrivateNodes'], 'private nodes', 'true', isTrue);
  verdict(
    'binaryAuthorization',
    'Binary Authorization',
    "PROJECT_SINGLETON_POLICY_ENFORCE, and a gcp.binaryauthorization.Policy for the cluster's project in the stack whose rule for the cluster requires attestations (or denies), enforced, with no allowlist pattern exempting every image; or the project in gke-cluster-hardened.binaryAuthorization.externalPolicyProjects",
    binaryAuthorizationVerdict(p, resources, config.binaryAuthorization.externalPolicyProjects),
    'BINARY_AUTHORIZATION_NOT_ENFORCING',
  );
  const channels = config.allowedReleaseChannels;
  check.require(
    p,
    ['releaseChannel', 'channel'],
    'release channel',
    `one of ${channels.join(', ')}`,
    (v) => typeof v === 'string' && channels.includes(v.toUpperCase()),
  );
  check.require(p, ['enableShieldedNodes'], 'shielded nodes', 'true', isTrue);
  check.require(p, ['enableLegacyAbac'], 'no legacy ABAC', 'false or unset', notTrue);
  check.require(
    p,
    ['masterAuth', 'clientCertificateConfig', 'issueClientCertificate'],
    'no client certificate auth',
    'false or unset',
    notTrue,
  );
  check.require(
    p,
    ['anonymousAuthenticationConfig', 'mode'],
    'anonymous access limited',
    'LIMITED (anonymous requests reach only the health-check endpoints)',
    equalsIgnoreCase('LIMITED'),
  );
  verdict(
    'controlPlaneEndpointsConfig.ipEndpointsConfig',
    'control plane IP endpoint not open to the internet',
    'IP endpoints off, the private endpoint only, or authorizedNetworks (no /0, gcpPublicCidrsAccessEnabled not true)',
    ipEndpointVerdict(p),
  );
  for (const field of ['enableK8sTokensViaDns', 'enableK8sCertsViaDns']) {
    check.require(
      p,
      ['controlPlaneEndpointsConfig', 'dnsEndpointConfig', field],
      'DNS endpoint guarded by IAM',
      'false or unset (no Kubernetes-only credentials through the DNS endpoint)',
      notTrue,
    );
  }
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
}
