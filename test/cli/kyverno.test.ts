import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kyvernoRenderCommand } from '../../cli/commands/kyverno';
import { UsageError } from '../../cli/exit-codes';
import { trustPolicyDocument } from '../components/support/trust-policy-fixture';

const BIN = path.join(__dirname, '..', '..', 'cli', 'bin', 'trustops.js');

describe('trustops kyverno render', () => {
  let dir: string;
  let policyFile: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-kyverno-'));
    policyFile = path.join(dir, 'trust-policy.json');
    fs.writeFileSync(policyFile, JSON.stringify(trustPolicyDocument()));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the ImageValidatingPolicy the Kyverno component applies, and exits 0 (real CLI process)', () => {
    const r = spawnSync(process.execPath, [BIN, 'kyverno', 'render', '--policy', policyFile], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(docs.length, 1);
    assert.equal(docs[0]!.kind, 'ImageValidatingPolicy');
    assert.deepEqual(docs[0]!.spec.validationActions, ['Deny']);
    // The same exclusions the component applies: system namespaces and Kyverno's own.
    assert.deepEqual(docs[0]!.spec.matchConstraints.namespaceSelector.matchExpressions[0].values, [
      'kube-system',
      'kube-public',
      'kube-node-lease',
      'kyverno',
    ]);
  });

  it('renders both kinds on request', () => {
    let out = '';
    const code = kyvernoRenderCommand(
      {
        policy: policyFile,
        kind: ['ClusterPolicy', 'ImageValidatingPolicy'],
        namespace: 'kyverno',
        excludeNamespace: ['batch'],
      },
      (s) => (out += s),
    );
    assert.equal(code, 0);
    const kinds = parseAllDocuments(out).map((d) => (d.toJS() as { kind: string }).kind);
    assert.deepEqual(kinds, ['ClusterPolicy', 'ImageValidatingPolicy']);
    assert.ok(out.includes('- batch'));
  });

  it('exits 2 on a bad kind, an invalid trust policy, or one that cannot be rendered faithfully', () => {
    assert.throws(
      () =>
        kyvernoRenderCommand(
          { policy: policyFile, kind: ['Gatekeeper'], namespace: 'kyverno', excludeNamespace: [] },
          () => {},
        ),
      (e: unknown) => e instanceof UsageError && e.code === 'BAD_KIND',
    );
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...trustPolicyDocument(), images: 'nope' }));
    const r = spawnSync(process.execPath, [BIN, 'kyverno', 'render', '--policy', bad], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    const doc = trustPolicyDocument();
    (doc.signers as Record<string, { keyless?: { claims?: unknown } }>)['acme-ci']!.keyless!.claims = {
      runnerEnvironment: 'github-hosted',
    };
    const unexpressible = path.join(dir, 'claims.json');
    fs.writeFileSync(unexpressible, JSON.stringify(doc));
    assert.throws(
      () =>
        kyvernoRenderCommand(
          { policy: unexpressible, kind: [], namespace: 'kyverno', excludeNamespace: [] },
          () => {},
        ),
      (e: unknown) => e instanceof UsageError && e.code === 'NOT_EXPRESSIBLE',
    );
    const missing = spawnSync(process.execPath, [BIN, 'kyverno', 'render'], { encoding: 'utf8' });
    assert.equal(missing.status, 2, 'missing --policy is a usage error');
  });
});
