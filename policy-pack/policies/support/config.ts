import type { ErrorObject, ValidateFunction } from 'ajv';
import type { PolicyConfigSchema } from '@pulumi/policy';
import { schemaErrorProblems } from '../../supply-chain/schema-errors';

/**
 * Reads a policy's config the way it was declared. The engine validates config against the schemas at
 * Configure; this repeats it inside the pack (defaults applied, limits checked) because a pack must not
 * trust its caller: an invalid config reaching a policy becomes a violation, never a crash or a silently
 * weaker check.
 */
export type ConfigResult<T> = { ok: true; config: T } | { ok: false; problems: string[] };

// Loaded on first use, not at pack start: GetAnalyzerInfo does not need it (cold start).
let ajv: import('ajv').default | undefined;
function validator(): import('ajv').default {
  if (!ajv) {
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
  }
  return ajv;
}
const compiled = new WeakMap<PolicyConfigSchema, ValidateFunction>();
/** Last results per schema by config text: a run reads the same config for every resource. */
const recent = new WeakMap<PolicyConfigSchema, Map<string, ConfigResult<unknown>>>();
const RECENT_PER_SCHEMA = 8;
const lastRead = new WeakMap<PolicyConfigSchema, { raw: unknown; result: ConfigResult<unknown> }>();

/**
 * The result is shared between calls with equal config (callers must not mutate it); sharing also keeps
 * object identity stable, which lets verification sessions be found without re-hashing the trust policy.
 */
export function readConfig<T>(schema: PolicyConfigSchema, raw: unknown): ConfigResult<T> {
  // @pulumi/policy's getConfig returns a fresh top-level object whose values are the same objects every
  // call: a shallow identity match with the previous call skips serialising the trust policy again.
  const previous = lastRead.get(schema);
  if (previous && shallowSame(previous.raw, raw)) return previous.result as ConfigResult<T>;
  const result = readConfigByText<T>(schema, raw);
  lastRead.set(schema, { raw, result });
  return result;
}

function shallowSame(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    // Values by identity: Configure replaces the stored objects, so a new config never matches.
    if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  }
  return true;
}

function readConfigByText<T>(schema: PolicyConfigSchema, raw: unknown): ConfigResult<T> {
  const key = JSON.stringify(raw ?? {});
  let cache = recent.get(schema);
  if (!cache) recent.set(schema, (cache = new Map()));
  const hit = cache.get(key);
  if (hit) return hit as ConfigResult<T>;
  const result = validateConfig<T>(schema, raw);
  if (cache.size >= RECENT_PER_SCHEMA) cache.delete(cache.keys().next().value as string);
  cache.set(key, result);
  return result;
}

function validateConfig<T>(schema: PolicyConfigSchema, raw: unknown): ConfigResult<T> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = validator().compile({
      type: 'object',
      // enforcementLevel is every entry's own key (the engine lifts it out; a caller may leave it in)
      properties: { enforcementLevel: {}, ...schema.properties },
      required: schema.required ?? [],
      // The engine's wire schema cannot say this (properties and required only): a misspelt key would
      // otherwise be ignored and its setting silently left at the default.
      additionalProperties: false,
    });
    compiled.set(schema, validate);
  }
  // Defaults are written into the copy, never into what @pulumi/policy holds.
  const copy: unknown = structuredClone(raw ?? {});
  if (validate(copy)) return { ok: true, config: copy as T };
  return {
    ok: false,
    problems: configProblems(validate.errors, Object.keys(schema.properties)),
  };
}

/**
 * `/path: message`, one per problem (an anyOf/oneOf as one message naming its alternatives); an unknown
 * key is named by its own path, and at the top with the keys the policy knows.
 */
export function configProblems(errors: ErrorObject[] | null | undefined, topLevelKeys: string[]): string[] {
  return schemaErrorProblems(errors).map((p) => {
    const topLevelUnknown = p.message === 'unknown key' && p.instancePath.lastIndexOf('/') === 0;
    return `${p.instancePath || '/'}: ${p.message}${topLevelUnknown ? ` (known keys: ${topLevelKeys.join(', ')})` : ''}`;
  });
}

/** JSON-schema fragment for an enforcement-level-like setting of one diagnostic. */
export const LEVEL_SCHEMA: { type: 'string'; enum: string[] } = {
  type: 'string',
  enum: ['advisory', 'mandatory', 'disabled'],
};
