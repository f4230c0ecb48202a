import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { PreviewError } from './errors';

export type PackBuildState = 'missing' | 'stale' | 'fresh';

/** The pack runs from its compiled `dist/` (its package.json `main`), so the CLI checks it is there and current. */
export function packBuildState(packDir: string): PackBuildState {
  const entry = path.join(packDir, 'dist', 'index.js');
  if (!existsSync(entry)) return 'missing';
  const built = statSync(entry).mtimeMs;
  return newestSource(packDir) > built ? 'stale' : 'fresh';
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      newest = Math.max(newest, statSync(full).mtimeMs);
    }
  }
  return newest;
}

/**
 * Makes sure the pack is built: with `build`, compiles it (what `npm run build` does); without,
 * fails with PACK_NOT_BUILT and the command to run.
 */
export function ensurePackBuilt(
  packDir: string,
  options: { build: boolean; log?: (line: string) => void },
): void {
  if (!existsSync(path.join(packDir, 'PulumiPolicy.yaml'))) {
    throw new PreviewError('PACK_NOT_BUILT', `${packDir} is not a policy pack: it has no PulumiPolicy.yaml`);
  }
  const state = packBuildState(packDir);
  if (state === 'fresh') return;
  const what = state === 'missing' ? 'is not built' : 'is older than its sources';
  if (!options.build) {
    throw new PreviewError(
      'PACK_NOT_BUILT',
      `the policy pack in ${packDir} ${what} (${path.join(packDir, 'dist')}); run \`npm run build\` (trustops builds it itself unless --no-build is given)`,
    );
  }
  options.log?.(`building the policy pack (${packDir} ${what})`);
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(packDir, 'tsconfig.json')], {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new PreviewError(
      'PACK_NOT_BUILT',
      `building the policy pack in ${packDir} failed:\n${result.stdout}${result.stderr}`,
    );
  }
}
