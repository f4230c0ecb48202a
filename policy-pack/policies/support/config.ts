import Ajv, { type ValidateFunction } from 'ajv';
import type { PolicyConfigSchema } from '@pulumi/policy';

/**
 * Reads a policy's config the way it was declared. The engine validates config against the schemas at
 * Configure; this repeats it inside the pack (defaults applied, limits checked) because a pack must not
 * trust its caller: an invalid config reaching a policy becomes a violation, never a crash or a silently
 * weaker check.
 */
export type ConfigResult<T> = { ok: true; config: T } | { ok: false; problems: string[] };

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
const compiled = new WeakMap<PolicyConfigSchema, ValidateFunction>();

export function readConfig<T>(schema: PolicyConfigSchema, raw: unknown): ConfigResult<T> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile({
      type: 'object',
      properties: schema.properties,
      required: schema.required ?? [],
    });
    compiled.set(schema, validate);
  }
  // Defaults are written into the copy, never into what @pulumi/policy holds.
  const copy: unknown = structuredClone(raw ?? {});
  if (validate(copy)) return { ok: true, config: copy as T };
  return {
    ok: false,
    problems: (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`),
  };
}

/** JSON-schema fragment for an enforcement-level-like setting of one diagnostic. */
export const LEVEL_SCHEMA: { type: 'string'; enum: string[] } = {
  type: 'string',
  enum: ['advisory', 'mandatory', 'disabled'],
};
