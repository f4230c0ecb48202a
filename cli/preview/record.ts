import * as pulumi from '@pulumi/pulumi';
import { PreviewError } from './errors';
import { UNKNOWN_VALUE, type RecordedResource } from './recorded-resource';
import { RecordingMonitor, type RecordingHooks } from './recording-monitor';

export interface RecordOptions {
  project: string;
  stack: string;
  /** Full configuration, `namespace:key` -> string (structured values as JSON), as the language host passes it. */
  config: Record<string, string>;
  secretKeys?: string[];
  /** The Pulumi program: what `main` of Pulumi.yaml would run. Its result becomes the stack outputs. */
  program: () => unknown;
  hooks?: RecordingHooks;
}

export interface ProgramRecording {
  project: string;
  stack: string;
  /** Every registration in program order, default providers where the engine would add them. */
  resources: RecordedResource[];
  /** Provider functions the program called; offline they answered nothing. */
  invokes: string[];
  /** Resources read rather than registered (StackReference, `get`); a real preview reads their state. */
  reads: { urn: string; type: string; id: string }[];
  /** How many input values were unknown (provider-computed) at preview time. */
  unknownValues: number;
}

// The Pulumi runtime keeps its settings in one process-wide store, so programs are recorded one at a time.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs a Pulumi program in this process against a recording engine: Pulumi's own runtime does the
 * registrations (inside the `pulumi:pulumi:Stack` root, as under the CLI), in preview mode, and the
 * monitor writes down what the engine would send an analyzer for each resource.
 */
export function recordProgram(options: RecordOptions): Promise<ProgramRecording> {
  const run = queue.then(() => recordNow(options));
  queue = run.catch(() => undefined);
  return run;
}

async function recordNow(options: RecordOptions): Promise<ProgramRecording> {
  const monitor = new RecordingMonitor(options.hooks ?? {}, options.project, options.stack, options.config);
  pulumi.runtime.setMockOptions(monitor, options.project, options.stack, true);
  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);

  // Failures inside asynchronous registrations surface as unhandled rejections, as they would
  // under the language host, which fails the update; collect them to fail the recording instead.
  const stray: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    stray.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  try {
    await pulumi.runtime.runInPulumiStack(async () => options.program());
    await waitForRegistrations();
  } catch (e) {
    throw new PreviewError('PROGRAM_FAILED', `the program of stack ${options.stack} failed: ${describe(e)}`, {
      cause: e,
    });
  } finally {
    process.off('unhandledRejection', onRejection);
    pulumi.runtime.setAllConfig({});
  }
  if (stray.length > 0) {
    throw new PreviewError(
      'PROGRAM_FAILED',
      `the program of stack ${options.stack} failed while registering resources: ${stray.map(describe).join('; ')}`,
      { cause: stray[0] },
    );
  }
  return {
    project: options.project,
    stack: options.stack,
    resources: monitor.recorded,
    invokes: monitor.invokes,
    reads: monitor.reads,
    unknownValues: monitor.recorded.reduce((n, r) => n + countUnknowns(r.properties), 0),
  };
}

/** Waits until every registration the program started has been answered (the language host does the same). */
async function waitForRegistrations(): Promise<void> {
  // `waitForRPCs` is marked internal in the SDK's typings but is what `runtime.disconnect` awaits.
  const settings = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}

function countUnknowns(value: unknown): number {
  if (value === UNKNOWN_VALUE) return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countUnknowns(v), 0);
  if (value !== null && typeof value === 'object') {
    return Object.values(value).reduce((n: number, v) => n + countUnknowns(v), 0);
  }
  return 0;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
