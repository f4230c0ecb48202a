import type { PolicyConfigSchema, PolicyResource, StackValidationPolicy } from '@pulumi/policy';
import { isRecord, isUnknownValue, rawProperties } from '../workloads';
import { readConfig } from './support/config';
import { report, resourceLabel } from './support/report';
import { rawAt } from './support/settings';

export const ADMISSION_CONTROL_ENFORCED = 'admission-control-enforced';

export interface AdmissionControlEnforcedConfig {
  /** Helm chart names (last path segment) that install Kyverno. */
  kyvernoCharts: string[];
  /** Helm chart names that install SPIRE. */
  spireCharts: string[];
}

export const admissionControlEnforcedConfigSchema: PolicyConfigSchema = {
  properties: {
    kyvernoCharts: {
      type: 'array',
      default: ['kyverno'],
      minItems: 1,
      maxItems: 16,
      items: { type: 'string', minLength: 1 },
    },
    spireCharts: {
      type: 'array',
      default: ['spire'],
      minItems: 1,
      maxItems: 16,
      items: { type: 'string', minLength: 1 },
    },
  },
};

const CLUSTER = 'gcp:container/cluster:Cluster';
const CHART_TYPES = new Set([
  'kubernetes:helm.sh/v3:Release',
  'kubernetes:helm.sh/v4:Chart',
  'kubernetes:helm.sh/v3:Chart',
]);
const CLUSTER_POLICY = 'kubernetes:kyverno.io/v1:ClusterPolicy';
const IMAGE_VALIDATING_POLICY = /^kubernetes:policies\.kyverno\.io\/[^:]+:ImageValidatingPolicy$/;

/** `oci://ghcr.io/kyverno/charts/kyverno`, `kyverno/kyverno`, `kyverno-3.3.0.tgz` -> `kyverno`. */
export function chartName(chart: unknown): string | undefined {
  if (typeof chart !== 'string' || chart === '') return undefined;
  const last = chart.split('/').pop() ?? chart;
  return last.replace(/-\d+\.\d+\.\d+.*\.tgz$/, '').replace(/\.tgz$/, '');
}

/** Why an admission policy does not enforce image verification, or undefined when it does. */
export function enforcementGap(type: string, props: unknown): string | undefined {
  const spec = rawAt(props, ['spec']);
  if (!isRecord(spec)) return 'no spec';
  if (spec.failurePolicy !== 'Fail') return `failurePolicy ${JSON.stringify(spec.failurePolicy ?? 'unset')}`;
  if (IMAGE_VALIDATING_POLICY.test(type)) {
    const actions = spec.validationActions;
    return Array.isArray(actions) && actions.includes('Deny')
      ? undefined
      : `validationActions ${JSON.stringify(actions ?? 'unset')}`;
  }
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  const verifies = rules.flatMap((r: unknown) =>
    isRecord(r) && Array.isArray(r.verifyImages) ? r.verifyImages : [],
  );
  if (verifies.length === 0) return 'no verifyImages rule';
  const fallback = typeof spec.validationFailureAction === 'string' ? spec.validationFailureAction : 'Audit';
  for (const v of verifies) {
    const action = isRecord(v) && typeof v.failureAction === 'string' ? v.failureAction : fallback;
    if (action.toLowerCase() !== 'enforce') return `a verifyImages rule in ${action} mode`;
  }
  return undefined;
}

/**
 * The clusters whose Kubernetes provider a resource uses: the provider's dependencies lead to them
 * (a kubeconfig built from the cluster's outputs). A stack with one cluster owns every Kubernetes
 * resource whose provider leads nowhere (ambient kubeconfig).
 */
function clustersOf(
  r: PolicyResource,
  byUrn: Map<string, PolicyResource>,
  clusterUrns: Set<string>,
): Set<string> {
  const found = new Set<string>();
  const start = r.provider?.urn;
  if (!start) return found;
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0 && seen.size < 10000) {
    const urn = queue.shift()!;
    if (seen.has(urn)) continue;
    seen.add(urn);
    if (clusterUrns.has(urn)) {
      found.add(urn);
      continue;
    }
    const res = byUrn.get(urn);
    if (!res) continue;
    for (const d of res.dependencies) queue.push(d.urn);
    for (const deps of Object.values(res.propertyDependencies)) for (const d of deps) queue.push(d.urn);
    if (res.parent) queue.push(res.parent.urn);
  }
  return found;
}

interface ClusterAdmission {
  kyverno: boolean;
  spire: boolean;
  enforcing: string[];
  gaps: string[];
  unknown: boolean;
}

/** Every cluster in the stack also gets Kyverno with an enforcing image-verification policy (failurePolicy Fail), and SPIRE. */
export function createAdmissionControlEnforcedPolicy(): StackValidationPolicy {
  return {
    name: ADMISSION_CONTROL_ENFORCED,
    description:
      'Every GKE cluster in the stack gets Kyverno with an image-verification policy in Enforce mode and failurePolicy Fail, and SPIRE.',
    enforcementLevel: 'mandatory',
    configSchema: admissionControlEnforcedConfigSchema,
    validateStack: (args, reportViolation) => {
      const clusters = args.resources.filter((r) => r.type === CLUSTER);
      if (clusters.length === 0) return;
      const cfg = readConfig<AdmissionControlEnforcedConfig>(
        admissionControlEnforcedConfigSchema,
        args.getConfig(),
      );
      if (!cfg.ok) {
        report(reportViolation, {
          code: 'CONFIG_INVALID',
          resource: 'stack',
          requirement: 'admission control',
          expected: `a valid ${ADMISSION_CONTROL_ENFORCED} config`,
          found: cfg.problems.join('; '),
        });
        return;
      }
      const byUrn = new Map(args.resources.map((r) => [r.urn, r]));
      const clusterUrns = new Set(clusters.map((c) => c.urn));
      const state = new Map<string, ClusterAdmission>(
        clusters.map((c) => [
          c.urn,
          { kyverno: false, spire: false, enforcing: [], gaps: [], unknown: false },
        ]),
      );
      for (const r of args.resources) {
        if (!r.type.startsWith('kubernetes:')) continue;
        let owners = clustersOf(r, byUrn, clusterUrns);
        if (owners.size === 0 && clusters.length === 1) owners = new Set(clusterUrns);
        if (owners.size === 0) continue;
        const props = rawProperties(r.props);
        const label = resourceLabel(r.name, r.type);
        for (const owner of owners) {
          const s = state.get(owner)!;
          if (CHART_TYPES.has(r.type)) {
            const chart = rawAt(props, ['chart']);
            if (isUnknownValue(chart)) s.unknown = true;
            const name = chartName(chart);
            if (name && cfg.config.kyvernoCharts.includes(name)) s.kyverno = true;
            if (name && cfg.config.spireCharts.includes(name)) s.spire = true;
          } else if (r.type === CLUSTER_POLICY || IMAGE_VALIDATING_POLICY.test(r.type)) {
            const gap = enforcementGap(r.type, props);
            if (gap === undefined) s.enforcing.push(label);
            else s.gaps.push(`${label}: ${gap}`);
          }
        }
      }
      for (const c of clusters) {
        const s = state.get(c.urn)!;
        const resource = resourceLabel(c.name, c.type);
        const missing: [string, string, string][] = [];
        if (!s.kyverno)
          missing.push([
            'Kyverno',
            `a Helm chart named ${cfg.config.kyvernoCharts.join(' or ')} on this cluster`,
            'none',
          ]);
        if (s.enforcing.length === 0) {
          missing.push([
            'image verification enforced',
            'a Kyverno ClusterPolicy with verifyImages in Enforce mode (or an ImageValidatingPolicy with Deny) and failurePolicy Fail',
            s.gaps.length ? s.gaps.join('; ') : 'no image-verification policy',
          ]);
        }
        if (!s.spire)
          missing.push([
            'SPIRE',
            `a Helm chart named ${cfg.config.spireCharts.join(' or ')} on this cluster`,
            'none',
          ]);
        for (const [requirement, expected, found] of missing) {
          report(
            reportViolation,
            {
              code: s.unknown ? 'VALUE_UNKNOWN' : 'ADMISSION_CONTROL_MISSING',
              resource,
              requirement,
              expected,
              found: s.unknown ? `${found} (some chart names are unknown during preview)` : found,
              hint: s.unknown ? 'It is checked when the values are known, at update.' : undefined,
            },
            s.unknown ? 'advisory' : undefined,
            c.urn,
          );
        }
      }
    },
  };
}
