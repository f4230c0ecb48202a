import Ajv, { type ValidateFunction } from 'ajv';
import { schemaErrorProblems } from '../../policy-pack/supply-chain/schema-errors';
import { AnalyzerError } from './errors';
import type { AnalyzerInfo, EnforcementLevel, PackConfig } from './types';

/** One policy's effective config as the engine sends it in ConfigureAnalyzerRequest. */
export interface ReconciledPolicyConfig {
  enforcementLevel: EnforcementLevel;
  properties: Record<string, unknown>;
}

const LEVELS = new Set<string>(['advisory', 'mandatory', 'disabled', 'remediate']);

type Layer = Record<string, { enforcementLevel?: EnforcementLevel; properties?: Record<string, unknown> }>;

/**
 * What the Pulumi engine does before Configure (pkg/resource/analyzer ReconcilePolicyPackConfig): start
 * from each policy's declared level and its schema's top-level defaults, apply the pack's initial config,
 * then the user's config, each layer as the engine applies it (its `all` level first, over every policy,
 * then each policy's own level and properties merged over what is there), and validate every policy that
 * has a config schema against it. So the user's `all` overrides a level the pack's initial config set, as
 * in a real run.
 *
 * Stricter than the engine, on purpose: a policy name the pack does not have, a key a policy's schema does
 * not declare, and properties for a policy that takes none, are refused here (Pulumi passes them on and @pulumi/policy ignores them), because in a
 * security pack a misspelt policy name must not silently leave that policy at its default. Everything
 * refused comes back at once as INVALID_CONFIG, so "invalid config is reported at Configure" holds.
 */
export function reconcileConfig(
  info: AnalyzerInfo,
  config: PackConfig,
): Record<string, ReconciledPolicyConfig> {
  const problems: string[] = [];
  const known = new Set(info.policies.map((p) => p.name));
  for (const name of Object.keys(config)) {
    if (config[name] === undefined) continue;
    if (name !== 'all' && !known.has(name)) problems.push(`${name}: no such policy in pack ${info.name}`);
  }
  const result: Record<string, ReconciledPolicyConfig> = {};
  for (const policy of info.policies) {
    const properties: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
      if (schema && typeof schema === 'object' && 'default' in schema) {
        properties[key] = structuredClone((schema as { default: unknown }).default);
      }
    }
    result[policy.name] = { enforcementLevel: policy.enforcementLevel, properties };
  }
  applyLayer(result, info.initialConfig);
  applyLayer(result, userLayer(config, problems));
  for (const policy of info.policies) {
    const { properties } = result[policy.name] as ReconciledPolicyConfig;
    if (policy.configSchema) {
      const validate = validatorFor(policy.configSchema);
      if (!validate(properties)) {
        for (const p of schemaErrorProblems(validate.errors))
          problems.push(`${policy.name}${p.instancePath}: ${p.message}`);
      }
    } else if (Object.keys(properties).length > 0) {
      problems.push(`${policy.name}: the policy takes no config properties`);
    }
  }
  if (problems.length > 0) {
    throw new AnalyzerError('INVALID_CONFIG', `policy pack config is invalid:\n  ${problems.join('\n  ')}`, {
      problems,
    });
  }
  return result;
}

/** The user's config as the engine parses it: a level string, or an object whose enforcementLevel is lifted out. */
function userLayer(config: PackConfig, problems: string[]): Layer {
  const layer: Layer = {};
  for (const [name, entry] of Object.entries(config)) {
    if (entry === undefined) continue;
    if (typeof entry === 'string') {
      const level = levelOf(entry, name, problems);
      if (level) layer[name] = { enforcementLevel: level };
    } else if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
      const { enforcementLevel, ...rest } = entry;
      const level = levelOf(enforcementLevel, name, problems);
      layer[name] = { ...(level ? { enforcementLevel: level } : {}), properties: rest };
    } else {
      problems.push(`${name}: must be an enforcement level or an object, found ${JSON.stringify(entry)}`);
    }
  }
  return layer;
}

/** One layer over the result, in the engine's order: `all` first, then each known policy's own entry. */
function applyLayer(result: Record<string, ReconciledPolicyConfig>, layer: Layer): void {
  const all = layer['all']?.enforcementLevel;
  if (all) for (const r of Object.values(result)) r.enforcementLevel = all;
  for (const [name, entry] of Object.entries(layer)) {
    const r = result[name];
    if (!r) continue; // `all`, or a name the pack lacks (refused above)
    if (entry.enforcementLevel) r.enforcementLevel = entry.enforcementLevel;
    Object.assign(r.properties, entry.properties ?? {});
  }
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
/** Compiled once per schema object (one per session): compiling the trust policy schema costs seconds. */
const validators = new WeakMap<object, ValidateFunction>();
function validatorFor(schema: { properties: Record<string, unknown>; required: string[] }): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    // Unknown keys are refused (with their path): a misspelt `trustPolicy` must not leave the policy
    // without a trust policy. Stricter than the engine, whose wire schema has no additionalProperties.
    v = ajv.compile({
      type: 'object',
      properties: schema.properties,
      required: schema.required,
      additionalProperties: false,
    });
    validators.set(schema, v);
  }
  return v;
}

function levelOf(value: unknown, where: string, problems: string[]): EnforcementLevel | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && LEVELS.has(value)) return value as EnforcementLevel;
  problems.push(
    `${where}: enforcementLevel must be one of ${[...LEVELS].join(', ')}, found ${JSON.stringify(value)}`,
  );
  return undefined;
}
