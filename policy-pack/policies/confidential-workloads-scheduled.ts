import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import {
  formatPath,
  isRecord,
  isUnknownValue,
  rawProperties,
  scanWorkload,
  type PodSpecSite,
} from '../workloads';
import { readConfig } from './support/config';
import { report, resourceLabel } from './support/report';
import { rawAt } from './support/settings';

export const CONFIDENTIAL_WORKLOADS_SCHEDULED = 'confidential-workloads-scheduled';

export interface ConfidentialWorkloadsScheduledConfig {
  /** The label (on the workload or its pod template) that marks a workload confidential. */
  marker: { key: string; value: string };
  /** The node label confidential pools carry; a marked workload must require it. */
  nodeLabel: { key: string; value: string };
  /** The taint confidential pools carry; a marked workload must tolerate it. */
  taint: { key: string; value: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' };
}

const labelSchema = (key: string, value: string): Record<string, unknown> => ({
  type: 'object',
  additionalProperties: false,
  required: ['key', 'value'],
  default: { key, value },
  properties: {
    key: { type: 'string', minLength: 1, maxLength: 316 },
    value: { type: 'string', maxLength: 63 },
  },
});

// The defaults are what components/gke ConfidentialNodePool puts on every confidential pool.
export const confidentialWorkloadsScheduledConfigSchema: PolicyConfigSchema = {
  properties: {
    marker: labelSchema('trustops.dev/confidential', 'true'),
    nodeLabel: labelSchema('trustops.dev/confidential-node', 'true'),
    taint: {
      type: 'object',
      additionalProperties: false,
      required: ['key', 'value', 'effect'],
      default: { key: 'trustops.dev/confidential-node', value: 'true', effect: 'NoSchedule' },
      properties: {
        key: { type: 'string', minLength: 1, maxLength: 316 },
        value: { type: 'string', maxLength: 63 },
        effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
      },
    },
  } as PolicyConfigSchema['properties'],
};

type Check = { ok: true } | { ok: false; found: string } | { unknown: true };

/** Required node affinity selects the label when every alternative term demands it. */
function selectsNodes(spec: Record<string, unknown>, label: { key: string; value: string }): Check {
  const selector = spec.nodeSelector;
  if (isUnknownValue(selector)) return { unknown: true };
  if (isRecord(selector)) {
    const v = selector[label.key];
    if (isUnknownValue(v)) return { unknown: true };
    if (v === label.value) return { ok: true };
  }
  const terms = rawAt(spec, [
    'affinity',
    'nodeAffinity',
    'requiredDuringSchedulingIgnoredDuringExecution',
    'nodeSelectorTerms',
  ]);
  if (isUnknownValue(terms)) return { unknown: true };
  if (Array.isArray(terms) && terms.length > 0) {
    const all = terms.every(
      (t) =>
        isRecord(t) &&
        Array.isArray(t.matchExpressions) &&
        t.matchExpressions.some(
          (e: unknown) =>
            isRecord(e) &&
            e.key === label.key &&
            e.operator === 'In' &&
            Array.isArray(e.values) &&
            e.values.length > 0 &&
            e.values.every((x: unknown) => x === label.value),
        ),
    );
    if (all) return { ok: true };
  }
  const found = isRecord(selector)
    ? `nodeSelector ${JSON.stringify(selector).slice(0, 200)}`
    : 'no nodeSelector';
  return { ok: false, found: `${found} and no required node affinity for ${label.key}=${label.value}` };
}

function toleratesTaint(
  spec: Record<string, unknown>,
  taint: ConfidentialWorkloadsScheduledConfig['taint'],
): Check {
  const tolerations = spec.tolerations;
  if (isUnknownValue(tolerations)) return { unknown: true };
  if (Array.isArray(tolerations)) {
    const hit = tolerations.some(
      (t: unknown) =>
        isRecord(t) &&
        t.key === taint.key &&
        (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
        (t.operator === 'Exists' ||
          ((t.operator === undefined || t.operator === 'Equal') && t.value === taint.value)),
    );
    if (hit) return { ok: true };
    if (tolerations.some(isUnknownValue)) return { unknown: true };
  }
  return {
    ok: false,
    found: Array.isArray(tolerations) ? `${tolerations.length} tolerations, none for it` : 'no tolerations',
  };
}

function marked(site: PodSpecSite, marker: { key: string; value: string }): boolean | 'unknown' {
  const v = site.labels[marker.key];
  if (isUnknownValue(v)) return 'unknown';
  return v === marker.value;
}

/** Workloads marked confidential select and tolerate the confidential node pools. */
export function createConfidentialWorkloadsScheduledPolicy(): ResourceValidationPolicy {
  return {
    name: CONFIDENTIAL_WORKLOADS_SCHEDULED,
    description: 'Workloads marked confidential select and tolerate the confidential node pools.',
    enforcementLevel: 'mandatory',
    configSchema: confidentialWorkloadsScheduledConfigSchema,
    validateResource: (args, reportViolation) => {
      const scan = scanWorkload(args.type, rawProperties(args.props));
      if (!scan || scan.family !== 'kubernetes') return;
      const resource = resourceLabel(args.name, args.type);
      const cfg = readConfig<ConfidentialWorkloadsScheduledConfig>(
        confidentialWorkloadsScheduledConfigSchema,
        args.getConfig(),
      );
      if (!cfg.ok) {
        report(reportViolation, {
          code: 'CONFIG_INVALID',
          resource,
          requirement: 'confidential scheduling',
          expected: `a valid ${CONFIDENTIAL_WORKLOADS_SCHEDULED} config`,
          found: cfg.problems.join('; '),
        });
        return;
      }
      const { marker, nodeLabel, taint } = cfg.config;
      for (const site of scan.podSpecs) {
        const isMarked = marked(site, marker);
        if (isMarked === false) continue;
        const checks: [string, string, Check][] = [
          [
            'select confidential nodes',
            `nodeSelector or required node affinity ${nodeLabel.key}=${nodeLabel.value}`,
            selectsNodes(site.spec, nodeLabel),
          ],
          [
            'tolerate confidential nodes',
            `a toleration for ${taint.key}=${taint.value}:${taint.effect}`,
            toleratesTaint(site.spec, taint),
          ],
        ];
        for (const [requirement, expected, c] of checks) {
          if ('unknown' in c || isMarked === 'unknown') {
            report(
              reportViolation,
              {
                code: 'VALUE_UNKNOWN',
                resource,
                subject: formatPath(site.path),
                requirement,
                expected,
                found: 'a value unknown during preview',
                hint: 'It is checked when the value is known, at update.',
              },
              'advisory',
            );
          } else if (!c.ok) {
            report(reportViolation, {
              code: 'NOT_SCHEDULED_ON_CONFIDENTIAL_NODES',
              resource,
              subject: `pod spec ${formatPath(site.path)} (labelled ${marker.key}=${marker.value})`,
              requirement,
              expected,
              found: c.found,
            });
          }
        }
      }
    },
  };
}
