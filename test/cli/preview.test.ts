import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { previewCheckRun } from '../../cli/commands/preview';
import { EXIT } from '../../cli/exit-codes';
import { PreviewError } from '../../cli/preview/errors';
import type { PreviewReport } from '../../cli/preview/report';
import { runPreview } from '../../cli/preview/run-preview';
import { githubAnnotations } from '../../cli/report/github-annotations';
import { renderJunit } from '../../cli/report/junit';
import { renderSarif } from '../../cli/report/sarif';
import { assertValidSarif, parseJunit } from './support/report-formats';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'cli', 'bin', 'trustops.js');
const WEAK = path.join(__dirname, 'fixtures', 'weak-project');
const GATES = path.join(__dirname, 'fixtures', 'gates-project');

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
  it('platform-example: no mandatory violation, but its Helm charts were not expanded offline: unchecked, incomplete, exit 3', () => {
    const r = trustops(['preview', '--stack', 'platform-example', '--json']);
    assert.equal(r.status, EXIT.UNVERIFIED, r.stderr);
    const report = JSON.parse(r.stdout) as PreviewReport;
    assert.equal(report.kind, 'PreviewReport');
    assert.equal(report.stack, 'platform-example');
    assert.equal(report.summary.mandatory, 0);
    // no pass that was not checked: every chart is named, with why
    assert.deepEqual(report.unchecked.map((u) => `${u.type} ${u.name}`).sort(), [
      'kubernetes:helm.sh/v4:Chart kyverno',
      'kubernetes:helm.sh/v4:Chart spire',
      'kubernetes:helm.sh/v4:Chart spire-crds',
    ]);
    for (const u of report.unchecked) assert.match(u.reason, /not expanded/);
    assert.ok(
      report.unchecked.some((u) =>
        u.reason.includes('chart kyverno 3.9.1 from https://kyverno.github.io/kyverno/'),
      ),
    );
    assert.equal(report.summary.unchecked, 3);
    assert.equal(report.summary.complete, false);
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

  it('exit codes CI can branch on: 0 clean, 3 charts not expanded (a local chart too) or a registry that cannot be read, 2 a pack config with an unknown key', () => {
    const clean = trustops(['preview', '-C', GATES, '--stack', 'clean']);
    assert.equal(clean.status, EXIT.OK, clean.stderr);
    assert.ok(!clean.stdout.includes('INCOMPLETE'));

    const charts = trustops(['preview', '-C', GATES, '--stack', 'charts', '--json']);
    assert.equal(charts.status, EXIT.UNVERIFIED, charts.stderr);
    const report = JSON.parse(charts.stdout) as PreviewReport;
    const byName = new Map(report.unchecked.map((u) => [u.name, u]));
    assert.deepEqual([...byName.keys()].sort(), ['local-web', 'manifests', 'remote-web']);
    assert.match(byName.get('local-web')!.reason, /chart is local \(\.\/charts\/web\)/);
    assert.match(byName.get('remote-web')!.reason, /chart web 1\.2\.3 from https:\/\/charts\.example\.com\//);
    assert.match(byName.get('manifests')!.reason, /YAML file/);
    assert.equal(report.summary.complete, false);

    // the same report as SARIF 2.1.0 (valid against its schema) and JUnit (unchecked = skipped)
    const run = previewCheckRun(report, EXIT.UNVERIFIED);
    const sarif = assertValidSarif(renderSarif(run, '0.0.0'));
    const unchecked = sarif.runs[0]!.results.filter((x) => x.ruleId === 'WORKLOADS_UNCHECKED');
    assert.equal(unchecked.length, 3);
    assert.ok(unchecked.every((x) => x.level === 'warning'));
    assert.ok(
      unchecked[0]!.locations[0]!.physicalLocation.artifactLocation.uri.endsWith('Pulumi.charts.yaml'),
    );
    const junit = parseJunit(renderJunit(run));
    assert.equal(junit.cases.filter((c) => c.skipped !== undefined).length, 3);
    // on GitHub Actions, one warning per unchecked resource, on the stack's config file
    const annotations = githubAnnotations(run).trimEnd().split('\n');
    assert.equal(annotations.length, 3);
    for (const a of annotations) {
      assert.match(
        a,
        /^::warning file=[^,]*Pulumi\.charts\.yaml,title=trustops preview%3A WORKLOADS_UNCHECKED::/,
      );
    }

    const unreachable = trustops(['preview', '-C', GATES, '--stack', 'unreachable']);
    assert.equal(unreachable.status, EXIT.UNVERIFIED, unreachable.stderr);
    assert.match(unreachable.stdout, /UNVERIFIED kubernetes:apps\/v1:Deployment web/);
    assert.match(unreachable.stdout, /\[REGISTRY_ERROR\]/);

    const typo = trustops(['preview', '-C', GATES, '--stack', 'typo']);
    assert.equal(typo.status, EXIT.USAGE, typo.stderr);
    assert.match(typo.stderr, /trusted-images\/trustPolcy: unknown key/);
  });

  it('a pack that cannot start is an internal error (exit 4), not a pass or a usage error', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'trustops-broken-pack-'));
    try {
      copyFileSync(path.join(REPO, 'policy-pack', 'PulumiPolicy.yaml'), path.join(tmp, 'PulumiPolicy.yaml'));
      writeFileSync(
        path.join(tmp, 'package.json'),
        '{"name":"broken","version":"0.0.1","main":"dist/index.js"}',
      );
      mkdirSync(path.join(tmp, 'dist'));
      writeFileSync(path.join(tmp, 'dist', 'index.js'), 'process.exit(7);\n');
      const r = trustops(['preview', '-C', GATES, '--stack', 'clean', '--policy-pack', tmp, '--no-build']);
      assert.equal(r.status, EXIT.INTERNAL, r.stderr);
      assert.match(r.stderr, /internal error/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
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
      assert.ok(!/\(default: (\[\]|false)\)/.test(help.stdout), `${command} --help: no empty defaults`);
    }
    const version = trustops(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });
});
