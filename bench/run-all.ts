import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * `npm run bench`: runs every benchmark in its own process (so one's heap and caches never flatter
 * another's) and prints each one's last-line JSON, then one JSON object keyed by benchmark.
 */
const BENCHES = ['registry', 'verify', 'pack'] as const;

const results: Record<string, unknown> = {};
let failed = false;
for (const name of BENCHES) {
  process.stderr.write(`bench: running bench:${name}\n`);
  const r = spawnSync('npm', ['run', '--silent', `bench:${name}`], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    results[name] = JSON.parse(last);
  } catch {
    results[name] = { error: `exit ${r.status}; last line not JSON: ${last.slice(0, 200)}` };
    failed = true;
  }
  if (r.status !== 0) failed = true;
}
console.log(JSON.stringify(results));
process.exitCode = failed ? 1 : 0;
