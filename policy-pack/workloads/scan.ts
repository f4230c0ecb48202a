import type { ContainerKind, ImageSite, ImageValue, PropertyPath, ScanProblem, WorkloadScan } from './types';
import { isUnknownValue } from './unknown';

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
const BUILT_IN_GROUPS = new Set(['core', 'apps', 'batch', 'extensions']);

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

const CONTAINER_LISTS: [string, ContainerKind][] = [
  ['containers', 'container'],
  ['initContainers', 'initContainer'],
  ['ephemeralContainers', 'ephemeralContainer'],
];

/** Deeper than this, a generic scan stops and reports the part it could not read. */
export const MAX_SCAN_DEPTH = 100;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Short description of a value for messages (type and a bounded excerpt). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (isUnknownValue(value)) return 'a value unknown until update';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return `the string ${JSON.stringify(shown)}${value.length > 80 ? ` (${value.length} chars)` : ''}`;
  }
  return `the ${typeof value} ${String(value)}`;
}

export function formatPath(path: PropertyPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

/** The reason a resource hides its workloads from the pack, or undefined. */
export function opaqueWorkloadReason(type: string): string | undefined {
  return OPAQUE_WORKLOAD_TYPES[type];
}

function kubernetesKind(type: string): { group: string; kind: string } | undefined {
  const m = /^kubernetes:(?:([^/:]+)\/)?([^/:]+):([A-Za-z0-9]+)$/.exec(type);
  if (!m) return undefined;
  // A CustomResource with apiVersion "v1" registers `kubernetes:v1:<Kind>`: the core group, which the
  // provider creates like the built-in type. Other group-less tokens (yaml:ConfigFile) are components.
  if (m[1] === undefined && !/^v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/.test(m[2]!)) return undefined;
  return { group: m[1] ?? 'core', kind: m[3]!.replace(/Patch$/, '') };
}

/** Reads `path` under `root`; `stop` tells where and why it could not be followed. */
function follow(
  root: unknown,
  path: PropertyPath,
): { value: unknown } | { stop: PropertyPath; state: ScanProblem['state']; found: string } {
  let cur = root;
  for (let i = 0; i < path.length; i++) {
    if (isUnknownValue(cur)) return { stop: path.slice(0, i), state: 'unknown', found: describe(cur) };
    if (!isRecord(cur)) {
      return {
        stop: path.slice(0, i),
        state: cur === undefined ? 'missing' : 'invalid',
        found: describe(cur),
      };
    }
    cur = cur[path[i] as string];
  }
  return { value: cur };
}

function labelsAt(root: unknown, path: PropertyPath): Record<string, unknown> {
  const r = follow(root, path);
  return 'value' in r && isRecord(r.value) ? r.value : {};
}

function scanPodSpec(
  spec: Record<string, unknown>,
  base: PropertyPath,
  images: ImageSite[],
  problems: ScanProblem[],
): void {
  for (const [key, kind] of CONTAINER_LISTS) {
    const list = spec[key];
    const listPath = [...base, key];
    if (list === undefined || list === null) {
      if (key === 'containers') {
        problems.push({
          path: listPath,
          state: 'missing',
          expected: 'a list of containers',
          found: describe(list),
        });
      }
      continue;
    }
    if (isUnknownValue(list)) {
      problems.push({
        path: listPath,
        state: 'unknown',
        expected: 'a list of containers',
        found: describe(list),
      });
      continue;
    }
    if (!Array.isArray(list)) {
      problems.push({
        path: listPath,
        state: 'invalid',
        expected: 'a list of containers',
        found: describe(list),
      });
      continue;
    }
    list.forEach((c: unknown, i) => {
      const cPath = [...listPath, i];
      if (isUnknownValue(c) || !isRecord(c)) {
        problems.push({
          path: cPath,
          state: isUnknownValue(c) ? 'unknown' : 'invalid',
          expected: 'a container object',
          found: describe(c),
        });
        return;
      }
      const name = typeof c.name === 'string' && c.name !== '' && !isUnknownValue(c.name) ? c.name : `#${i}`;
      images.push({ container: name, kind, path: [...cPath, 'image'], image: imageValue(c.image) });
    });
  }
  scanImageVolumes(spec, base, images);
}

function imageValue(image: unknown): ImageValue {
  if (isUnknownValue(image)) return { state: 'unknown' };
  if (image === undefined || image === null) return { state: 'missing' };
  if (typeof image !== 'string' || image.trim() === '') return { state: 'invalid', found: describe(image) };
  return { state: 'known', reference: image };
}

/**
 * Image volumes (`volumes[].image.reference`) are images the kubelet pulls and mounts, so a container
 * can run what is inside: they are verified like container images. Volumes of other types are skipped;
 * an unknown volume list is rechecked at update like every other unknown.
 */
function scanImageVolumes(spec: Record<string, unknown>, base: PropertyPath, images: ImageSite[]): void {
  const volumes = spec.volumes;
  if (!Array.isArray(volumes)) return;
  volumes.forEach((v: unknown, i) => {
    if (!isRecord(v) || v.image === undefined || v.image === null) return;
    const name = typeof v.name === 'string' && v.name !== '' ? v.name : `#${i}`;
    const path = [...base, 'volumes', i, 'image'];
    if (!isRecord(v.image)) {
      images.push({ container: name, kind: 'imageVolume', path, image: imageValue(v.image) });
      return;
    }
    images.push({
      container: name,
      kind: 'imageVolume',
      path: [...path, 'reference'],
      image: imageValue(v.image.reference),
    });
  });
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

/** Any object with a `containers` array at any depth: custom resources (Rollouts, Knative, lists). */
function scanGeneric(props: unknown): WorkloadScan | undefined {
  const scan: WorkloadScan = { family: 'kubernetes', images: [], problems: [], podSpecs: [] };
  const stack: { value: unknown; path: PropertyPath }[] = [{ value: props, path: [] }];
  let visited = 0;
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (++visited > 200000) {
      scan.problems.push({ path, state: 'invalid', expected: 'at most 200000 values', found: 'more' });
      break;
    }
    if (path.length > MAX_SCAN_DEPTH) {
      scan.problems.push({
        path: path.slice(0, 8),
        state: 'invalid',
        expected: `nesting of at most ${MAX_SCAN_DEPTH} levels`,
        found: 'deeper nesting',
      });
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
    } else if (isRecord(value)) {
      if (Array.isArray(value.containers)) {
        const parent = path.slice(0, -1);
        const labels = {
          ...labelsAt(props, ['metadata', 'labels']),
          ...labelsAt(props, [...parent, 'metadata', 'labels']),
        };
        scan.podSpecs.push({ path, spec: value, labels });
        scanPodSpec(value, path, scan.images, scan.problems);
        continue;
      }
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--)
        stack.push({ value: value[keys[i]!], path: [...path, keys[i]!] });
    }
  }
  return scan.podSpecs.length > 0 || scan.problems.length > 0 ? scan : undefined;
}

/**
 * The workload's images, or undefined when the resource type runs no containers. Built-in Kubernetes
 * kinds are read at their pod spec path (a missing or unreadable spec is a problem, not "no images");
 * other Kubernetes types are searched for pod specs; Cloud Run services, jobs and worker pools are read
 * at their template.
 */
export function scanWorkload(type: string, properties: unknown): WorkloadScan | undefined {
  const cloudRun = CLOUD_RUN_TEMPLATES[type];
  if (cloudRun) {
    return scanAt(properties, 'cloudrun', cloudRun, [
      ['labels'],
      [...cloudRun.slice(0, -1), 'metadata', 'labels'],
      [...cloudRun, 'labels'],
    ]);
  }
  const k = kubernetesKind(type);
  if (!k || k.group === 'helm.sh' || k.group === 'yaml' || k.group === 'kustomize') return undefined;
  const specPath = BUILT_IN_GROUPS.has(k.group) ? POD_SPEC_PATHS[k.kind] : undefined;
  if (specPath) {
    return scanAt(properties, 'kubernetes', specPath, [
      ['metadata', 'labels'],
      [...specPath.slice(0, -1), 'metadata', 'labels'],
    ]);
  }
  // Other kinds (built-in lists such as DeploymentList or PodList, custom resources) are searched for pod
  // specs; a kind without any (ConfigMap, Service) is not a workload.
  return scanGeneric(properties);
}
