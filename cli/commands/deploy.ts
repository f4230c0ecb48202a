import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { automationWorkspace } from '../deploy/automation-workspace';
import { DeployError } from '../deploy/errors';
import { imageInspectorFromPackConfig } from '../deploy/image-inspector';
import { deploy } from '../deploy/orchestrator';
import { packConfigWithRegistry } from '../deploy/pack-config';
import type { DeploymentRecord } from '../deploy/record';
import type { WorkspaceFactory } from '../deploy/workspace';
import { EXIT, UsageError, type ExitCode } from '../exit-codes';
import { EXAMPLE_STACKS } from '../../stacks/layers';
import { collect, parseMirrors } from '../command-options';
import { paint } from '../preview/colour';

export interface DeployCommandOptions {
  stack?: string[];
  cwd: string;
  policyPack?: string;
  policyConfig?: string;
  previewOnly?: boolean;
  record?: string;
  json?: boolean;
  registryMirror?: string[];
  insecureRegistry?: string[];
}

/** The command's body, with the workspace injectable (tests script the engine; users get the Pulumi CLI). */
export async function runDeploy(
  options: DeployCommandOptions,
  workspaceFactory: WorkspaceFactory = automationWorkspace,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const workDir = path.resolve(options.cwd);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const recordPath = path.resolve(
    options.record ?? path.join(workDir, '.trustops', 'deployments', `${stamp}.json`),
  );
  let record: DeploymentRecord;
  try {
    const packConfig = options.policyConfig
      ? packConfigWithRegistry(
          options.policyConfig,
          {
            mirrors: parseMirrors(options.registryMirror),
            insecureRegistries: options.insecureRegistry ?? [],
          },
          recordPath.replace(/(\.json)?$/, '.pack-config.json'),
        )
      : undefined;
    record = await deploy({
      stacks: (options.stack ?? []).length > 0 ? (options.stack as string[]) : [...EXAMPLE_STACKS],
      workDir,
      packDir: options.policyPack,
      packConfig,
      previewOnly: options.previewOnly === true,
      workspaceFactory,
      inspectImages:
        packConfig && options.policyPack
          ? imageInspectorFromPackConfig(packConfig, path.resolve(options.policyPack))
          : undefined,
      progress: (line) => process.stderr.write(`trustops deploy: ${line}\n`),
    });
  } catch (e) {
    if (e instanceof DeployError) throw new UsageError(e.message, e.code);
    throw e;
  }
  mkdirSync(path.dirname(recordPath), { recursive: true });
  writeFileSync(recordPath, JSON.stringify(record, null, 2) + '\n');
  if (options.json) {
    out.write(JSON.stringify(record, null, 2) + '\n');
  } else {
    for (const stack of record.stacks) {
      out.write(
        `${stack.name} (${stack.layer}): ${stack.status}${stack.error ? ` - ${stack.error.split('\n')[0]}` : ''}\n`,
      );
      for (const v of stack.violations) {
        out.write(
          `  ${v.enforcementLevel === 'mandatory' ? paint('red', 'mandatory') : paint('yellow', 'advisory')} ${v.policy}: ${v.message.split('\n')[0]}\n`,
        );
      }
    }
    out.write(`outcome: ${record.outcome}; record written to ${recordPath}\n`);
  }
  return deployExitCode(record);
}

/**
 * 0 every stack ran; 3 a stack was blocked only because a registry could not be read (the pack fails
 * closed with REGISTRY_ERROR: retry); 1 blocked by a policy, or a stack that failed.
 */
export function deployExitCode(record: DeploymentRecord): ExitCode {
  if (record.outcome === 'succeeded') return EXIT.OK;
  const mandatory = record.stacks
    .flatMap((s) => s.violations)
    .filter((v) => v.enforcementLevel === 'mandatory');
  if (
    record.outcome === 'blocked' &&
    mandatory.length > 0 &&
    mandatory.every((v) => /^\[REGISTRY_ERROR\]/.test(v.message))
  ) {
    return EXIT.UNVERIFIED;
  }
  return EXIT.BLOCKED;
}

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('deploy')
    .description(
      'Run the stacks in order (platform, then apps) through the Pulumi Automation API with the policy pack ' +
        'always attached: preview each stack, then update it; stop at the first mandatory violation or failure; ' +
        'write a deployment record (JSON). Needs the Pulumi CLI.',
    )
    .option(
      '-s, --stack <name>',
      'a stack to run (repeatable); default: platform-example and apps-example',
      collect,
    )
    .option('-C, --cwd <dir>', 'the Pulumi project folder (Pulumi.yaml)', '.')
    .option('--policy-pack <dir>', 'the policy pack folder (required; e.g. policy-pack)')
    .option('--policy-config <file>', 'the policy pack config, holding the trust policy (required)')
    .option('--preview-only', 'preview every stack under the pack and stop (CI gate)')
    .option(
      '--record <file>',
      'where to write the deployment record (default .trustops/deployments/<time>.json)',
    )
    .option('--json', 'print the deployment record as JSON on stdout')
    .option(
      '--registry-mirror <host=store>',
      'verify images of HOST from a mirror: HOST=oci-layout:DIR or HOST=https://URL (repeatable)',
      collect,
    )
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry host (repeatable)', collect)
    .addHelpText(
      'after',
      '\nA stack blocked by a mandatory policy, or one that failed, exits 1 (3 when only a registry could not be\n' +
        'read); no pack, no config or no Pulumi CLI exits 2. The record format is documented in docs/cli.md.',
    )
    .action(async (opts: DeployCommandOptions) => {
      setExit(await runDeploy(opts));
    });
}
