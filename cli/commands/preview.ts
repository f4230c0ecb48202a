import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../exit-codes';
import { PreviewError } from '../preview/errors';
import { collect, outputFormat, outputOption, parseMirrors } from '../command-options';
import { renderPreviewText } from '../preview/render-text';
import { diagnosticCode, previewExitCode, type PreviewReport } from '../preview/report';
import type { CheckItem, CheckRun } from '../report/check-run';
import { githubAnnotations, inGitHubActions } from '../report/github-annotations';
import { renderJunit } from '../report/junit';
import { renderSarif } from '../report/sarif';
import { cliVersion } from '../version';
import { runPreview, type PreviewProgress } from '../preview/run-preview';

export const DEFAULT_PACK_DIR = path.resolve(__dirname, '..', '..', 'policy-pack');

export interface PreviewCommandOptions {
  stack: string;
  cwd: string;
  policyPack: string;
  policyConfig?: string;
  json?: boolean;
  output?: string;
  build: boolean;
  registryMirror?: string[];
  insecureRegistry?: string[];
  config?: string[];
  configFile?: string;
}

/** Progress on stderr, so stdout stays the report (or JSON). */
export function progressPrinter(
  err: NodeJS.WritableStream = process.stderr,
): (event: PreviewProgress) => void {
  return (event) => {
    switch (event.phase) {
      case 'build':
        err.write(`trustops: ${event.message}\n`);
        break;
      case 'record':
        err.write(`trustops: running the program of stack ${event.stack} under the recording engine\n`);
        break;
      case 'recorded':
        err.write(`trustops: ${event.resources} resources registered\n`);
        break;
      case 'start-pack':
        err.write(`trustops: starting the policy pack ${event.packDir}\n`);
        break;
      case 'analyze':
        err.write(
          `trustops: [${event.index}/${event.total}] ${event.resource.type} ${event.resource.name}\n`,
        );
        break;
      case 'analyze-stack':
        err.write('trustops: stack analysis\n');
        break;
    }
  };
}

/** `-c key=value` values; keys without a namespace get the project's, as in `pulumi preview -c`. */
function parseConfigValues(values: readonly string[] = []): Record<string, string> {
  const config: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config ${value}: expected KEY=VALUE`, 'BAD_CONFIG');
    config[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return config;
}

/** `--config-file FILE`: a JSON object of config key -> value (objects and arrays become structured config). */
function readConfigFile(file: string | undefined): Record<string, string> {
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(
      `--config-file ${file}: ${e instanceof Error ? e.message : String(e)}`,
      'BAD_CONFIG',
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--config-file ${file}: expected a JSON object of config keys`, 'BAD_CONFIG');
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

/** Runs the preview; usage/config problems become UsageError (exit 2). */
export async function previewReport(options: PreviewCommandOptions): Promise<PreviewReport> {
  try {
    return await runPreview({
      projectDir: path.resolve(options.cwd),
      stack: options.stack,
      packDir: path.resolve(options.policyPack),
      ...(options.policyConfig ? { policyConfig: path.resolve(options.policyConfig) } : {}),
      build: options.build,
      mirrors: parseMirrors(options.registryMirror),
      insecureRegistries: options.insecureRegistry ?? [],
      configOverrides: { ...readConfigFile(options.configFile), ...parseConfigValues(options.config) },
      progress: progressPrinter(),
    });
  } catch (e) {
    if (e instanceof PreviewError && e.code !== 'ANALYZER_FAILED') throw new UsageError(e.message, e.code);
    throw e;
  }
}

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('preview')
    .description(
      'Run a Pulumi program offline under a recording engine and send every resource, in order, to the ' +
        'policy pack over the analyzer protocol, then the stack analysis; report each violation with its ' +
        'reason and fix. Needs no cloud account and no Pulumi CLI.',
    )
    .option('-s, --stack <name>', 'the stack (Pulumi.<name>.yaml holds its config)', 'platform-example')
    .option('-C, --cwd <dir>', 'the Pulumi project folder (Pulumi.yaml)', '.')
    .option('--policy-pack <dir>', 'the policy pack folder', DEFAULT_PACK_DIR)
    .option(
      '--policy-config <file>',
      "the policy pack config; default: the stack's <project>:policyPackConfig",
    )
    .option(
      '-c, --config <key=value>',
      'a stack config value over Pulumi.<stack>.yaml (repeatable, like pulumi -c)',
      collect,
    )
    .option('--config-file <file>', 'stack config values from a JSON object (key -> value), under -c values')
    .addOption(outputOption())
    .option('--json', 'short for --output json (format in docs/cli.md)')
    .option('--no-build', 'fail instead of building the pack when policy-pack/dist is missing or stale')
    .option(
      '--registry-mirror <host=store>',
      'read images of HOST from a mirror: HOST=oci-layout:DIR or HOST=https://URL (repeatable)',
      collect,
    )
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry host (repeatable)', collect)
    .addHelpText(
      'after',
      '\nA resource whose workloads cannot be seen offline (a Helm chart, YAML, a kustomization) is UNCHECKED:\n' +
        'the preview is then incomplete and exits 3 unless a policy blocks (1).',
    )
    .action(async (opts: PreviewCommandOptions) => {
      const format = outputFormat(opts);
      const report = await previewReport(opts);
      const exitCode = previewExitCode(report);
      const out = (s: string): boolean => process.stdout.write(s);
      if (format === 'json') out(JSON.stringify(report, null, 2) + '\n');
      else if (format === 'sarif') out(renderSarif(previewCheckRun(report, exitCode), cliVersion()));
      else if (format === 'junit') out(renderJunit(previewCheckRun(report, exitCode)));
      else {
        out(renderPreviewText(report));
        if (inGitHubActions()) out(githubAnnotations(previewCheckRun(report, exitCode)));
      }
      setExit(exitCode);
    });
}

/** The report as format-neutral check results: one item per resource (SARIF, JUnit, annotations). */
export function previewCheckRun(report: PreviewReport, exitCode: number): CheckRun {
  const unchecked = new Map(report.unchecked.map((u) => [u.urn, u]));
  const items: CheckItem[] = report.resources.map((r) => {
    const findings = r.diagnostics.map((d) => {
      const code = diagnosticCode(d);
      const waived = code === 'EXEMPTION_IN_FORCE' ? /WAIVED \(([^)]*)\)/.exec(d.message)?.[1] : undefined;
      return {
        code,
        level: (d.enforcementLevel === 'mandatory'
          ? code === 'REGISTRY_ERROR'
            ? 'warning'
            : 'error'
          : waived
            ? 'note'
            : 'warning') as 'error' | 'warning' | 'note',
        message: `${d.policy}: ${d.message}`,
        ...(waived ? { waived } : {}),
      };
    });
    const u = unchecked.get(r.urn);
    if (u) findings.push({ code: 'WORKLOADS_UNCHECKED', level: 'warning', message: u.reason });
    const blocking = findings.filter((f) => f.level === 'error');
    const outcome: CheckItem['outcome'] =
      blocking.length > 0
        ? 'failed'
        : r.diagnostics.some((d) => d.enforcementLevel === 'mandatory')
          ? 'unverified'
          : u
            ? 'unchecked'
            : 'passed';
    return { name: r.name, id: r.urn, kind: 'resource', outcome, findings };
  });
  if (report.stackDiagnostics.length > 0) {
    items.push({
      name: report.stack,
      id: `stack ${report.stack}`,
      kind: 'resource',
      outcome: report.stackDiagnostics.some((d) => d.enforcementLevel === 'mandatory') ? 'failed' : 'passed',
      findings: report.stackDiagnostics.map((d) => ({
        code: diagnosticCode(d),
        level: d.enforcementLevel === 'mandatory' ? 'error' : 'warning',
        message: `${d.policy}: ${d.message}`,
      })),
    });
  }
  return { command: 'preview', artifact: report.stackFile, items, exitCode };
}
