import type { Command } from 'commander';
import { EXPLANATIONS, explain } from '../explain/catalog';
import { EXIT, UsageError } from '../exit-codes';

/**
 * `trustops explain CODE`: what a finding code means and how to fix it, in the same words as the hint a
 * finding carries. `trustops explain --list` lists every code.
 */
export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('explain')
    .description(
      'Explain a finding code (SIGNATURE_MISSING, CONFIG_INVALID, ...): what it means and how to fix it.',
    )
    .argument('[CODE]', 'the code, as printed in brackets or after FAIL')
    .option('--list', 'list every code with its one-line title')
    .action((code: string | undefined, opts: { list?: boolean }) => {
      setExit(explainCommand(code, opts, (s) => process.stdout.write(s)));
    });
}

export function explainCommand(
  code: string | undefined,
  opts: { list?: boolean },
  write: (s: string) => void,
): number {
  if (opts.list || code === undefined) {
    if (!opts.list) throw new UsageError('give a CODE (or --list to see them all)', 'CODE_MISSING');
    const width = Math.max(...EXPLANATIONS.map((e) => e.code.length));
    write(EXPLANATIONS.map((e) => `${e.code.padEnd(width)}  ${e.title}\n`).join(''));
    return EXIT.OK;
  }
  const e = explain(code);
  if (!e) {
    throw new UsageError(
      `unknown code "${code}"; \`trustops explain --list\` lists every code`,
      'CODE_UNKNOWN',
    );
  }
  write(`${e.code}: ${e.title}\n\n${e.meaning}\n\nFix: ${e.fix}\n\nEffect: ${e.effect}\n`);
  return EXIT.OK;
}
