import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startAnalyzer } from '../../cli/analyzer';
import { buildPackConfig } from '../../policy-pack/config';
import type { TrustPolicy } from '../../policy-pack/supply-chain/types';
import {
  happyEvidence,
  publish,
  RELEASE,
  SLSA_V1,
  startWorld,
  VSA_V1,
  vsa,
  type World,
} from '../supply-chain/support/world';
import { PACK_DIR, deployment, summary } from './support/pack';

/**
 * The pack as it is published: `npm pack` of policy-pack/, unpacked in an empty folder, installed with
 * `npm install --omit=dev` (published dependencies from the npm registry, through the local cache), then
 * started the way the Pulumi CLI starts it and asked to verify a real signed image.
 */

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? jsFiles(p) : e.name.endsWith('.js') ? [p] : [];
  });
}

describe('packed tarball: the published pack works on its own', function () {
  this.timeout(900000);
  let work: string;
  let packDir: string;
  let world: World | undefined;

  before(function () {
    assert.ok(
      fs.existsSync(path.join(PACK_DIR, 'dist', 'index.js')),
      'policy-pack/dist is missing: run `npm run build` (npm test does it in pretest)',
    );
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-packed-'));
    // The build already ran; prepack would only rebuild the same dist.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], {
      cwd: PACK_DIR,
      encoding: 'utf8',
    });
    const [packed] = JSON.parse(out) as { filename: string }[];
    assert.ok(packed, `npm pack printed no file: ${out}`);
    const filename = packed.filename;
    execFileSync('tar', ['xzf', path.join(work, filename), '-C', work]);
    packDir = path.join(work, 'package');
  });

  after(async function () {
    await world?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('imports nothing outside its folder and only declared dependencies', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(packDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const problems: string[] = [];
    for (const file of jsFiles(path.join(packDir, 'dist'))) {
      const src = fs.readFileSync(file, 'utf8');
      for (const m of src.matchAll(/require\("([^"]+)"\)/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(file), spec);
          if (!target.startsWith(packDir + path.sep))
            problems.push(`${path.relative(packDir, file)}: ${spec}`);
        } else if (!builtins.has(spec)) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!(name in pkg.dependencies))
            problems.push(`${path.relative(packDir, file)}: undeclared ${name}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('installs with --omit=dev, starts like the Pulumi CLI starts it, and verifies a signed image', async function () {
    execFileSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: packDir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    assert.ok(
      !fs.existsSync(path.join(packDir, 'node_modules', 'typescript')),
      'dev dependencies stayed out',
    );
    world = await startWorld();
    const e = happyEvidence();
    const attestations = e.attestations.filter((a) => !(a.predicateType === SLSA_V1 && a.signer !== RELEASE));
    attestations.push({ predicateType: VSA_V1, predicate: vsa(), signer: { key: 'rebuilderC' } });
    const good = await publish(world, 'referrer', { ...e, attestations });
    const unsigned = await publish(world, 'referrer', { ...e, attestations, signatures: [] });

    const analyzer = await startAnalyzer({ packDir });
    try {
      assert.equal(analyzer.info.name, 'trustops');
      assert.equal(analyzer.info.policies.length, 7);
      const trustPolicy = parseYaml(
        world.policyYaml({ extra: 'trustedRoot:\n  file: ./trusted_root.json\n' }),
      ) as TrustPolicy;
      await analyzer.configure(
        buildPackConfig({
          trustPolicy,
          trustPolicyBaseDir: world.dir,
          allowedPrefixes: [world.registry.host],
        }),
      );
      const ok = await analyzer.analyze({
        type: 'kubernetes:apps/v1:Deployment',
        name: 'web',
        properties: deployment([good.ref]),
      });
      assert.deepEqual(summary(ok), []);
      const bad = await analyzer.analyze({
        type: 'kubernetes:apps/v1:Deployment',
        name: 'web',
        properties: deployment([unsigned.ref]),
      });
      assert.deepEqual(summary(bad), ['trusted-images mandatory SIGNATURE_MISSING']);
    } finally {
      await analyzer.close();
    }
  });
});
