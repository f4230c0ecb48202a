import * as fs from 'node:fs';
import { parse } from 'yaml';

/**
 * Every key path the component sets must exist in the chart's default values, or the chart silently
 * ignores it. Paths below `mapKeys` (user-keyed maps, e.g. ClusterSPIFFEID names) and into arrays or
 * scalars the chart leaves open are not descended.
 */
export function missingKeys(values: unknown, defaults: unknown, path = ''): string[] {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return [];
  if (defaults === null || typeof defaults !== 'object' || Array.isArray(defaults)) {
    // The default is a scalar/array/empty placeholder: the chart accepts an object here only if it is `{}`.
    return defaults !== null && typeof defaults === 'object' ? [] : [path];
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
    const d = (defaults as Record<string, unknown>)[k];
    const p = path ? `${path}.${k}` : k;
    if (!(k in (defaults as Record<string, unknown>))) {
      out.push(p);
      continue;
    }
    if (d !== null && typeof d === 'object' && !Array.isArray(d) && Object.keys(d).length === 0) continue;
    if (d === null || d === undefined || d === '') continue;
    out.push(...missingKeys(v, d, p));
  }
  return out;
}

export function readYaml(file: string): unknown {
  return parse(fs.readFileSync(file, 'utf8'));
}
