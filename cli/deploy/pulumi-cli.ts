import { accessSync, constants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeployError } from './errors';

export const PULUMI_INSTALL_HINT =
  'install it with `curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi/tap/pulumi`, ' +
  'see https://www.pulumi.com/docs/install/), then make sure `pulumi` is on PATH';

/**
 * Finds the `pulumi` executable the Automation API will run: on PATH, or where the official
 * installer puts it (~/.pulumi/bin). Throws PULUMI_CLI_MISSING with how to install it.
 */
export function findPulumiCli(env: NodeJS.ProcessEnv = process.env): string {
  const dirs = (env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
  dirs.push(path.join(env['PULUMI_HOME'] ?? path.join(env['HOME'] ?? os.homedir(), '.pulumi'), 'bin'));
  for (const dir of dirs) {
    const candidate = path.join(dir, process.platform === 'win32' ? 'pulumi.exe' : 'pulumi');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  throw new DeployError(
    'PULUMI_CLI_MISSING',
    `deploy drives the Pulumi CLI through the Automation API, and no \`pulumi\` executable was found; ${PULUMI_INSTALL_HINT}. ` +
      '`trustops preview` needs no Pulumi CLI.',
  );
}
