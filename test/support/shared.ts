import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The one configurable path to the team's shared material (corpora, schemas). A user's clone has none:
 * under CI it must exist; elsewhere the suites that need it skip and say so loudly.
 */
export const SHARED_DIR = path.resolve(
  process.env.TRUSTOPS_SHARED ?? path.join(__dirname, '..', '..', '..', 'shared'),
);

const skipped: { suite: string; cases: number }[] = [];

/** Returns the absolute path of `rel` inside shared/, or undefined (after recording the skip) when absent. */
export function sharedPath(rel: string, suite: string, cases: number): string | undefined {
  const p = path.join(SHARED_DIR, rel);
  if (fs.existsSync(p)) return p;
  if (process.env.CI === 'true') {
    throw new Error(`shared material missing under CI: ${p} (set TRUSTOPS_SHARED to the shared/ folder)`);
  }
  skipped.push({ suite, cases });
  return undefined;
}

export function reportSkippedShared(): void {
  if (skipped.length === 0) return;
  const total = skipped.reduce((n, s) => n + s.cases, 0);
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n!! ${total} case(s) did NOT run: shared material not found at ${SHARED_DIR}`);
  for (const s of skipped) console.warn(`!!   ${s.suite}: ${s.cases} case(s)`);
  console.warn(`!! Set TRUSTOPS_SHARED=/path/to/shared to run them.\n${bar}`);
}
