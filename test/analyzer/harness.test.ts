import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { isAnalyzerError, startAnalyzer, UNKNOWN, type AnalyzerSession } from '../../cli/analyzer';
import { processAlive } from '../support/registry';
import { PACK_DIR, summary } from '../policy-pack/support/pack';

const POLICIES = [
  'trusted-images:resource',
  'images-pinned-by-digest:resource',
  'allowed-registries:resource',
  'gke-confidential-nodes:resource',
  'gke-cluster-hardened:stack',
  'admission-control-enforced:stack',
  'confidential-workloads-scheduled:resource',
];

describe('analyzer harness: the pack over pulumirpc.Analyzer', function () {
  let analyzer: AnalyzerSession;

  before(async function () {
    analyzer = await startAnalyzer({ packDir: PACK_DIR });
  });

  after(async function () {
    await analyzer?.close();
  });

  it('GetAnalyzerInfo and GetPluginInfo describe the pack and its seven policies', async function () {
    assert.equal(analyzer.info.name, 'trustops');
    assert.equal(analyzer.info.supportsConfig, true);
    assert.deepEqual(
      analyzer.info.policies.map((p) => `${p.name}:${p.kind}`),
      POLICIES,
    );
    for (const p of analyzer.info.policies) {
      assert.equal(p.enforcementLevel, 'mandatory', p.name);
      assert.ok(p.configSchema, `${p.name} declares a config schema`);
    }
    const trusted = analyzer.info.policies.find((p) => p.name === 'trusted-images')!;
    // The trust policy's schema travels self-contained (no dangling #/definitions refs).
    assert.doesNotMatch(JSON.stringify(trusted.configSchema), /#\/definitions/);
    assert.match(await analyzer.pluginVersion(), /^\d+\.\d+\.\d+/);
  });

  it('Configure refuses bad config: an unknown policy name (stricter than the engine, on purpose), wrong types, bad levels, a schema-invalid trust policy', async function () {
    const bad = [
      { 'no-such-policy': 'mandatory' },
      { 'allowed-registries': { allowedPrefixes: 'ghcr.io' } },
      { 'allowed-registries': 'fatal' },
      { 'gke-confidential-nodes': { allowedTypes: ['PLAIN'] } },
      { 'gke-confidential-nodes': { allowedTypes: [] } },
      { 'trusted-images': { trustPolicy: { apiVersion: 'trustops.dev/v1alpha1', kind: 'TrustPolicy' } } },
      { 'trusted-images': { registry: { mirrors: { 'ghcr.io': 42 } } } },
    ];
    for (const config of bad) {
      await assert.rejects(
        analyzer.configure(config as never),
        (e: unknown) => isAnalyzerError(e, 'INVALID_CONFIG'),
        JSON.stringify(config),
      );
    }
    await analyzer.configure({ 'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'] } });
  });

  it('an unknown image during preview is advisory, with the path, for every image policy', async function () {
    await analyzer.configure({ 'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'] } });
    const r = await analyzer.analyze({
      type: 'kubernetes:apps/v1:Deployment',
      name: 'web',
      properties: { spec: { template: { spec: { containers: [{ name: 'app', image: UNKNOWN }] } } } },
    });
    assert.deepEqual(summary(r), [
      'allowed-registries advisory VALUE_UNKNOWN',
      'images-pinned-by-digest advisory VALUE_UNKNOWN',
      'trusted-images advisory VALUE_UNKNOWN',
    ]);
    for (const d of r.diagnostics) assert.match(d.message, /containers\[0\]\.image/);
  });

  it('a prepared resource (encoded once) gets exactly the answers of the plain one', async function () {
    await analyzer.configure({ 'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'] } });
    const resource = {
      type: 'kubernetes:apps/v1:Deployment',
      name: 'tagged',
      properties: {
        spec: { template: { spec: { containers: [{ name: 'app', image: 'docker.io/x/app:1' }] } } },
      },
    };
    const prepared = analyzer.prepare(resource);
    const plain = await analyzer.analyze(resource);
    assert.deepEqual(summary(plain), [
      'allowed-registries mandatory REGISTRY_NOT_ALLOWED',
      'images-pinned-by-digest mandatory NOT_PINNED',
      'trusted-images mandatory TRUST_POLICY_MISSING',
    ]);
    for (let i = 0; i < 2; i++) assert.deepEqual(await analyzer.analyze(prepared), plain);
    assert.deepEqual(await analyzer.remediate(prepared), await analyzer.remediate(resource));
  });

  it('garbage properties (wrong types, huge strings, deep nesting) never crash the analyzer', async function () {
    await analyzer.configure({ 'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'] } });
    const types = [
      'kubernetes:apps/v1:Deployment',
      'kubernetes:core/v1:Pod',
      'kubernetes:batch/v1:CronJob',
      'kubernetes:example.com/v1:Widget',
      'gcp:cloudrunv2/service:Service',
      'gcp:container/nodePool:NodePool',
      'gcp:container/cluster:Cluster',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...types),
        fc.jsonValue({ maxDepth: 6 }),
        fc.jsonValue({ maxDepth: 4 }),
        async (type, a, b) => {
          const r = await analyzer.analyze({
            type,
            name: 'garbage',
            properties: {
              spec: { template: { spec: a }, jobTemplate: a },
              template: b,
              nodeConfig: a,
              metadata: b,
            },
          });
          for (const d of r.diagnostics) assert.ok(['advisory', 'mandatory'].includes(d.enforcementLevel));
        },
      ),
      { numRuns: 60 },
    );
    let deep: Record<string, unknown> = { containers: [{ name: 'x', image: 'ghcr.io/acme/x:1' }] };
    for (let i = 0; i < 900; i++) deep = { n: deep };
    const nested = await analyzer.analyze({
      type: 'kubernetes:example.com/v1:Widget',
      name: 'deep',
      properties: { spec: deep },
    });
    assert.ok(
      summary(nested).includes('trusted-images mandatory WORKLOAD_UNREADABLE'),
      summary(nested).join('\n'),
    );
    let tooDeep: Record<string, unknown> = deep;
    for (let i = 0; i < 200; i++) tooDeep = { n: tooDeep };
    // Deeper than the wire encoding can carry: refused by the harness with a code, before any RPC.
    await assert.rejects(
      analyzer.analyze({ type: 'kubernetes:core/v1:Pod', name: 'too-deep', properties: { spec: tooDeep } }),
      (e: unknown) => isAnalyzerError(e, 'INVALID_RESOURCE'),
    );
    const huge = 'x'.repeat(8 * 1024 * 1024);
    const big = await analyzer.analyze({
      type: 'kubernetes:core/v1:Pod',
      name: 'huge',
      properties: { spec: { containers: [{ name: huge, image: huge }] } },
    });
    assert.ok(summary(big).includes('allowed-registries mandatory IMAGE_INVALID'), summary(big).join('\n'));
    // Still serving after all of it.
    assert.equal(analyzer.info.name, 'trustops');
    await analyzer.analyze({ type: 'kubernetes:core/v1:ConfigMap', name: 'ok', properties: { data: {} } });
  });
});

describe('analyzer harness: process lifecycle', function () {
  it('close() kills the pack process, and calls after close are refused', async function () {
    const a = await startAnalyzer({ packDir: PACK_DIR });
    assert.ok(processAlive(a.pid));
    await a.close();
    assert.equal(processAlive(a.pid), false);
    await assert.rejects(a.analyze({ type: 'x:y:Z', name: 'n', properties: {} }), (e: unknown) =>
      isAnalyzerError(e, 'CLOSED'),
    );
  });

  it('a folder without a pack, and a pack that dies at start, are coded errors', async function () {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-nopack-'));
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-brokenpack-'));
    try {
      await assert.rejects(startAnalyzer({ packDir: empty }), (e: unknown) =>
        isAnalyzerError(e, 'PACK_NOT_FOUND'),
      );
      fs.writeFileSync(
        path.join(broken, 'package.json'),
        JSON.stringify({ name: 'broken', main: 'index.js' }),
      );
      fs.writeFileSync(path.join(broken, 'index.js'), 'throw new Error("boom at load");\n');
      fs.symlinkSync(path.resolve(PACK_DIR, '..', 'node_modules'), path.join(broken, 'node_modules'));
      await assert.rejects(startAnalyzer({ packDir: broken }), (e: unknown) =>
        isAnalyzerError(e, 'START_FAILED'),
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });
});
