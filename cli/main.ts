import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_HELP, UnverifiedError, UsageError } from './exit-codes';
import * as attestCommand from './commands/attest';
import * as demoCommand from './commands/demo';
import * as explainCommand from './commands/explain';
import * as previewCommand from './commands/preview';
import * as deployCommand from './commands/deploy';
import * as kyvernoCommand from './commands/kyverno';
import * as packConfigCommand from './commands/pack-config';
import * as policyCommand from './commands/policy';
import * as verifyBundle from './commands/verify-bundle';
import * as verifyCommand from './commands/verify';
import { cliVersion } from './version';

/**
 * Each command lives in cli/commands/<name>.ts and exports `register(program, setExit)`. A command's
 * action sets its exit code (cli/exit-codes.ts: one table for every command); usage and configuration
 * errors throw UsageError (exit 2), verification that could not run throws UnverifiedError (exit 3),
 * anything else is an internal error (exit 4).
 */
type Register = (program: Command, setExit: (code: number) => void) => void;
const COMMANDS: Register[] = [
  verifyCommand.register,
  verifyBundle.register,
  attestCommand.register,
  policyCommand.register,
  packConfigCommand.register,
  explainCommand.register,
  deployCommand.register,
  previewCommand.register,
  kyvernoCommand.register,
  demoCommand.register,
];

/**
 * Usage errors are one line and a pointer to `--help` (no help dump), with commander's suggestion for a
 * mistyped command or option; every command's help ends with the shared exit-code table.
 */
function configureCommands(command: Command, names: string[]): void {
  const full = ['trustops', ...names].join(' ');
  command.showHelpAfterError(`Run '${full} --help' for usage.`).showSuggestionAfterError(true).exitOverride();
  if (names.length > 0 && command.commands.length === 0) command.addHelpText('after', EXIT_HELP);
  // Commander checks required options before unknown ones, so `--polcy x` would read "required option
  // --policy not specified" with no suggestion; check them after it instead (preAction runs after the
  // unknown-option check), with the same wording.
  const required = command.options.filter((o) => o.mandatory);
  for (const o of required) {
    o.mandatory = false;
    o.description = `${o.description} (required)`;
  }
  if (required.length > 0) {
    command.hook('preAction', (_this, action) => {
      for (const o of required) {
        if (action.getOptionValue(o.attributeName()) === undefined) {
          action.error(`error: required option '${o.flags}' not specified`, {
            code: 'commander.missingMandatoryOptionValue',
          });
        }
      }
    });
  }
  for (const sub of command.commands) configureCommands(sub, [...names, sub.name()]);
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.OK;
  const program = new Command('trustops')
    .description('Verify container images and Pulumi programs against one trust policy.')
    .version(cliVersion(), '-V, --version')
    .addHelpText('after', EXIT_HELP);
  for (const register of COMMANDS) register(program, (c) => (exitCode = c));
  configureCommands(program, []);
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
    if (e instanceof UnverifiedError) {
      process.stderr.write(`trustops: could not verify: ${e.message}\n`);
      return EXIT.UNVERIFIED;
    }
    process.stderr.write(
      `trustops: internal error (exit ${EXIT.INTERNAL}; please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return EXIT.INTERNAL;
  }
}
