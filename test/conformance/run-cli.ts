import { main } from '../../cli/main';

export interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run `trustops <argv>` through the CLI's `main()` in this process, capturing what it prints. */
export async function runInProcess(argv: string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  // Capture the command's report for assertions; restored before anything else can print.
  process.stdout.write = ((chunk: string | Uint8Array) => (
    out.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    err.push(String(chunk)),
    true
  )) as typeof process.stderr.write;
  try {
    const exitCode = await main(['node', 'trustops', ...argv]);
    return { exitCode, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}
