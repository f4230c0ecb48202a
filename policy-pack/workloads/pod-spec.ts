import type { ContainerKind, ImageSite, ImageValue, PropertyPath, ScanProblem } from './types';
import { isUnknownValue } from './unknown';
import { describe, isRecord } from './values';

/** The images of one pod spec (or Cloud Run template): its container lists and image volumes. */

const CONTAINER_LISTS: [string, ContainerKind][] = [
  ['containers', 'container'],
  ['initContainers', 'initContainer'],
  ['ephemeralContainers', 'ephemeralContainer'],
];

export function scanPodSpec(
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

export function imageValue(image: unknown): ImageValue {
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
