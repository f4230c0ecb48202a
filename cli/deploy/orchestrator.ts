import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineEvent } from '@pulumi/pulumi/automation';
import { LAYERS, layerOf } from '../../stacks/layers';
import { packBuildState } from '../preview/pack-build';
import { DeployError } from './errors';
import type { DeploymentRecord, RecordedImage, RecordedViolation, StackRecord } from './record';
import type { PolicyAttachedOptions, WorkspaceFactory } from './workspace';

/** A resource the engine stepped through, with the inputs it planned (where images are found). */
export interface SteppedResource {
  urn: string;
  type: string;
  op: string;
  inputs: Record<string, unknown>;
}

export interface DeployOptions {
  /** Stack names; they run platform layer first, then apps, whatever the order given. */
  stacks: string[];
  /** The Pulumi project folder (Pulumi.yaml). */
  workDir: string;
  /** The policy pack folder. Required: the orchestrator refuses to run without it. */
  packDir?: string;
  /** The pack's config file (trust policy under `trusted-images.trustPolicy`). Required. */
  packConfig?: string;
  /** Preview every stack under the pack and stop: the CI gate. */
  previewOnly: boolean;
  workspaceFactory: WorkspaceFactory;
  /** Verdicts for the images the stack's resources deploy (the same trust policy the pack enforces). */
  inspectImages?: (resources: SteppedResource[]) => Promise<RecordedImage[]>;
  progress?: (line: string) => void;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the stacks in layer order through the Automation API with the pack always attached:
 * preview, then (unless preview-only) update, stack by stack, stopping at the first mandatory
 * violation or failure. Returns the deployment record; refusals throw DeployError before anything runs.
 */
export async function deploy(options: DeployOptions): Promise<DeploymentRecord> {
  const now = options.now ?? (() => new Date());
  const progress = options.progress ?? (() => undefined);
  const pack = attachedPack(options.packDir, options.packConfig);
  const ordered = orderStacks(options.stacks);
  const startedAt = now().toISOString();
  const workspace = await options.workspaceFactory({ workDir: options.workDir });

  const stacks: StackRecord[] = [];
  let outcome: DeploymentRecord['outcome'] = 'succeeded';
  for (const { name, layer } of ordered) {
    if (outcome !== 'succeeded') {
      stacks.push(emptyStackRecord(name, layer, 'skipped', `not run: an earlier stack was ${outcome}`));
      continue;
    }
    const record = emptyStackRecord(name, layer, 'previewed');
    stacks.push(record);
    const steps = new Map<string, SteppedResource>();
    const attach = (): PolicyAttachedOptions => ({
      policyPacks: [pack.dir],
      policyPackConfigs: [pack.config],
      onEvent: (event) => collect(event, steps, record.violations),
    });
    try {
      const run = await workspace.stack(name);
      progress(`${name}: preview with policy pack ${pack.name}@${pack.version}`);
      const preview = await run.preview(attach());
      record.changes = { ...preview.changeSummary };
      if (!blocked(record)) {
        record.images = options.inspectImages ? await options.inspectImages([...steps.values()]) : [];
      }
      if (!blocked(record) && !options.previewOnly) {
        progress(`${name}: update with policy pack ${pack.name}@${pack.version}`);
        steps.clear();
        const up = await run.up(attach());
        record.changes = { ...(up.summary.resourceChanges ?? {}) };
        if (up.summary.result !== 'succeeded') throw new Error(`the update ended ${up.summary.result}`);
        record.status = 'deployed';
      }
    } catch (e) {
      record.error = e instanceof Error ? e.message : String(e);
      record.status = 'failed';
    }
    record.resources = [...steps.values()].map(({ urn, type, op }) => ({ urn, type, op }));
    if (blocked(record)) record.status = 'blocked';
    if (record.status === 'blocked' || record.status === 'failed') outcome = record.status;
    progress(`${name}: ${record.status}${record.error ? ` (${record.error.split('\n')[0]})` : ''}`);
  }

  const env = options.env ?? process.env;
  return {
    apiVersion: 'trustops.dev/v1alpha1',
    kind: 'DeploymentRecord',
    mode: options.previewOnly ? 'preview-only' : 'deploy',
    outcome,
    startedAt,
    finishedAt: now().toISOString(),
    who: {
      user: os.userInfo().username,
      host: os.hostname(),
      ...(env['GITHUB_ACTOR'] ? { ciActor: env['GITHUB_ACTOR'] } : {}),
    },
    pack,
    stacks,
  };
}

function blocked(record: StackRecord): boolean {
  return record.violations.some((v) => v.enforcementLevel === 'mandatory');
}

function collect(
  event: EngineEvent,
  steps: Map<string, SteppedResource>,
  violations: RecordedViolation[],
): void {
  const step = event.resourcePreEvent?.metadata;
  if (step) {
    steps.set(step.urn, {
      urn: step.urn,
      type: step.type,
      op: step.op,
      inputs: (step.new?.inputs ?? step.old?.inputs ?? {}) as Record<string, unknown>,
    });
  }
  const policy = event.policyEvent;
  if (policy) {
    const violation: RecordedViolation = {
      policyPack: policy.policyPackName,
      policy: policy.policyName,
      enforcementLevel: policy.enforcementLevel,
      message: policy.message,
      ...(policy.resourceUrn ? { urn: policy.resourceUrn } : {}),
    };
    // Preview and update report the same diagnostics; keep each once.
    const key = JSON.stringify(violation);
    if (!violations.some((v) => JSON.stringify(v) === key)) violations.push(violation);
  }
}

function emptyStackRecord(
  name: string,
  layer: string,
  status: StackRecord['status'],
  error?: string,
): StackRecord {
  return {
    name,
    layer,
    status,
    resources: [],
    changes: {},
    violations: [],
    images: [],
    ...(error ? { error } : {}),
  };
}

/** Platform before apps, keeping the given order within a layer. */
export function orderStacks(stacks: string[]): { name: string; layer: string }[] {
  if (stacks.length === 0) throw new DeployError('STACK_UNKNOWN', 'no stack to deploy');
  const withLayers = stacks.map((name) => {
    const layer = layerOf(name);
    if (!layer) {
      throw new DeployError(
        'STACK_UNKNOWN',
        `stack ${name} belongs to no layer: its name must start with ${LAYERS.map((l) => `"${l}-"`).join(' or ')}`,
      );
    }
    return { name, layer };
  });
  return withLayers
    .map((s, index) => ({ ...s, index }))
    .sort((a, b) => LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer) || a.index - b.index)
    .map(({ name, layer }) => ({ name, layer }));
}

/** Refuses to go on without a built pack and a readable config: nothing is deployed unchecked. */
function attachedPack(packDir: string | undefined, packConfig: string | undefined): DeploymentRecord['pack'] {
  if (!packDir) {
    throw new DeployError(
      'PACK_REQUIRED',
      'deploy refuses to run without a policy pack: pass --policy-pack DIR',
    );
  }
  if (!packConfig) {
    throw new DeployError(
      'PACK_CONFIG_REQUIRED',
      'deploy refuses to run without the policy pack config (the trust policy): pass --policy-config FILE',
    );
  }
  const dir = path.resolve(packDir);
  const manifest = path.join(dir, 'package.json');
  if (!existsSync(path.join(dir, 'PulumiPolicy.yaml')) || !existsSync(manifest)) {
    throw new DeployError(
      'PACK_REQUIRED',
      `${dir} is not a policy pack (no PulumiPolicy.yaml and package.json)`,
    );
  }
  if (packBuildState(dir) !== 'fresh') {
    throw new DeployError(
      'PACK_NOT_BUILT',
      `the policy pack in ${dir} is not built or is stale: run \`npm run build\``,
    );
  }
  const config = path.resolve(packConfig);
  let configBytes: Buffer;
  try {
    configBytes = readFileSync(config);
    JSON.parse(configBytes.toString('utf8'));
  } catch (e) {
    throw new DeployError(
      'PACK_CONFIG_REQUIRED',
      `cannot use ${config} as the policy pack config: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
  return {
    name: pkg.name ?? path.basename(dir),
    version: pkg.version ?? 'unknown',
    dir,
    config,
    configSha256: createHash('sha256').update(configBytes).digest('hex'),
  };
}
