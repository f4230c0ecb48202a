import type { EngineEvent, OpMap } from '@pulumi/pulumi/automation';

/** What the orchestrator asks of one stack; the Automation API's `Stack` provides it (see automation-workspace.ts). */
export interface PolicyAttachedOptions {
  /** Folders of policy packs to run, as `--policy-pack`. Never empty: the orchestrator refuses that. */
  policyPacks: string[];
  /** Their config files, as `--policy-pack-config`. */
  policyPackConfigs: string[];
  onEvent: (event: EngineEvent) => void;
}

export interface StackRun {
  preview(options: PolicyAttachedOptions): Promise<{ changeSummary: OpMap }>;
  up(options: PolicyAttachedOptions): Promise<{ summary: { result: string; resourceChanges?: OpMap } }>;
}

/** Selects (or creates) a stack of the project by name. */
export interface DeployWorkspace {
  stack(name: string): Promise<StackRun>;
}

/** Injected so tests can script the engine where the Pulumi CLI would be needed. */
export type WorkspaceFactory = (options: { workDir: string }) => Promise<DeployWorkspace>;
