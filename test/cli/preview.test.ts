import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PreviewError } from '../../cli/preview/errors';
import type { PreviewReport } from '../../cli/preview/report';
import { runPreview } from '../../cli/preview/run-preview';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'cli', 'bin', 'trustops.js');
const WEAK = path.join(__dirname, 'fixtures', 'weak-project');

function trustops(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The real pack, started over the analyzer protocol, fed by the recording engine. */
describe('trustops preview', () => {
  it('platform-example with the example config: no mandatory violation, exit 0', () => {
    const r = trustops(['preview', '--stack', 'platform-example', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as PreviewReport;
    assert.equal(report.kind, 'PreviewReport');
    assert.equal(report.stack, 'platform-example');
    assert.equal(report.summary.mandatory, 0);
    assert.ok(report.summary.resources >= 20);
    assert.ok(report.resources.some((x) => x.type === 'gcp:container/nodePool:NodePool'));
    assert.ok(report.offline.unknownValues > 0);
    // Progress goes to stderr, one line per resource, so stdout stays parseable.
    assert.match(r.stderr, new RegExp(`\\[${report.summary.resources}/${report.summary.resources}\\]`));
  });

  it('a program that bypasses the components: each violation on its resource, exit 1', () => {
    const r = trustops(['preview', '-C', WEAK, '--stack', 'weak', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as PreviewReport;
    const byName = new Map(report.resources.map((x) => [x.name, x]));
    const pool = byName.get('standard');
    const web = byName.get('web');
    assert.ok(pool && web);
    assert.ok(
      pool.diagnostics.every(
        (d) => d.policy === 'gke-confidential-nodes' && d.enforcementLevel === 'mandatory',
      ),
    );
    assert.ok(pool.diagnostics.length >= 1);
    assert.deepEqual([...new Set(web.diagnostics.map((d) => d.policy))].sort(), [
      'images-pinned-by-digest',
      'trusted-images',
    ]);
    assert.deepEqual(web.images, ['127.0.0.1:1/acme/web:latest']);
    assert.equal(report.summary.blockedResources, 2);
  });

  it('the text report names the blocked resource and the policy; no colour off a terminal', () => {
    const r = trustops(['preview', '-C', WEAK, '--stack', 'weak']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /BLOCKED +gcp:container\/nodePool:NodePool standard/);
    assert.match(r.stdout, /pulumi preview/);
    assert.ok(!r.stdout.includes('\u001b['), 'no ANSI escapes');
  });

  it('refuses an unbuilt pack with --no-build (PACK_NOT_BUILT), and a missing policy config', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'trustops-pack-'));
    try {
      mkdirSync(tmp, { recursive: true });
      copyFileSync(path.join(REPO, 'policy-pack', 'PulumiPolicy.yaml'), path.join(tmp, 'PulumiPolicy.yaml'));
      copyFileSync(path.join(REPO, 'policy-pack', 'package.json'), path.join(tmp, 'package.json'));
      await assert.rejects(
        runPreview({ projectDir: WEAK, stack: 'weak', packDir: tmp, build: false }),
        (e: unknown) => e instanceof PreviewError && e.code === 'PACK_NOT_BUILT',
      );
      await assert.rejects(
        runPreview({
          projectDir: WEAK,
          stack: 'weak',
          packDir: tmp,
          build: false,
          policyConfig: path.join(tmp, 'none.json'),
        }),
        (e: unknown) => e instanceof PreviewError && e.code === 'POLICY_CONFIG_INVALID',
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const r = trustops(['preview', '-C', WEAK, '--stack', 'nowhere']);
    assert.equal(r.status, 2);
  });

  it('--help on preview, deploy and demo, and --version', () => {
    for (const [command, flag] of [
      ['preview', '--registry-mirror'],
      ['deploy', '--preview-only'],
      ['demo', '--dir'],
    ] as const) {
      const help = trustops([command, '--help']);
      assert.equal(help.status, 0, command);
      assert.ok(help.stdout.includes(flag), `${command} --help lists ${flag}`);
      assert.ok(help.stdout.includes('Exit codes'), `${command} --help documents its exit codes`);
    }
    const version = trustops(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });
});
