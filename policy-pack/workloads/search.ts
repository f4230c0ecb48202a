import { imagePropertyValues } from './image-property';
import { isDeclaredNotImage } from './not-image';
import { scanPodSpec } from './pod-spec';
import type { ImageSite, PropertyPath, ScanProblem, WorkloadScan } from './types';
import { isUnknownValue } from './unknown';
import { formatPath, isRecord, labelsAt } from './values';

/**
 * Searching properties of unknown shape for images: built-in list kinds (DeploymentList, PodList) and
 * custom resources (Argo, Tekton, Knative, KEDA, operators).
 */

/** Deeper than this, a search stops there and reports the part it could not read. */
export const MAX_SCAN_DEPTH = 100;
/** More values than this in one resource and the search stops, reporting that the rest went unread. */
export const MAX_SCAN_VALUES = 200_000;

export interface SearchOptions {
  /**
   * Also take every property named `image`, at any depth, as an image (see image-property.ts). On for
   * custom resources; off for built-in kinds, whose only images are in pod specs (a ConfigMap key named
   * `image` is data).
   */
  imageProperties: boolean;
  /** Paths of `image` properties declared not container images (not-image.ts); never pod-spec images. */
  notImagePaths?: ReadonlySet<string>;
}

/**
 * Every object with a `containers` array is read as a pod spec (its labels are the resource's merged
 * with the template's); with `imageProperties`, every `image` property is an image too, including the
 * ones inside pod specs that the pod-spec reading did not cover. An image path is reported once.
 *
 * Unknown values elsewhere are not problems: during preview a computed subtree may hide images, but
 * every value is known at update, when this search runs again and finds them.
 */
export function searchWorkload(props: unknown, opts: SearchOptions): WorkloadScan | undefined {
  const scan: WorkloadScan = { family: 'kubernetes', images: [], problems: [], podSpecs: [] };
  const reported = new Set<string>();
  const addSites = (sites: ImageSite[]): void => {
    for (const site of sites) {
      const key = formatPath(site.path);
      if (reported.has(key)) continue;
      reported.add(key);
      scan.images.push(site);
    }
  };
  const stack: { value: unknown; path: PropertyPath }[] = [{ value: props, path: [] }];
  let visited = 0;
  let tooDeep: { path: PropertyPath; count: number } | undefined;
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (++visited > MAX_SCAN_VALUES) {
      scan.problems.push({
        path,
        state: 'invalid',
        expected: `a resource of at most ${MAX_SCAN_VALUES} values`,
        found: `more; the search stopped at ${formatPath(path)}, so images beyond it are unchecked`,
      });
      break;
    }
    if (path.length > MAX_SCAN_DEPTH) {
      if (tooDeep) tooDeep.count++;
      else tooDeep = { path: path.slice(0, MAX_SCAN_DEPTH), count: 1 };
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
      continue;
    }
    if (!isRecord(value)) continue;
    if (Array.isArray(value.containers)) {
      const parent = path.slice(0, -1);
      const labels = {
        ...labelsAt(props, ['metadata', 'labels']),
        ...labelsAt(props, [...parent, 'metadata', 'labels']),
      };
      scan.podSpecs.push({ path, spec: value, labels });
      const sites: ImageSite[] = [];
      scanPodSpec(value, path, sites, scan.problems);
      addSites(sites);
      if (!opts.imageProperties) continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (opts.imageProperties && key === 'image') {
        const at = [...path, key];
        // declared by the admin as not a container image: neither reported nor searched further
        if (opts.notImagePaths && isDeclaredNotImage(opts.notImagePaths, at)) continue;
        addImageProperty(props, value, at, reported, addSites);
        continue;
      }
      stack.push({ value: value[key], path: [...path, key] });
    }
  }
  if (tooDeep) scan.problems.push(tooDeepProblem(tooDeep));
  return scan.podSpecs.length > 0 || scan.images.length > 0 || scan.problems.length > 0 ? scan : undefined;
}

function addImageProperty(
  props: unknown,
  holder: Record<string, unknown>,
  path: PropertyPath,
  reported: ReadonlySet<string>,
  addSites: (sites: ImageSite[]) => void,
): void {
  // Already read as a container or image volume of a pod spec (an image volume's site is `.reference`).
  const at = formatPath(path);
  if (reported.has(at) || reported.has(`${at}.reference`)) return;
  const container = nearestName(props, holder, path.slice(0, -1));
  addSites(
    imagePropertyValues(holder.image, path).map((v) => ({
      container,
      kind: 'imageProperty' as const,
      path: v.path,
      image: v.image,
    })),
  );
}

/**
 * The `name` of the object holding the image, else of its nearest named ancestor (an Argo template, a
 * Tekton task), else the holder's own key (`stepTemplate`), so diagnostics say whose image it is.
 */
function nearestName(props: unknown, holder: Record<string, unknown>, holderPath: PropertyPath): string {
  const named = (v: unknown): string | undefined =>
    isRecord(v) && typeof v.name === 'string' && v.name !== '' && !isUnknownValue(v.name)
      ? v.name.slice(0, 253)
      : undefined;
  const own = named(holder);
  if (own !== undefined) return own;
  const chain: unknown[] = [];
  let cur: unknown = props;
  for (const key of holderPath.slice(0, -1)) {
    chain.push(cur);
    cur = Array.isArray(cur) && typeof key === 'number' ? cur[key] : isRecord(cur) ? cur[key] : undefined;
  }
  chain.push(cur);
  for (let i = chain.length - 1; i >= 0; i--) {
    const name = named(chain[i]);
    if (name !== undefined) return name;
  }
  const last = holderPath[holderPath.length - 1];
  return last === undefined ? '(resource)' : typeof last === 'number' ? `#${last}` : last;
}

function tooDeepProblem(tooDeep: { path: PropertyPath; count: number }): ScanProblem {
  return {
    path: tooDeep.path,
    state: 'invalid',
    expected: `nesting of at most ${MAX_SCAN_DEPTH} levels`,
    found: `deeper nesting (${tooDeep.count} value${tooDeep.count === 1 ? '' : 's'} below this path unread, so images there are unchecked)`,
  };
}
