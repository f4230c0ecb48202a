import type { PropertyPath, ScanProblem } from './types';
import { isUnknownValue } from './unknown';

/** Reading plain property values safely: every helper is total over arbitrary JSON. */

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

/** Reads `path` under `root`; `stop` tells where and why it could not be followed. */
export function follow(
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

export function labelsAt(root: unknown, path: PropertyPath): Record<string, unknown> {
  const r = follow(root, path);
  return 'value' in r && isRecord(r.value) ? r.value : {};
}
