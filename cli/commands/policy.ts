import * as path from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../exit-codes';
import { paint } from '../preview/colour';
import { validateFile, type FileValidation } from '../policy/validate-file';
import { DEFAULT_PACK_DIR } from './preview';

/**
 * `trustops policy validate FILE`: says whether FILE is a trust policy or a policy pack config and
 * whether it is valid, listing every problem with its code and location. Exit 0 valid, 2 invalid or
 * unreadable.
 */
export function register(program: Command, setExit: (code: number) => void): void {
  const policy = program.command('policy').description('Work with trust policies and policy pack configs.');
  policy
    .command('validate')
    .description('Validate a trust policy or a policy pack config (as the pack checks it at Configure).')
    .argument('<FILE>', 'trust policy (YAML or JSON) or policy pack config (JSON)')
    .option('--policy-pack <dir>', 'the policy pack whose config schemas apply', DEFAULT_PACK_DIR)
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { policyPack: string; json?: boolean }) => {
      const result = await validateFile(file, path.resolve(opts.policyPack));
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderValidation(result));
      setExit(result.valid ? EXIT.OK : EXIT.USAGE);
    });
}

export function renderValidation(r: FileValidation, stream: { isTTY?: boolean } = process.stdout): string {
  const verdict = r.valid
    ? paint('green', 'valid', stream)
    : paint('red', `INVALID (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'})`, stream);
  const lines = [`${path.relative(process.cwd(), r.file) || r.file}: ${r.summary}: ${verdict}`];
  for (const p of r.problems) lines.push(`  ${p.code} at ${p.path}: ${p.message}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return `${lines.join('\n')}\n`;
}
