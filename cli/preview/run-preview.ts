import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startAnalyzer, type AnalyzerSession } from '../analyzer';
import type { Diagnostic, PackConfig, PolicyConfigEntry } from '../analyzer/types';
import { scanWorkload } from '../../policy-pack/workloads';
import { PreviewError } from './errors';
import { ensurePackBuilt } from './pack-build';
import { programFromMain } from './program';
import { recordProgram } from './record';
import { toResourceInput } from './resource-input';
import type { RecordedResource } from './recorded-resource';
import type { PreviewReport, ReportedDiagnostic, ReportedResource } from './report';
import { loadStackSettings } from './stack-config';
import { uncheckedResources } from './unchecked';

export type PreviewProgress =
  | { phase: 'build'; message: string }
  | { phase: 'record'; stack: string }
  | { phase: 'recorded'; resources: number }
  | { phase: 'start-pack'; packDir: string }
  | { phase: 'analyze'; index: number; total: number; resource: RecordedResource }
  | { phase: 'analyze-stack' };

export interface PreviewOptions {
  /** The Pulumi project (Pulumi.yaml, Pulumi.<stack>.yaml). */
  projectDir: string;
  stack: string;
  /** The policy pack folder (built to dist/). */
  packDir: string;
  /** The pack config file; default the stack's `<project>:policyPackConfig` setting. */
  policyConfig?: string;
  /** Build the pack when dist/ is missing or stale (else fail with PACK_NOT_BUILT). */
  build: boolean;
  /** Added to every image-verifying policy's `registry` settings. */
  mirrors?: Record<string, string>;
  insecureRegistries?: string[];
  /** Config values over the stack file's (`namespace:key` -> string; no namespace = the project's). */
  configOverrides?: Record<string, string>;
  progress?: (event: PreviewProgress) => void;
}

/**
 * `trustops preview`: records the program under the recording engine, then hands every resource, in
 * registration order, to the real pack over the analyzer protocol, then the whole stack, and builds
 * the report. Nothing here needs a cloud account or the Pulumi CLI.
 */
export async function runPreview(options: PreviewOptions): Promise<PreviewReport> {
  const progress = options.progress ?? (() => undefined);
  const settings = loadStackSettings(options.projectDir, options.stack);
  const config = { ...settings.config };
  for (const [key, value] of Object.entries(options.configOverrides ?? {})) {
    config[key.includes(':') ? key : `${settings.project}:${key}`] = value;
  }
  const configFile = policyConfigFile(options, config, settings.project);
  const packConfig = readPackConfig(configFile);

  ensurePackBuilt(options.packDir, {
    build: options.build,
    log: (message) => progress({ phase: 'build', message }),
  });

  progress({ phase: 'record', stack: options.stack });
  const recording = await recordProgram({
    project: settings.project,
    stack: options.stack,
    config,
    program: programFromMain(settings.main),
  });
  progress({ phase: 'recorded', resources: recording.resources.length });

  progress({ phase: 'start-pack', packDir: options.packDir });
  let analyzer: AnalyzerSession;
  try {
    analyzer = await startAnalyzer({
      packDir: options.packDir,
      stack: { project: settings.project, stack: options.stack, dryRun: true },
    });
  } catch (e) {
    throw new PreviewError('ANALYZER_FAILED', `the policy pack did not start: ${messageOf(e)}`, { cause: e });
  }
  try {
    await analyzer.configure(withRegistryForPolicies(packConfig, analyzer, options)).catch((e: unknown) => {
      throw new PreviewError('POLICY_CONFIG_INVALID', `${configFile}: ${messageOf(e)}`, { cause: e });
    });
    const inputs = recording.resources.map(toResourceInput);
    const reported: ReportedResource[] = recording.resources.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      images: knownImages(r),
      diagnostics: [],
    }));
    const byUrn = new Map(reported.map((r) => [r.urn, r]));
    for (const [index, resource] of recording.resources.entries()) {
      progress({ phase: 'analyze', index: index + 1, total: recording.resources.length, resource });
      const result = await analyzer.analyze(inputs[index]!);
      for (const d of result.diagnostics) reported[index]!.diagnostics.push(reportedDiagnostic(d));
    }
    progress({ phase: 'analyze-stack' });
    const stackResult = await analyzer.analyzeStack(inputs);
    const stackDiagnostics: ReportedDiagnostic[] = [];
    for (const d of stackResult.diagnostics) {
      const target = d.urn ? byUrn.get(d.urn) : undefined;
      (target ? target.diagnostics : stackDiagnostics).push(reportedDiagnostic(d));
    }
    const all = [...reported.flatMap((r) => r.diagnostics), ...stackDiagnostics];
    const unchecked = uncheckedResources(recording.resources, options.projectDir);
    return {
      apiVersion: 'trustops.dev/v1alpha1',
      kind: 'PreviewReport',
      project: settings.project,
      stack: options.stack,
      pack: { name: analyzer.info.name, version: analyzer.info.version, config: configFile },
      stackFile: path.join(options.projectDir, `Pulumi.${options.stack}.yaml`),
      resources: reported,
      stackDiagnostics,
      unchecked,
      summary: {
        resources: reported.length,
        blockedResources: reported.filter((r) =>
          r.diagnostics.some((d) => d.enforcementLevel === 'mandatory'),
        ).length,
        mandatory: all.filter((d) => d.enforcementLevel === 'mandatory').length,
        advisory: all.filter((d) => d.enforcementLevel === 'advisory').length,
        unchecked: unchecked.length,
        complete: unchecked.length === 0,
      },
      offline: {
        unknownValues: recording.unknownValues,
        providerCalls: [...new Set(recording.invokes)],
        reads: recording.reads.map((r) => r.urn),
        encryptedConfig: settings.encryptedKeys,
      },
    };
  } finally {
    await analyzer.close();
  }
}

function policyConfigFile(options: PreviewOptions, config: Record<string, string>, project: string): string {
  const fromStack = config[`${project}:policyPackConfig`];
  const file = options.policyConfig ?? (fromStack ? path.resolve(options.projectDir, fromStack) : undefined);
  if (!file) {
    throw new PreviewError(
      'POLICY_CONFIG_INVALID',
      `no policy pack config: pass --policy-config FILE or set ${project}:policyPackConfig in Pulumi.${options.stack}.yaml`,
    );
  }
  return path.resolve(file);
}

function readPackConfig(file: string): PackConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PreviewError(
      'POLICY_CONFIG_INVALID',
      `cannot read the policy pack config ${file}: ${messageOf(e)}`,
      {
        cause: e,
      },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PreviewError('POLICY_CONFIG_INVALID', `${file} must hold a JSON object keyed by policy name`);
  }
  return parsed as PackConfig;
}

/** `--registry-mirror` and `--insecure-registry` reach every policy that verifies images (its schema has `registry`). */
function withRegistryForPolicies(
  config: PackConfig,
  analyzer: AnalyzerSession,
  options: PreviewOptions,
): PackConfig {
  const mirrors = options.mirrors ?? {};
  const insecure = options.insecureRegistries ?? [];
  if (Object.keys(mirrors).length === 0 && insecure.length === 0) return config;
  const result: PackConfig = { ...config };
  for (const policy of analyzer.info.policies) {
    if (!policy.configSchema?.properties['registry']) continue;
    const entry: PolicyConfigEntry | undefined = result[policy.name];
    const object = typeof entry === 'string' ? { enforcementLevel: entry } : { ...(entry ?? {}) };
    const registry = (object['registry'] ?? {}) as {
      mirrors?: Record<string, string>;
      insecureRegistries?: string[];
    };
    object['registry'] = {
      ...registry,
      mirrors: { ...registry.mirrors, ...mirrors },
      insecureRegistries: [...(registry.insecureRegistries ?? []), ...insecure],
    };
    result[policy.name] = object;
  }
  return result;
}

function knownImages(r: RecordedResource): string[] {
  const images: string[] = [];
  for (const site of scanWorkload(r.type, r.properties)?.images ?? []) {
    if (site.image.state === 'known' && !images.includes(site.image.reference))
      images.push(site.image.reference);
  }
  return images;
}

function reportedDiagnostic(d: Diagnostic): ReportedDiagnostic {
  return {
    policy: d.policyName,
    enforcementLevel: d.enforcementLevel,
    severity: d.severity,
    message: d.message,
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
