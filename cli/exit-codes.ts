/** Exit codes shared by every command: 0 allowed/ok, 1 blocked/violation, 2 usage or configuration. */
export const EXIT = { OK: 0, BLOCKED: 1, USAGE: 2 } as const;

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
