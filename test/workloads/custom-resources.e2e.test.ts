import { strict as assert } from 'node:assert';
import { isAnalyzerError, startAnalyzer, type AnalyzerSession } from '../../cli/analyzer';
import { DIGEST, PACK_DIR, messages, summary } from '../policy-pack/support/pack';

/**
 * The custom-resource images and the `host:443` spelling through the real pack, over the analyzer
 * protocol (the compiled pack in policy-pack/dist: `npm run build` first, as `npm test` does). No
 * registry is needed: allowed-registries and images-pinned-by-digest judge the reference itself, and
 * trusted-images without a trust policy refuses every image it sees, which shows that it sees them.
 */

const WORKFLOW = 'kubernetes:argoproj.io/v1alpha1:Workflow';
const TASK = 'kubernetes:tekton.dev/v1:Task';
const IMAGE_POLICIES = ['allowed-registries', 'images-pinned-by-digest', 'trusted-images'];

describe('workloads through the pack: custom-resource images are checked like container images', function () {
  this.timeout(60_000);
  let analyzer: AnalyzerSession;

  before(async function () {
    analyzer = await startAnalyzer({ packDir: PACK_DIR });
  });
  after(async function () {
    await analyzer?.close();
  });
  beforeEach(async function () {
    await analyzer.configure({ 'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'] } });
  });

  it('an Argo Workflow: a script image from another registry, a tag and an object-shaped image are each refused', async function () {
    const r = await analyzer.analyze({
      type: WORKFLOW,
      name: 'ci',
      properties: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Workflow',
        spec: {
          entrypoint: 'build',
          templates: [
            { name: 'build', container: { image: `ghcr.io/acme/build@${DIGEST}` } },
            { name: 'gen', script: { image: `evil.example/gen@${DIGEST}`, source: 'true' } },
            { name: 'tagged', container: { image: 'ghcr.io/acme/build:latest' } },
            {
              name: 'shaped',
              sidecars: [{ name: 'db', image: { repository: 'ghcr.io/acme/db', tag: '1' } }],
            },
          ],
        },
      },
    });
    assert.deepEqual(summary(r, ['allowed-registries', 'images-pinned-by-digest']), [
      'allowed-registries mandatory IMAGE_INVALID',
      'allowed-registries mandatory REGISTRY_NOT_ALLOWED',
      'images-pinned-by-digest mandatory IMAGE_INVALID',
      'images-pinned-by-digest mandatory NOT_PINNED',
    ]);
    const allowed = messages(r, 'allowed-registries').join('\n');
    assert.match(allowed, /imageProperty "gen" \(spec\.templates\[1\]\.script\.image\)/);
    assert.match(allowed, /imageProperty "db" \(spec\.templates\[3\]\.sidecars\[0\]\.image\)/);
    assert.match(messages(r, 'images-pinned-by-digest').join('\n'), /spec\.templates\[2\]\.container\.image/);
    // Without a trust policy no image can be verified: one refusal per readable image (3), the
    // object-shaped one refused as invalid.
    assert.deepEqual(summary(r, ['trusted-images']), [
      'trusted-images mandatory IMAGE_INVALID',
      'trusted-images mandatory TRUST_POLICY_MISSING',
      'trusted-images mandatory TRUST_POLICY_MISSING',
      'trusted-images mandatory TRUST_POLICY_MISSING',
    ]);
  });

  it('a Tekton Task: ghcr.io:443 is ghcr.io for allowed-registries; a look-alike prefix is still refused', async function () {
    const r = await analyzer.analyze({
      type: TASK,
      name: 'build',
      properties: {
        spec: {
          stepTemplate: { image: `GHCR.IO:443/acme/base@${DIGEST}` },
          steps: [
            { name: 'ok', image: `ghcr.io:443/acme/app@${DIGEST}` },
            { name: 'lookalike', image: `ghcr.io:443/acmecorp/app@${DIGEST}` },
            { name: 'dotted', image: `ghcr.io./acme/app@${DIGEST}` },
          ],
        },
      },
    });
    assert.deepEqual(summary(r, ['allowed-registries']), [
      'allowed-registries mandatory IMAGE_INVALID',
      'allowed-registries mandatory REGISTRY_NOT_ALLOWED',
    ]);
    const m = messages(r, 'allowed-registries').join('\n');
    assert.match(m, /imageProperty "lookalike" \(spec\.steps\[1\]\.image\).*found ghcr\.io\/acmecorp\/app/);
    assert.match(m, /imageProperty "dotted" \(spec\.steps\[2\]\.image\)/);
  });

  it('a VM image property is refused until declared not an image, for every image policy at once', async function () {
    const INSTANCE = 'kubernetes:compute.gcp.upbound.io/v1beta1:Instance';
    const vm = {
      type: INSTANCE,
      name: 'bastion',
      properties: {
        spec: { forProvider: { bootDisk: [{ initializeParams: [{ image: 'debian-cloud/debian-12' }] }] } },
      },
    };
    assert.deepEqual(summary(await analyzer.analyze(vm), IMAGE_POLICIES), [
      'allowed-registries mandatory REGISTRY_NOT_ALLOWED',
      'images-pinned-by-digest mandatory NOT_PINNED',
      'trusted-images mandatory TRUST_POLICY_MISSING',
    ]);
    const notImageProperties = [
      { type: INSTANCE, path: 'spec.forProvider.bootDisk[*].initializeParams[*].image' },
    ];
    await analyzer.configure({
      'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'], notImageProperties },
      'images-pinned-by-digest': { notImageProperties },
      'trusted-images': { notImageProperties },
    });
    assert.deepEqual(summary(await analyzer.analyze(vm), IMAGE_POLICIES), []);
    // declared for one policy only, the others still refuse it
    await analyzer.configure({
      'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'], notImageProperties },
    });
    assert.deepEqual(summary(await analyzer.analyze(vm), IMAGE_POLICIES), [
      'images-pinned-by-digest mandatory NOT_PINNED',
      'trusted-images mandatory TRUST_POLICY_MISSING',
    ]);
    // a declaration must name a custom resource type and a property named image
    for (const bad of [
      { type: 'gcp:compute/instance:Instance', path: 'bootDisk.initializeParams.image' },
      { type: INSTANCE, path: 'spec.forProvider.bootDisk[*].initializeParams[*].imageFamily' },
    ]) {
      await assert.rejects(
        analyzer.configure({ 'trusted-images': { notImageProperties: [bad] } }),
        (e: unknown) => isAnalyzerError(e, 'INVALID_CONFIG'),
      );
    }
  });

  it('a ConfigMap with an image key stays out of the image policies', async function () {
    const r = await analyzer.analyze({
      type: 'kubernetes:core/v1:ConfigMap',
      name: 'cfg',
      properties: { data: { image: 'evil.example/x:1' } },
    });
    assert.deepEqual(summary(r, IMAGE_POLICIES), []);
  });
});
