import type { EngineEvent } from '@pulumi/pulumi/automation';
import type {
  DeployWorkspace,
  PolicyAttachedOptions,
  StackRun,
  WorkspaceFactory,
} from '../../../cli/deploy/workspace';

/** What one stack's operation does in the script: emit these engine events, then succeed or throw. */
export interface ScriptedOperation {
  events?: Partial<EngineEvent>[];
  fail?: string;
  result?: string;
}

export interface ScriptedStack {
  preview?: ScriptedOperation;
  up?: ScriptedOperation;
}

export interface FakeCall {
  stack: string;
  operation: 'select' | 'preview' | 'up';
  policyPacks?: string[];
  policyPackConfigs?: string[];
}

/**
 * A scripted stand-in for the Automation API, used only where the Pulumi CLI would be needed: it
 * records every call (with the policy options it received) and plays back engine events.
 */
export function fakeWorkspace(script: Record<string, ScriptedStack>): {
  factory: WorkspaceFactory;
  calls: FakeCall[];
  workDirs: string[];
} {
  const calls: FakeCall[] = [];
  const workDirs: string[] = [];
  let sequence = 0;
  const play = async (
    stack: string,
    operation: 'preview' | 'up',
    step: ScriptedOperation | undefined,
    options: PolicyAttachedOptions,
  ): Promise<void> => {
    calls.push({
      stack,
      operation,
      policyPacks: options.policyPacks,
      policyPackConfigs: options.policyPackConfigs,
    });
    for (const event of step?.events ?? []) {
      options.onEvent({ sequence: sequence++, timestamp: 0, ...event } as EngineEvent);
    }
    if (step?.fail) throw new Error(step.fail);
  };
  const factory: WorkspaceFactory = async ({ workDir }) => {
    workDirs.push(workDir);
    const workspace: DeployWorkspace = {
      async stack(name: string): Promise<StackRun> {
        calls.push({ stack: name, operation: 'select' });
        const scripted = script[name] ?? {};
        return {
          async preview(options) {
            await play(name, 'preview', scripted.preview, options);
            return { changeSummary: { create: scripted.preview?.events?.length ?? 0 } };
          },
          async up(options) {
            await play(name, 'up', scripted.up, options);
            return {
              summary: {
                result: scripted.up?.result ?? 'succeeded',
                resourceChanges: { create: scripted.up?.events?.length ?? 0 },
              },
            };
          },
        };
      },
    };
    return workspace;
  };
  return { factory, calls, workDirs };
}

/** An engine event for a resource the engine is about to create. */
export function createStep(
  urn: string,
  type: string,
  inputs: Record<string, unknown> = {},
): Partial<EngineEvent> {
  return {
    resourcePreEvent: {
      metadata: {
        op: 'create',
        urn,
        type,
        provider: '',
        new: { type, urn, id: '', parent: '', inputs, outputs: {}, provider: '' },
      },
    },
  } as Partial<EngineEvent>;
}

/** An engine event for a policy diagnostic. */
export function policyViolation(
  urn: string,
  policyName: string,
  enforcementLevel: 'mandatory' | 'warning',
  message: string,
): Partial<EngineEvent> {
  return {
    policyEvent: {
      resourceUrn: urn,
      message,
      color: 'never',
      policyName,
      policyPackName: 'trustops',
      policyPackVersion: '0.1.0',
      policyPackVersionTag: '0.1.0',
      enforcementLevel,
    },
  };
}
