import * as path from 'node:path';
import { LocalWorkspace, PulumiCommand } from '@pulumi/pulumi/automation';
import { findPulumiCli } from './pulumi-cli';
import type { DeployWorkspace, StackRun, WorkspaceFactory } from './workspace';

/** The real workspace: the project at `workDir` (its Pulumi.yaml), driven by the Pulumi CLI. */
export const automationWorkspace: WorkspaceFactory = async ({ workDir }): Promise<DeployWorkspace> => {
  const cli = findPulumiCli();
  const pulumiCommand = await PulumiCommand.get({
    root: path.dirname(path.dirname(cli)),
    skipVersionCheck: false,
  });
  return {
    async stack(name: string): Promise<StackRun> {
      const stack = await LocalWorkspace.createOrSelectStack({ stackName: name, workDir }, { pulumiCommand });
      return {
        preview: (options) => stack.preview(options),
        up: (options) => stack.up(options),
      };
    },
  };
};
