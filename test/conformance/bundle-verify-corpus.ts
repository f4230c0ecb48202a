import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The sigstore-conformance defaults its README states for cases without their own files. */
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

export interface ConformanceRun {
  case: string;
  mode: 'path' | 'digest';
  /** `_fail` cases must fail verification, every other must pass. */
  mustPass: boolean;
  /** Arguments after `trustops`, exactly as the upstream runner passes them. */
  argv: string[];
}

/** Every case of the bundle-verify folder, twice: with the artifact's path and with `sha256:<hex>`. */
export function conformanceRuns(dir: string): ConformanceRun[] {
  const runs: ConformanceRun[] = [];
  const cases = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const name of cases) {
    const caseDir = path.join(dir, name);
    const file = (f: string): string | undefined =>
      existsSync(path.join(caseDir, f)) ? path.join(caseDir, f) : undefined;
    const artifact = file('artifact') ?? path.join(dir, 'a.txt');
    const digest = `sha256:${createHash('sha256').update(readFileSync(artifact)).digest('hex')}`;
    const keyFile = file('key.pub');
    const who = keyFile
      ? ['--key', keyFile]
      : [
          '--certificate-identity',
          readOptional(file('identity')) ?? DEFAULT_IDENTITY,
          '--certificate-oidc-issuer',
          readOptional(file('issuer')) ?? DEFAULT_ISSUER,
        ];
    const trustedRoot = file('trusted_root.json');
    const base = ['verify-bundle', '--bundle', path.join(caseDir, 'bundle.sigstore.json'), ...who];
    if (trustedRoot) base.push('--trusted-root', trustedRoot);
    const mustPass = !name.endsWith('_fail');
    runs.push({ case: name, mode: 'path', mustPass, argv: [...base, artifact] });
    runs.push({ case: name, mode: 'digest', mustPass, argv: [...base, digest] });
  }
  return runs;
}

function readOptional(file: string | undefined): string | undefined {
  return file === undefined ? undefined : readFileSync(file, 'utf8').trim();
}
