import { kubernetesKind } from './kubernetes-type';
import { notImagePathsFor, type NotImageProperty } from './not-image';
import { scanPodSpec } from './pod-spec';
import { searchWorkload } from './search';
import type { PropertyPath, WorkloadScan } from './types';
import { isUnknownValue } from './unknown';
import { describe, follow, formatPath, isRecord, labelsAt } from './values';

/**
 * Finds every container image reference in a resource's properties. Pure and total: any input (wrong
 * types, unknowns, deep nesting) yields a scan whose `problems` say what could not be read, never an
 * exception, so the policies can fail closed with a reason.
 */

/** Where the pod spec sits in the built-in Kubernetes workload kinds (their `...Patch` variants too). */
const POD_SPEC_PATHS: Record<string, PropertyPath> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};
const WORKLOAD_GROUPS = new Set(['core', 'apps', 'batch', 'extensions']);

/** Cloud Run: where the container list sits. v1 jobs do not exist in the provider; v2 jobs and worker pools do. */
const CLOUD_RUN_TEMPLATES: Record<string, PropertyPath> = {
  'gcp:cloudrun/service:Service': ['template', 'spec'],
  'gcp:cloudrunv2/service:Service': ['template'],
  'gcp:cloudrunv2/job:Job': ['template', 'template'],
  'gcp:cloudrunv2/workerPool:WorkerPool': ['template'],
};

/** Resource types that deploy workloads the pack cannot see (rendered inside the provider). */
const OPAQUE_WORKLOAD_TYPES: Record<string, string> = {
  'kubernetes:helm.sh/v3:Release':
    'a helm.sh/v3 Release renders its chart inside the provider, so its workloads never reach the policy pack; use helm.sh/v4 Chart (its objects are resources the pack checks)',
};

/** The reason a resource hides its workloads from the pack, or undefined. */
export function opaqueWorkloadReason(type: string): string | undefined {
  return OPAQUE_WORKLOAD_TYPES[type];
}

function scanAt(
  props: unknown,
  family: WorkloadScan['family'],
  specPath: PropertyPath,
  labelPaths: PropertyPath[],
): WorkloadScan {
  const scan: WorkloadScan = { family, images: [], problems: [], podSpecs: [] };
  const r = follow(props, specPath);
  if ('stop' in r) {
    scan.problems.push({
      path: r.stop,
      state: r.state,
      expected: `an object at ${formatPath(specPath)}`,
      found: r.found,
    });
    return scan;
  }
  if (!isRecord(r.value)) {
    scan.problems.push({
      path: specPath,
      state: isUnknownValue(r.value) ? 'unknown' : r.value === undefined ? 'missing' : 'invalid',
      expected: 'a pod spec object',
      found: describe(r.value),
    });
    return scan;
  }
  const labels: Record<string, unknown> = {};
  for (const lp of labelPaths) Object.assign(labels, labelsAt(props, lp));
  scan.podSpecs.push({ path: specPath, spec: r.value, labels });
  scanPodSpec(r.value, specPath, scan.images, scan.problems);
  return scan;
}

/**
 * The workload's images, or undefined when the resource type runs no containers. Built-in Kubernetes
 * workload kinds are read at their pod spec path (a missing or unreadable spec is a problem, not "no
 * images"); other built-in kinds (lists) are searched for pod specs; custom resources are searched for
 * pod specs and for every property named `image` (except those `notImageProperties` declares not to be
 * container images); Cloud Run services, jobs and worker pools are read at their template.
 */
export function scanWorkload(
  type: string,
  properties: unknown,
  options: { notImageProperties?: readonly NotImageProperty[] } = {},
): WorkloadScan | undefined {
  const cloudRun = CLOUD_RUN_TEMPLATES[type];
  if (cloudRun) {
    return scanAt(properties, 'cloudrun', cloudRun, [
      ['labels'],
      [...cloudRun.slice(0, -1), 'metadata', 'labels'],
      [...cloudRun, 'labels'],
    ]);
  }
  const k = kubernetesKind(type);
  if (!k) return undefined;
  const specPath = WORKLOAD_GROUPS.has(k.group) ? POD_SPEC_PATHS[k.kind] : undefined;
  if (specPath) {
    return scanAt(properties, 'kubernetes', specPath, [
      ['metadata', 'labels'],
      [...specPath.slice(0, -1), 'metadata', 'labels'],
    ]);
  }
  // A built-in kind without a pod spec path (ConfigMap, Service, DeploymentList) is searched for pod specs
  // only: without any it is not a workload. A custom resource is an operator's input, and operators run
  // images from wherever their schema puts them, so every `image` property counts too.
  return searchWorkload(properties, {
    imageProperties: !k.builtIn,
    notImagePaths: notImagePathsFor(options.notImageProperties, type),
  });
}
