import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PreviewError } from './errors';

export interface StackSettings {
  projectDir: string;
  project: string;
  stack: string;
  /** The program's entry module (Pulumi.yaml `main`, default index.ts). */
  main: string;
  /** `namespace:key` -> string, structured values as JSON: what the language host hands the program. */
  config: Record<string, string>;
  /** Keys whose values are encrypted in the stack file: offline they stay unset. */
  encryptedKeys: string[];
}

/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml like the Pulumi CLI: project-level defaults first, the
 * stack's values over them, keys without a namespace in the project's namespace.
 */
export function loadStackSettings(projectDir: string, stack: string): StackSettings {
  const projectFile = path.join(projectDir, 'Pulumi.yaml');
  const project = readYamlObject(projectFile, 'STACK_CONFIG_INVALID');
  const name = project['name'];
  if (typeof name !== 'string' || !name) {
    throw new PreviewError('STACK_CONFIG_INVALID', `${projectFile} has no project name`);
  }
  const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(stackFile)) {
    throw new PreviewError('STACK_UNKNOWN', `stack ${stack} has no configuration file (${stackFile})`);
  }
  const qualify = (key: string): string => (key.includes(':') ? key : `${name}:${key}`);
  const config: Record<string, string> = {};
  const encryptedKeys: string[] = [];

  const projectConfig = project['config'];
  if (isObject(projectConfig)) {
    for (const [key, spec] of Object.entries(projectConfig)) {
      // Project config is `key: value` or `key: { default|value: ..., type, description }`.
      const value = isObject(spec) ? (spec['value'] ?? spec['default']) : spec;
      if (value !== undefined) config[qualify(key)] = asConfigString(value);
    }
  }
  const stackConfig = readYamlObject(stackFile, 'STACK_CONFIG_INVALID')['config'];
  if (stackConfig !== undefined && !isObject(stackConfig)) {
    throw new PreviewError('STACK_CONFIG_INVALID', `${stackFile}: config must be a mapping`);
  }
  for (const [key, value] of Object.entries(stackConfig ?? {})) {
    if (isObject(value) && typeof value['secure'] === 'string') {
      encryptedKeys.push(qualify(key));
      continue;
    }
    config[qualify(key)] = asConfigString(value);
  }
  const main = typeof project['main'] === 'string' ? project['main'] : 'index.ts';
  return { projectDir, project: name, stack, main: path.resolve(projectDir, main), config, encryptedKeys };
}

function readYamlObject(file: string, code: 'STACK_CONFIG_INVALID'): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PreviewError(code, `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  if (!isObject(parsed)) throw new PreviewError(code, `${file} is not a YAML mapping`);
  return parsed;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The language host passes strings; structured values travel as JSON (what `config.requireObject` parses). */
function asConfigString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
