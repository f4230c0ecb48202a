/**
 * Exit codes shared by every command, so a pipeline can branch on them (docs/cli.md, "Exit codes"):
 *
 * | code | name       | meaning                                                                        |
 * |------|------------|--------------------------------------------------------------------------------|
 * | 0    | OK         | allowed / done                                                                 |
 * | 1    | BLOCKED    | blocked by policy (a requirement is not met; retrying will not help)           |
 * | 2    | USAGE      | usage or configuration error (bad flag, reference, digest, key, policy, mirror) |
 * | 3    | UNVERIFIED | could not verify (registry unreachable, timeout, incomplete preview): retry     |
 * | 4    | INTERNAL   | internal error in trustops (a bug: report it)                                  |
 */
export const EXIT = { OK: 0, BLOCKED: 1, USAGE: 2, UNVERIFIED: 3, INTERNAL: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table, in one place: help texts and docs/cli.md are built from (and tested against) it. */
export const EXIT_TABLE: readonly { code: ExitCode; name: keyof typeof EXIT; meaning: string }[] = [
  { code: EXIT.OK, name: 'OK', meaning: 'allowed, or the command did what it was asked' },
  { code: EXIT.BLOCKED, name: 'BLOCKED', meaning: 'blocked by policy (retrying will not help)' },
  {
    code: EXIT.USAGE,
    name: 'USAGE',
    meaning:
      'usage or configuration error (a bad option, reference or digest; an unreadable key or policy file; a mirror that does not exist; a pack config with an unknown key)',
  },
  {
    code: EXIT.UNVERIFIED,
    name: 'UNVERIFIED',
    meaning: 'could not verify (registry unreachable, timeout, incomplete preview): retry or look closer',
  },
  { code: EXIT.INTERNAL, name: 'INTERNAL', meaning: 'internal error in trustops (a bug: please report it)' },
];

/** The same table, for `--help` of every command. */
export const EXIT_HELP = `\nExit codes:\n${EXIT_TABLE.map((e) => `  ${e.code}  ${e.meaning}`).join('\n')}\n`;

/**
 * When one run has several outcomes (several images, several resources), the exit code is the most
 * telling one: an internal error, then a configuration error, then a block by policy (a retry cannot
 * change it), then "could not verify", then OK.
 */
const PRECEDENCE: readonly ExitCode[] = [EXIT.INTERNAL, EXIT.USAGE, EXIT.BLOCKED, EXIT.UNVERIFIED, EXIT.OK];
export function combineExitCodes(codes: Iterable<ExitCode>): ExitCode {
  const seen = new Set(codes);
  return PRECEDENCE.find((c) => seen.has(c)) ?? EXIT.OK;
}

/** A usage or configuration error: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly code: string = 'USAGE',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Verification could not run to a verdict (unreachable registry, timeout): exit 3, worth a retry. */
export class UnverifiedError extends Error {
  constructor(
    message: string,
    readonly code: string = 'UNVERIFIED',
  ) {
    super(message);
    this.name = 'UnverifiedError';
  }
}
