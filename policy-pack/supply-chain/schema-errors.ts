import type { ErrorObject } from 'ajv';

/**
 * Ajv reports a failed `anyOf`/`oneOf` as one error per branch plus one for the keyword. People want one
 * message naming the alternatives ("must have at least one of: signature, sbom, provenance,
 * reproducible"), at the path of the object that lacks them. This folds each such group into one error;
 * wrapper keywords (`allOf`, `if`) are dropped; everything else is kept as Ajv wrote it.
 */
export interface SchemaProblem {
  /** JSON pointer of the value in the document (`/images/0`). */
  instancePath: string;
  message: string;
}

export function schemaErrorProblems(errors: readonly ErrorObject[] | null | undefined): SchemaProblem[] {
  const all = [...(errors ?? [])];
  const groups = all.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inGroup = (e: ErrorObject, g: ErrorObject): boolean =>
    e !== g && e.schemaPath.startsWith(`${g.schemaPath}/`) && e.instancePath.startsWith(g.instancePath);
  const problems: SchemaProblem[] = [];
  for (const e of all) {
    if (groups.some((g) => inGroup(e, g))) continue; // folded into its group's message
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      problems.push({
        instancePath: e.instancePath,
        message: alternativesMessage(
          e,
          all.filter((b) => inGroup(b, e)),
        ),
      });
      continue;
    }
    if ((e.keyword === 'allOf' || e.keyword === 'if') && all.length > 1) continue;
    const extra = (e.params as { additionalProperty?: unknown }).additionalProperty;
    if (e.keyword === 'additionalProperties' && typeof extra === 'string') {
      // the unknown key is named by its own path
      problems.push({ instancePath: `${e.instancePath}/${extra}`, message: 'unknown key' });
      continue;
    }
    problems.push({
      instancePath: e.instancePath,
      message: `${e.message ?? 'is not valid'}${describeParams(e)}`,
    });
  }
  return problems;
}

function alternativesMessage(group: ErrorObject, branches: ErrorObject[]): string {
  const byBranch = new Map<string, ErrorObject[]>();
  for (const b of branches) {
    const index = b.schemaPath.slice(group.schemaPath.length + 1).split('/')[0] ?? '';
    byBranch.set(index, [...(byBranch.get(index) ?? []), b]);
  }
  const passing = (group.params as { passingSchemas?: unknown }).passingSchemas;
  // With Ajv's `verbose`, the group carries its branches: alternatives that are each a set of required
  // keys are named by those keys, whether none or several of them matched.
  const alternatives = Array.isArray(group.schema) ? (group.schema as unknown[]) : undefined;
  const requiredKeys = alternatives?.map((a) =>
    a !== null &&
    typeof a === 'object' &&
    Object.keys(a).length === 1 &&
    Array.isArray((a as { required?: unknown }).required)
      ? (a as { required: unknown[] }).required.map(String).join(' and ')
      : undefined,
  );
  if (requiredKeys && requiredKeys.every((k) => k !== undefined)) {
    if (group.keyword === 'anyOf') return `must have at least one of: ${requiredKeys.join(', ')}`;
    const found = Array.isArray(passing)
      ? ` (found ${passing.map((i) => requiredKeys[Number(i)]).join(' and ')})`
      : '';
    return `must have exactly one of: ${requiredKeys.join(', ')}${found}`;
  }
  const requiredOnly = [...byBranch.values()].every((bs) => bs.every((b) => b.keyword === 'required'));
  if (requiredOnly && byBranch.size > 0) {
    const names = [...byBranch.values()].map((bs) =>
      bs.map((b) => String((b.params as { missingProperty?: unknown }).missingProperty)).join(' and '),
    );
    if (group.keyword === 'anyOf') return `must have at least one of: ${names.join(', ')}`;
    return `must have exactly one of: ${names.join(', ')}`;
  }
  if (group.keyword === 'oneOf' && Array.isArray(passing)) {
    return `must match exactly one of its alternatives, matches ${passing.length} (alternatives ${passing.join(', ')})`;
  }
  const described = [...byBranch.values()].map((bs) =>
    bs
      .map((b) =>
        `${b.instancePath.slice(group.instancePath.length) || ''} ${b.message ?? ''}${describeParams(b)}`.trim(),
      )
      .join(' and '),
  );
  return `must match ${group.keyword === 'anyOf' ? 'at least' : 'exactly'} one of: ${described.join(' | ')}`;
}

export function describeParams(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (typeof p.additionalProperty === 'string') return ` (unexpected "${p.additionalProperty}")`;
  if (Array.isArray(p.allowedValues)) return ` (one of ${p.allowedValues.map(String).join(', ')})`;
  if (p.allowedValue !== undefined) return ` (${JSON.stringify(p.allowedValue)})`;
  return '';
}
