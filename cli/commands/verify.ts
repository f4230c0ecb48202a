import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createImageVerifier } from '../../policy-pack/image-verifier';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { RegistryError } from '../../policy-pack/registry/errors';
import { parseReference } from '../../policy-pack/registry/reference';
import type { RegistryClient } from '../../policy-pack/registry/types';
import type { ImageVerdict } from '../../policy-pack/supply-chain/types';
import {
  digestOnce,
  OUTCOME_LABEL,
  verdictOutcome,
  verdictText,
  waiverText,
  type VerdictOutcome,
} from '../../policy-pack/supply-chain/verdict-text';
import { combineExitCodes, EXIT, UsageError, type ExitCode } from '../exit-codes';
import { collect, loadPolicyOption, outputFormat, outputOption, parseMirrors } from '../command-options';
import { paint } from '../preview/colour';
import type { CheckItem, CheckRun } from '../report/check-run';
import { githubAnnotations, inGitHubActions } from '../report/github-annotations';
import { renderJunit } from '../report/junit';
import { renderSarif } from '../report/sarif';
import { cliVersion } from '../version';

/**
 * `trustops verify IMAGE... --policy FILE`: checks images against the trust policy, as the policy pack
 * does at deploy time, concurrently, and ends with one summary. Exit codes (cli/exit-codes.ts): 0 every
 * image allowed, 1 one blocked by policy, 2 usage or configuration (a malformed reference, a bad policy
 * file, a mirror that does not exist), 3 one could not be verified (registry unreachable, timeout), 4
 * internal error.
 */
export interface VerifyCommandOptions {
  policy: string;
  json?: boolean;
  output?: string;
  quiet?: boolean;
  imagesFrom?: string;
  concurrency?: string;
  insecureRegistry?: string[];
  registryMirror?: string[];
}

/** The `--output json` document: every verdict (VERDICT.md) in the order given, and the summary. */
export interface VerifyReport {
  apiVersion: 'trustops.dev/v1alpha1';
  kind: 'VerifyReport';
  policy: string;
  verdicts: ImageVerdict[];
  summary: { images: number; allowed: number; blocked: number; unverified: number; errors: number };
  exitCode: number;
}

const DEFAULT_CONCURRENCY = 8;

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('verify')
    .description('Verify images against the trust policy (signature, SBOM, provenance, rebuilds).')
    .argument('[IMAGE...]', 'image references, e.g. registry.example.com/acme/app@sha256:<digest>')
    .requiredOption('--policy <file>', 'trust policy file (YAML or JSON)')
    .option('--images-from <file>', "more images, one per line ('#' comments; '-' reads stdin)")
    .addOption(outputOption())
    .option('--json', 'short for --output json')
    .option('-q, --quiet', 'print only the summary and one line per image not allowed')
    .option('--concurrency <n>', 'images verified at once', String(DEFAULT_CONCURRENCY))
    .option('--insecure-registry <host>', 'registry host reachable over plain HTTP (repeatable)', collect)
    .option(
      '--registry-mirror <host=store>',
      'serve HOST from oci-layout:DIR or https://mirror (repeatable)',
      collect,
    )
    .action(async (images: string[], opts: VerifyCommandOptions) => {
      setExit(await verifyCommand(images, opts, (s) => process.stdout.write(s)));
    });
}

function createClient(opts: VerifyCommandOptions): RegistryClient {
  try {
    return createRegistryClient({
      mirrors: parseMirrors(opts.registryMirror),
      insecureRegistries: opts.insecureRegistry ?? [],
    });
  } catch (e) {
    if (e instanceof RegistryError) throw new UsageError(e.message, e.code);
    throw e;
  }
}

/** Images from the arguments, then `--images-from`; each one a well-formed reference (else exit 2). */
export function imagesToVerify(args: readonly string[], imagesFrom: string | undefined): string[] {
  const images = [...args];
  if (imagesFrom !== undefined) {
    let text: string;
    try {
      text = readFileSync(imagesFrom === '-' ? 0 : imagesFrom, 'utf8');
    } catch (e) {
      throw new UsageError(`--images-from ${imagesFrom}: ${(e as Error).message}`, 'IMAGES_UNREADABLE');
    }
    for (const line of text.split('\n')) {
      const image = line.replace(/#.*$/, '').trim();
      if (image) images.push(image);
    }
  }
  if (images.length === 0) {
    throw new UsageError('no image to verify: give IMAGE arguments or --images-from FILE', 'NO_IMAGES');
  }
  for (const image of images) {
    try {
      parseReference(image);
    } catch (e) {
      throw new UsageError(`"${image}" is not an image reference: ${(e as Error).message}`, 'BAD_REFERENCE');
    }
  }
  return [...new Set(images)];
}

const EXIT_FOR: Readonly<Record<VerdictOutcome, ExitCode>> = {
  allowed: EXIT.OK,
  blocked: EXIT.BLOCKED,
  unverified: EXIT.UNVERIFIED,
  'policy-invalid': EXIT.USAGE,
  error: EXIT.INTERNAL,
};

/** Runs the command; returns the exit code. Usage and configuration errors throw UsageError (exit 2). */
export async function verifyCommand(
  image: string | string[],
  opts: VerifyCommandOptions,
  write: (s: string) => void,
  stream: { isTTY?: boolean } = process.stdout,
): Promise<number> {
  const format = outputFormat(opts);
  const images = imagesToVerify(typeof image === 'string' ? [image] : image, opts.imagesFrom);
  const concurrency = Number(opts.concurrency ?? DEFAULT_CONCURRENCY);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UsageError(
      `--concurrency ${opts.concurrency}: expected a whole number from 1 to 64`,
      'BAD_CONCURRENCY',
    );
  }
  const policy = loadPolicyOption(opts.policy);
  const verifier = createImageVerifier({ policy, registry: createClient(opts) });
  const verdicts = await mapLimit(images, concurrency, (i) => verifier.verify(i));
  const outcomes = verdicts.map(verdictOutcome);
  const exitCode = combineExitCodes(outcomes.map((o) => EXIT_FOR[o]));
  const summary = {
    images: verdicts.length,
    allowed: outcomes.filter((o) => o === 'allowed').length,
    blocked: outcomes.filter((o) => o === 'blocked').length,
    unverified: outcomes.filter((o) => o === 'unverified' || o === 'policy-invalid').length,
    errors: outcomes.filter((o) => o === 'error').length,
  };
  switch (format) {
    case 'json': {
      const report: VerifyReport = {
        apiVersion: 'trustops.dev/v1alpha1',
        kind: 'VerifyReport',
        policy: opts.policy,
        verdicts,
        summary,
        exitCode,
      };
      write(`${JSON.stringify(report, null, 2)}\n`);
      break;
    }
    case 'sarif':
      write(renderSarif(checkRun(opts.policy, verdicts, exitCode), cliVersion()));
      break;
    case 'junit':
      write(renderJunit(checkRun(opts.policy, verdicts, exitCode)));
      break;
    case 'text': {
      const c = (colour: Parameters<typeof paint>[0], text: string): string => paint(colour, text, stream);
      const blocks = opts.quiet
        ? verdicts.filter((v) => !v.allowed).map((v) => quietLine(v, c))
        : verdicts.map((v) => verdictText(v, c));
      write(blocks.join(opts.quiet ? '' : '\n'));
      write(`${opts.quiet || blocks.length === 0 ? '' : '\n'}${summaryLine(summary, c)}\n`);
      if (inGitHubActions()) write(githubAnnotations(checkRun(opts.policy, verdicts, exitCode)));
      break;
    }
  }
  return exitCode;
}

function quietLine(
  v: ImageVerdict,
  c: (colour: Parameters<typeof paint>[0], text: string) => string,
): string {
  const outcome = verdictOutcome(v);
  const label = c(outcome === 'blocked' ? 'red' : 'yellow', OUTCOME_LABEL[outcome]);
  return `${label} ${v.image}: ${[...new Set(v.findings.map((f) => f.code))].join(', ')}\n`;
}

function summaryLine(
  s: VerifyReport['summary'],
  c: (colour: Parameters<typeof paint>[0], text: string) => string,
): string {
  const parts = [
    c(s.allowed === s.images ? 'green' : 'bold', `${s.allowed} allowed`),
    ...(s.blocked ? [c('red', `${s.blocked} blocked by policy`)] : []),
    ...(s.unverified ? [c('yellow', `${s.unverified} could not be verified`)] : []),
    ...(s.errors ? [c('red', `${s.errors} internal error(s)`)] : []),
  ];
  return `${c('bold', 'Summary:')} ${s.images} image(s): ${parts.join(', ')}`;
}

/** The verdicts as format-neutral check results (SARIF, JUnit, annotations). */
export function checkRun(policyFile: string, verdicts: ImageVerdict[], exitCode: number): CheckRun {
  const items: CheckItem[] = verdicts.map((v) => {
    const outcome = verdictOutcome(v);
    const waived = waiverText(v);
    return {
      name: v.image,
      id: v.image,
      kind: 'image',
      outcome:
        outcome === 'allowed'
          ? 'passed'
          : outcome === 'blocked'
            ? 'failed'
            : outcome === 'error'
              ? 'error'
              : 'unverified',
      findings: v.findings.map((f) => ({
        code: f.code,
        level: waived ? 'note' : outcome === 'blocked' ? 'error' : 'warning',
        message: `${f.requirement}${f.subject ? ` [${f.subject}]` : ''}: expected ${digestOnce(f.expected, v.digest)}; found ${digestOnce(f.found, v.digest)}. ${f.hint}`,
        ...(waived ? { waived } : {}),
      })),
    };
  });
  return { command: 'verify', artifact: policyFile, items, exitCode };
}

/** Runs `fn` over `items` with at most `limit` at once; results in the order of `items`. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** One verdict as `trustops verify` prints it (supply-chain/verdict-text.ts), without colour. */
export function renderVerdict(v: ImageVerdict): string {
  return verdictText(v);
}
