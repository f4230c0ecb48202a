import Ajv, { type ValidateFunction } from 'ajv';
import { AnalyzerError } from './errors';
import type { AnalyzerInfo, EnforcementLevel, PackConfig, PolicyConfigEntry } from './types';

/** One policy's effective config as the engine sends it in ConfigureAnalyzerRequest. */
export interface ReconciledPolicyConfig {
  enforcementLevel: EnforcementLevel;
  properties: Record<string, unknown>;
}

const LEVELS = new Set<string>(['advisory', 'mandatory', 'disabled', 'remediate']);

/**
 * What the Pulumi engine does before Configure (plugin.ReconcilePolicyPackConfig and
 * ValidatePolicyPackConfig): start from each policy's declared level and schema defaults, apply the
 * pack's initial config, then the user's config, and validate every policy's properties against its
 * config schema. A config the engine would refuse is refused here with INVALID_CONFIG, naming every
 * problem, so "invalid config is reported at Configure" holds through the harness exactly as in a run.
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
  const allLevel = levelOf(config['all'], 'all', problems);
  const result: Record<string, ReconciledPolicyConfig> = {};
  for (const policy of info.policies) {
    const properties: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
      if (schema && typeof schema === 'object' && 'default' in schema) {
        properties[key] = structuredClone((schema as { default: unknown }).default);
      }
    }
    const initial = info.initialConfig[policy.name];
    Object.assign(properties, initial?.properties ?? {});
    let level: EnforcementLevel = initial?.enforcementLevel ?? allLevel ?? policy.enforcementLevel;
    const entry = config[policy.name] as PolicyConfigEntry | undefined;
    if (typeof entry === 'string') {
      level = levelOf(entry, policy.name, problems) ?? level;
    } else if (entry !== undefined) {
      const { enforcementLevel, ...rest } = entry;
      level = levelOf(enforcementLevel, policy.name, problems) ?? level;
      Object.assign(properties, rest);
    }
    if (policy.configSchema) {
      const validate = validatorFor(policy.configSchema);
      if (!validate(properties)) {
        for (const err of validate.errors ?? []) {
          problems.push(`${policy.name}${err.instancePath || ''}: ${err.message ?? 'invalid'}`);
        }
      }
    } else if (Object.keys(properties).length > 0) {
      problems.push(`${policy.name}: the policy takes no config properties`);
    }
    result[policy.name] = { enforcementLevel: level, properties };
  }
  if (problems.length > 0) {
    throw new AnalyzerError('INVALID_CONFIG', `policy pack config is invalid:\n  ${problems.join('\n  ')}`);
  }
  return result;
}

const ajv = new Ajv({ allErrors: true, strict: false });
/** Compiled once per schema object (one per session): compiling the trust policy schema costs seconds. */
const validators = new WeakMap<object, ValidateFunction>();
function validatorFor(schema: { properties: Record<string, unknown>; required: string[] }): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile({ type: 'object', properties: schema.properties, required: schema.required });
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
