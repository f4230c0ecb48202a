import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EXIT, UsageError } from './exit-codes';
import * as attestCommand from './commands/attest';
import * as demoCommand from './commands/demo';
import * as previewCommand from './commands/preview';
import * as deployCommand from './commands/deploy';
import * as kyvernoCommand from './commands/kyverno';
import * as verifyBundle from './commands/verify-bundle';
import * as verifyCommand from './commands/verify';

/**
 * Each command lives in cli/commands/<name>.ts and exports `register(program)`. A command's action
 * returns its exit code; usage and configuration errors exit 2 (DESIGN.md, "Interfaces").
 */
type Register = (program: Command, setExit: (code: number) => void) => void;
const COMMANDS: Register[] = [
  verifyCommand.register,
  verifyBundle.register,
  attestCommand.register,
  deployCommand.register,
  previewCommand.register,
  kyvernoCommand.register,
  demoCommand.register,
];

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('trustops')
    .description('Verify container images and Pulumi programs against one trust policy.')
    .version(version(), '-V, --version')
    .exitOverride()
    .showHelpAfterError();
  for (const register of COMMANDS) register(program, (c) => (exitCode = c));
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are successful exits; everything else commander raises is usage.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`trustops: ${e.message}\n`);
      return EXIT.USAGE;
    }
    process.stderr.write(
      `trustops: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return EXIT.USAGE;
  }
}
