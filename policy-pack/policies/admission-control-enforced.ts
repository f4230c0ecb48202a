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
  /**
   * Namespaces an image-verification policy may leave out (system namespaces, Kyverno's own). A policy
   * that excludes any other namespace, or narrows its Pods by selector, name or precondition, leaves those
   * Pods unverified and does not count.
   */
  allowedExcludedNamespaces: string[];
}

const DEFAULT_ALLOWED_EXCLUDED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'kyverno'];

export const admissionControlEnforcedConfigSchema: PolicyConfigSchema = {
  properties: {
    allowedExcludedNamespaces: {
      type: 'array',
      default: DEFAULT_ALLOWED_EXCLUDED_NAMESPACES,
      maxItems: 256,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    },
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

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const nonEmptyStrings = (v: unknown): boolean =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x !== '');

/** A Kyverno `kinds` entry (`Pod`, `v1/Pod`, `*\/Pod`, `*`) that selects Pods. */
function kindSelectsPods(kind: unknown): boolean {
  if (typeof kind !== 'string') return false;
  const last = kind.split('/').pop();
  return last === 'Pod' || last === '*';
}

/** Kyverno resource filters: `{ any: [...] }`, `{ all: [...] }` or the legacy `{ resources: ... }`. */
function filters(block: unknown): { any: Record<string, unknown>[]; all: Record<string, unknown>[] } {
  if (!isRecord(block)) return { any: [], all: [] };
  const legacy = isRecord(block.resources) ? [block] : [];
  return {
    any: [...list(block.any).filter(isRecord), ...legacy],
    all: list(block.all).filter(isRecord),
  };
}

function filterSelectsPods(f: Record<string, unknown>): boolean {
  return isRecord(f.resources) && list(f.resources.kinds).some(kindSelectsPods);
}

/** A filter that selects every Pod: Pod kinds and no other constraint (names, namespaces, selectors, subjects). */
function filterSelectsAllPods(f: Record<string, unknown>): boolean {
  if (!filterSelectsPods(f) || Object.keys(f).some((k) => k !== 'resources')) return false;
  return Object.keys(f.resources as Record<string, unknown>).every((k) => k === 'kinds');
}

/** An exclude filter that names only namespaces, all of them allowed to be left out. */
function excludesOnlyAllowedNamespaces(f: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  if (Object.keys(f).some((k) => k !== 'resources') || !isRecord(f.resources)) return false;
  const r = f.resources;
  if (Object.keys(r).some((k) => k !== 'namespaces' && k !== 'kinds')) return false;
  const namespaces = list(r.namespaces);
  return namespaces.length > 0 && namespaces.every((n) => typeof n === 'string' && allowed.has(n));
}

/**
 * Why a ClusterPolicy rule does not verify every Pod at admission, or undefined when it does: it must
 * match all Pods (kinds only, no namespace, name or label narrowing), have no preconditions, and exclude
 * nothing but allowed namespaces.
 */
function podScopeGap(rule: Record<string, unknown>, allowed: ReadonlySet<string>): string | undefined {
  const match = filters(rule.match);
  const selects =
    match.any.some(filterSelectsPods) || (match.all.length > 0 && match.all.every(filterSelectsPods));
  if (!selects) return 'does not match Pods';
  const exclude = filters(rule.exclude);
  if (
    exclude.any.some(filterSelectsAllPods) ||
    (exclude.all.length === 1 && filterSelectsAllPods(exclude.all[0]!))
  )
    return 'excludes every Pod';
  const matchesAll =
    match.any.some(filterSelectsAllPods) || (match.all.length === 1 && filterSelectsAllPods(match.all[0]!));
  if (!matchesAll) return 'matches only some Pods (namespaces, names, selectors or subjects)';
  if (rawLength(rule.preconditions) > 0) return 'has preconditions that can skip Pods';
  const excluded = [...exclude.any, ...exclude.all];
  if (!excluded.every((f) => excludesOnlyAllowedNamespaces(f, allowed)))
    return `excludes more than the allowed namespaces (${[...allowed].join(', ')})`;
  return undefined;
}

/** Entries of a list or of a Kyverno `{ any, all }` block. */
function rawLength(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (isRecord(v))
    return (
      list(v.any).length +
      list(v.all).length +
      (Object.keys(v).some((k) => k !== 'any' && k !== 'all') ? 1 : 0)
    );
  return v === undefined || v === null ? 0 : 1;
}

/** A set of attestors with at least one entry. */
function hasAttestorEntries(attestors: unknown): boolean {
  return list(attestors).some((a) => isRecord(a) && list(a.entries).length > 0);
}

/** A verifyImages entry that verifies something: images selected, and signers to check them against. */
function verifiesImages(v: unknown): boolean {
  if (!isRecord(v) || !nonEmptyStrings(v.imageReferences)) return false;
  const attestations = list(v.attestations);
  return (
    hasAttestorEntries(v.attestors) ||
    (attestations.length > 0 && attestations.every((a) => isRecord(a) && hasAttestorEntries(a.attestors)))
  );
}

function clusterPolicyGap(spec: Record<string, unknown>, allowed: ReadonlySet<string>): string | undefined {
  if (spec.admission === false) return 'admission false (rules run only in background scans)';
  const fallback = typeof spec.validationFailureAction === 'string' ? spec.validationFailureAction : 'Audit';
  for (const o of list(spec.validationFailureActionOverrides)) {
    const action = isRecord(o) ? o.action : undefined;
    if (typeof action !== 'string' || action.toLowerCase() !== 'enforce')
      return `validationFailureActionOverrides ${JSON.stringify(o)}`;
  }
  const rules = list(spec.rules).filter(isRecord);
  const verifying = rules.filter((r) => list(r.verifyImages).length > 0);
  if (verifying.length === 0) return 'no verifyImages rule';
  for (const r of verifying) {
    for (const v of list(r.verifyImages)) {
      const action = isRecord(v) && typeof v.failureAction === 'string' ? v.failureAction : fallback;
      if (action.toLowerCase() !== 'enforce') return `a verifyImages rule in ${action} mode`;
    }
  }
  const withAttestors = verifying.filter((r) => list(r.verifyImages).some(verifiesImages));
  if (withAttestors.length === 0)
    return 'no verifyImages entry with both imageReferences and attestors (every image would pass unverified)';
  const scopeGaps = withAttestors.map((r) => podScopeGap(r, allowed));
  if (scopeGaps.every((g) => g !== undefined)) {
    return `its verifyImages rules do not apply to Pods (${withAttestors
      .map((r, i) => `${typeof r.name === 'string' ? r.name : `rule ${i}`} ${scopeGaps[i]}`)
      .join('; ')})`;
  }
  return undefined;
}

/** A resourceRules entry that sends Pod creations to the policy. */
function ruleCoversPodCreate(r: unknown): boolean {
  if (!isRecord(r)) return false;
  const has = (v: unknown, want: string): boolean => list(v).some((x) => x === want || x === '*');
  return has(r.apiGroups, '') && has(r.resources, 'pods') && has(r.operations, 'CREATE');
}

/** A namespaceSelector that leaves out nothing, or only allowed namespaces by name. */
function namespaceSelectorGap(selector: unknown, allowed: ReadonlySet<string>): string | undefined {
  if (selector === undefined || selector === null) return undefined;
  if (!isRecord(selector)) return 'an unreadable namespaceSelector';
  if (Object.keys(selector).some((k) => k !== 'matchExpressions'))
    return 'a namespaceSelector that matches only some namespaces';
  for (const e of list(selector.matchExpressions)) {
    const onlyAllowed =
      isRecord(e) &&
      e.key === 'kubernetes.io/metadata.name' &&
      e.operator === 'NotIn' &&
      list(e.values).every((n) => typeof n === 'string' && allowed.has(n));
    if (!onlyAllowed)
      return `a namespaceSelector that leaves out more than the allowed namespaces (${[...allowed].join(', ')})`;
  }
  return undefined;
}

function imageValidatingPolicyGap(
  spec: Record<string, unknown>,
  allowed: ReadonlySet<string>,
): string | undefined {
  const actions = spec.validationActions;
  if (!(Array.isArray(actions) && actions.includes('Deny')))
    return `validationActions ${JSON.stringify(actions ?? 'unset')}`;
  const admission = rawAt(spec, ['evaluation', 'admission', 'enabled']);
  if (admission === false) return 'evaluation.admission.enabled false (rules run only in background scans)';
  if (!list(rawAt(spec, ['matchConstraints', 'resourceRules'])).some(ruleCoversPodCreate))
    return 'matchConstraints.resourceRules do not cover Pod creation';
  const selectorGap = namespaceSelectorGap(rawAt(spec, ['matchConstraints', 'namespaceSelector']), allowed);
  if (selectorGap) return selectorGap;
  if (rawAt(spec, ['matchConstraints', 'objectSelector']) !== undefined)
    return 'an objectSelector that matches only some Pods';
  if (rawLength(spec.matchConditions) > 0) return 'matchConditions that can skip Pods';
  if (list(spec.matchImageReferences).length === 0) return 'no matchImageReferences (every image is skipped)';
  if (list(spec.attestors).length === 0) return 'no attestors';
  const verifies = list(spec.validations).some(
    (v) =>
      isRecord(v) &&
      typeof v.expression === 'string' &&
      /\bverify(?:ImageSignatures|AttestationSignatures)\s*\(/.test(v.expression),
  );
  if (!verifies) return 'no validation calls verifyImageSignatures or verifyAttestationSignatures';
  return undefined;
}

/**
 * Why an admission policy does not enforce image verification, or undefined when it does. Enforcing is
 * not enough: the policy must verify something (signers to check images against, images selected),
 * for Pods, at admission, denying on failure, and failing closed when Kyverno cannot answer.
 */
export function enforcementGap(
  type: string,
  props: unknown,
  allowedExcludedNamespaces: readonly string[] = DEFAULT_ALLOWED_EXCLUDED_NAMESPACES,
): string | undefined {
  const spec = rawAt(props, ['spec']);
  if (!isRecord(spec)) return 'no spec';
  if (spec.failurePolicy !== 'Fail') return `failurePolicy ${JSON.stringify(spec.failurePolicy ?? 'unset')}`;
  const allowed = new Set(allowedExcludedNamespaces);
  return IMAGE_VALIDATING_POLICY.test(type)
    ? imageValidatingPolicyGap(spec, allowed)
    : clusterPolicyGap(spec, allowed);
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
            const gap = enforcementGap(r.type, props, cfg.config.allowedExcludedNamespaces);
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
            'a Kyverno ClusterPolicy (failurePolicy Fail, admission on) with a verifyImages rule for Pods in Enforce mode naming imageReferences and attestors, or an ImageValidatingPolicy (failurePolicy Fail, Deny) for Pods with attestors and validations that verify them',
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
