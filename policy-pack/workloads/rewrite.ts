import type { PropertyPath } from './types';

/**
 * A copy of `root` with the value at `path` replaced. Only the containers along the path are copied, so
 * a remediation returns new properties without mutating what the engine sent.
 */
export function setAtPath(root: unknown, path: PropertyPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(root) && typeof head === 'number') {
    const copy = root.slice();
    copy[head] = setAtPath(root[head], rest, value);
    return copy;
  }
  if (root !== null && typeof root === 'object' && typeof head === 'string') {
    return {
      ...(root as Record<string, unknown>),
      [head]: setAtPath((root as Record<string, unknown>)[head], rest, value),
    };
  }
  throw new TypeError(`cannot set ${String(head)}: the path does not exist`);
}
