import type { PropertyPath } from './types';
import { formatPath } from './values';

/**
 * An admin's declaration that a custom resource's property named `image` is not a container image (a VM
 * image in a Crossplane compute resource, a chart value). Custom resources fail closed: every `image`
 * property counts as a container image unless declared here, by exact resource type and property path.
 * Only `image` properties found by the custom-resource search can be declared: images in pod specs
 * (`containers`, `initContainers`, `ephemeralContainers`, image volumes) are always images.
 */
export interface NotImageProperty {
  /** The Pulumi type token, exactly: `kubernetes:compute.gcp.upbound.io/v1beta1:Instance`. */
  type: string;
  /** The property path as diagnostics print it, `[*]` for any index: `spec.forProvider.bootDisk[*].initializeParams[*].image`. */
  path: string;
}

/** The rules' paths that apply to `type`, or undefined when none does. */
export function notImagePathsFor(
  rules: readonly NotImageProperty[] | undefined,
  type: string,
): ReadonlySet<string> | undefined {
  const paths = (rules ?? []).filter((r) => r.type === type).map((r) => r.path);
  return paths.length > 0 ? new Set(paths) : undefined;
}

/** Whether the property at `path` is declared not an image: its exact path or its path with `[*]` indices. */
export function isDeclaredNotImage(paths: ReadonlySet<string>, path: PropertyPath): boolean {
  const exact = formatPath(path);
  return paths.has(exact) || paths.has(exact.replace(/\[\d+\]/g, '[*]'));
}
