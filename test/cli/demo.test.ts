import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DemoReport } from '../../cli/demo/run-demo';
import { DEMO_IMAGES } from '../../cli/demo/supply-chain';
import { createImageVerifier } from '../../policy-pack/image-verifier';
import { loadTrustPolicyFile } from '../../policy-pack/supply-chain/trust-policy';

const REPO = path.resolve(__dirname, '..', '..');

/** Resources the demo is meant to block, and the one policy that blocks each. */
const INTENDED_BLOCKS: Record<string, string> = {
  checkout: 'trusted-images',
  inventory: 'trusted-images',
  search: 'trusted-images',
  billing: 'trusted-images',
  'batch-standard': 'gke-confidential-nodes',
};

/** `npm start` as a new user runs it: a temporary HOME, so the demo supply chain is created on this run. */
describe('npm start (the demo main job)', () => {
  let home: string;
  let report: DemoReport;
  let stderr: string;

  before(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'trustops-home-'));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1' };
    delete env['XDG_CACHE_HOME'];
    delete env['TRUSTOPS_DEMO_DIR'];
    const run = spawnSync('npm', ['--silent', 'start', '--', '--json'], { cwd: REPO, env, encoding: 'utf8' });
    stderr = run.stderr;
    assert.equal(run.status, 0, `npm start failed:\n${run.stderr}`);
    report = JSON.parse(run.stdout) as DemoReport;
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('creates the supply chain under the HOME cache on first run and says so', () => {
    assert.equal(report.supplyChain.created, true);
    assert.ok(report.supplyChain.dir.startsWith(path.join(home, '.cache', 'trustops')));
    assert.match(stderr, /creating the demo supply chain/);
    assert.match(stderr, /\[\d+\/\d+\]/, 'progress while verifying');
  });

  it('blocks exactly the intended resources, each by the intended policy', () => {
    const blocked = Object.fromEntries(
      report.preview.resources
        .filter((r) => r.diagnostics.some((d) => d.enforcementLevel === 'mandatory'))
        .map((r) => [r.name, [...new Set(r.diagnostics.map((d) => d.policy))].join(',')]),
    );
    assert.deepEqual(blocked, INTENDED_BLOCKS);
    assert.equal(report.preview.stackDiagnostics.length, 0);
    const allowed = report.preview.resources.find((r) => r.name === 'payments-api' && r.images.length > 0);
    assert.ok(allowed);
    assert.deepEqual(allowed.diagnostics, []);
  });

  it('each image gets the verdict its story intends, on the intended requirement', () => {
    assert.deepEqual(
      report.images.map((i) => i.name),
      DEMO_IMAGES.map((s) => s.name),
    );
    for (const image of report.images) {
      assert.equal(image.allowed, image.intended.allowed, image.name);
      if (!image.intended.allowed) {
        assert.deepEqual(
          image.findings.map((f) => f.requirement),
          [image.intended.requirement],
          image.name,
        );
      }
    }
    const codes = Object.fromEntries(report.images.map((i) => [i.name, i.findings.map((f) => f.code)]));
    assert.deepEqual(codes, {
      'payments-api': [],
      checkout: ['SIGNATURE_MISSING'],
      inventory: ['SBOM_MISSING'],
      search: ['REBUILD_QUORUM_NOT_MET'],
      billing: ['SIGNER_UNTRUSTED'],
    });
  });

  it('states that demo signatures are key-based without a transparency log', () => {
    const policy = readFileSync(path.join(report.supplyChain.dir, 'trust-policy.yaml'), 'utf8');
    assert.match(policy, /requireTransparencyLog: false/);
    const text = spawnSync(process.execPath, [path.join(REPO, 'cli', 'bin', 'trustops.js'), 'demo'], {
      cwd: REPO,
      env: { ...process.env, TRUSTOPS_DEMO_DIR: report.supplyChain.dir, NO_COLOR: '1' },
      encoding: 'utf8',
    });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /requireTransparencyLog: false/);
    assert.match(text.stdout, /reused/, 'the second run reuses the supply chain');
    assert.match(text.stdout, /BLOCKED +kubernetes:apps\/v1:Deployment checkout/);
  });

  it('the printed preview command reproduces the demo by hand', () => {
    const [bin, ...args] = report.command;
    assert.equal(bin, 'trustops');
    const run = spawnSync(
      process.execPath,
      [path.join(REPO, 'cli', 'bin', 'trustops.js'), ...args, '--json'],
      {
        cwd: REPO,
        encoding: 'utf8',
      },
    );
    assert.equal(run.status, 1, 'a plain preview exits 1 on the demo blocks');
    const preview = JSON.parse(run.stdout) as DemoReport['preview'];
    assert.deepEqual(preview.summary, report.preview.summary);
  });

  it('a tampered evidence blob in the layout blocks the compliant image (fail closed)', async () => {
    const layout = report.supplyChain.layoutDir;
    const payments = report.images.find((i) => i.name === 'payments-api')!.image;
    const verifier = (): ReturnType<typeof createImageVerifier> =>
      createImageVerifier({
        policy: loadTrustPolicyFile(report.supplyChain.trustPolicyFile),
        registry: { mirrors: { [report.supplyChain.host]: `oci-layout:${layout}` } },
      });
    assert.equal((await verifier().verify(payments)).allowed, true);
    // Flip one byte in every Sigstore bundle blob: the layout now lies about each bundle's content.
    const blobs = path.join(layout, 'blobs', 'sha256');
    let tampered = 0;
    for (const name of readdirSync(blobs)) {
      const file = path.join(blobs, name);
      const bytes = readFileSync(file);
      if (
        !bytes.subarray(0, 200).toString('utf8').includes('"mediaType":"application/vnd.dev.sigstore.bundle')
      )
        continue;
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0x01, bytes.length - 3);
      writeFileSync(file, bytes);
      tampered++;
    }
    assert.ok(tampered > 0);
    const verdict = await verifier().verify(payments);
    assert.equal(verdict.allowed, false);
    assert.ok(verdict.findings.length > 0);
  });
});
