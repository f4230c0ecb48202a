import type { ImageValue, PropertyPath } from './types';
import { imageValue } from './pod-spec';
import { isUnknownValue } from './unknown';
import { describe, isRecord } from './values';

/**
 * What a property named `image` in a custom resource holds, as image values with their paths.
 *
 * Operators put images wherever their schema says (Argo `templates[].script.image`, Tekton
 * `steps[].image`, `spec.image` of countless operators), so inside a custom resource every `image`
 * property is taken to be an image reference the operator will run. Its shapes:
 *
 * - a string: the reference (an empty one is invalid, like in a pod spec);
 * - unknown during preview: reported as unknown, checked at update like every other unknown;
 * - null or absent: no image (the operator's built-in default, which no resource shows the pack);
 * - `{reference[, pullPolicy]}` (the Kubernetes ImageVolumeSource shape): the reference at `.reference`;
 * - an array: each element read by these same rules at `image[i]`;
 * - any other object (`{repository, tag}`, `{registry, repository, tag, digest}`, Helm-values style) is
 *   INVALID, deliberately not assembled: how an operator joins the parts is its own business (a default
 *   or global registry, a default tag that is the operator's version, `repository` with or without the
 *   host), so a reference assembled here could name another image than the one the cluster pulls, and
 *   verifying the wrong image is worse than refusing. The diagnostic lists the object's keys; the fix
 *   is a full reference string where the operator accepts one (`registry/repo@sha256:...`);
 * - a number or boolean: invalid.
 *
 * Fail closed: a non-image property that happens to be called `image` (a VM image name, say) is then
 * reported too; the author sees exactly which path and why.
 */

/** ImageVolumeSource keys: a reference and how to pull it, nothing that changes which image. */
const REFERENCE_OBJECT_KEYS = new Set(['reference', 'pullPolicy']);
/** Bound on how many array elements under one `image` are read, so one property cannot flood reports. */
const MAX_IMAGE_ARRAY = 256;

export interface ImagePropertyValue {
  path: PropertyPath;
  image: ImageValue;
}

export function imagePropertyValues(value: unknown, path: PropertyPath): ImagePropertyValue[] {
  if (value === undefined || value === null) return [];
  if (isUnknownValue(value) || typeof value === 'string') return [{ path, image: imageValue(value) }];
  if (Array.isArray(value)) {
    if (value.length > MAX_IMAGE_ARRAY) {
      return [
        {
          path,
          image: {
            state: 'invalid',
            found: `${describe(value)} (more than ${MAX_IMAGE_ARRAY} images in one property)`,
          },
        },
      ];
    }
    // Nested arrays are read one level deep only: an image list of lists is not a shape anyone uses.
    return value.flatMap((element: unknown, i) =>
      Array.isArray(element)
        ? [{ path: [...path, i], image: { state: 'invalid', found: describe(element) } as ImageValue }]
        : imagePropertyValues(element, [...path, i]),
    );
  }
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if ('reference' in value && keys.every((k) => REFERENCE_OBJECT_KEYS.has(k))) {
      return [{ path: [...path, 'reference'], image: imageValue(value.reference) }];
    }
    return [{ path, image: { state: 'invalid', found: describeImageObject(keys) } }];
  }
  return [{ path, image: { state: 'invalid', found: describe(value) } }];
}

function describeImageObject(keys: string[]): string {
  const shown = keys.slice(0, 8).map((k) => JSON.stringify(k.slice(0, 40)));
  const list = keys.length === 0 ? 'no keys' : `keys ${shown.join(', ')}${keys.length > 8 ? ', ...' : ''}`;
  return (
    `an object with ${list}, not an image reference string: how the operator assembles it (default ` +
    'registry, default tag) is not visible to the pack, so the image it runs cannot be known'
  );
}
