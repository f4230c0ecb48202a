/* eslint-disable @typescript-eslint/no-explicit-any -- recorded inputs are untyped JSON trees; the assertions pin their shape. */
import * as assert from 'node:assert/strict';
import {
  KYVERNO_CHART,
  KYVERNO_IMAGES,
  KYVERNO_WEBHOOK_CONFIGURATIONS,
  Kyverno,
  kyvernoChartValues,
  validateKyvernoArgs,
  type KyvernoArgs,
  type KyvernoImage,
} from '../../components/kyverno/kyverno';
import { KYVERNO_RELEASE } from '../../components/platform-images';
import { enforcementGap } from '../../policy-pack/policies/admission-control-enforced';
import { sharedPath } from '../support/shared';
import { missingKeys, readYaml } from './support/chart-values';
import {
  inputErrors,
  installRecordingMocks,
  recordedOfType,
  recordedResource,
  resetRecorded,
  settle,
} from './support/mocks';
import { loadFixturePolicy } from './support/trust-policy-fixture';

const digest = (i: number): string => `sha256:${i.toString(16).padStart(2, '0').repeat(32)}`;
const DIGESTS = Object.fromEntries(KYVERNO_IMAGES.map((img, i) => [img, digest(i + 1)])) as Record<
  KyvernoImage,
  string
>;

function args(over: Partial<KyvernoArgs> = {}): KyvernoArgs {
  return { trustPolicy: loadFixturePolicy(), imageDigests: DIGESTS, readinessCheckerTag: 'v0.1.0', ...over };
}

describe('Kyverno component', () => {
  before(installRecordingMocks);
  beforeEach(resetRecorded);

  it('installs the pinned official chart in HA, failing closed, every image pinned by digest', async () => {
    const k = new Kyverno('kyverno', args());
    await settle(k.chart.urn, ...k.policies.map((p) => p.urn), ...k.webhookGuards.map((w) => w.urn));
    const chart = recordedResource('kubernetes:helm.sh/v4:Chart', 'kyverno').inputs as any;
    assert.equal(chart.chart, 'kyverno');
    assert.equal(chart.version, '3.9.1');
    assert.equal(
      chart.values.global.image.registry,
      'ghcr.io',
      'where Kyverno publishes and signs its images',
    );
    assert.equal(chart.repositoryOpts.repo, 'https://kyverno.github.io/kyverno/');
    assert.equal(chart.namespace, 'kyverno');
    const v = chart.values;
    assert.equal(v.admissionController.replicas, 3);
    for (const c of ['backgroundController', 'cleanupController', 'reportsController'])
      assert.equal(v[c].replicas, 2);
    assert.equal(v.features.forceFailurePolicyIgnore.enabled, false);
    assert.deepEqual(v.config.webhooks.namespaceSelector.matchExpressions[0].values, [
      'kube-system',
      'kube-public',
      'kube-node-lease',
      'kyverno',
    ]);
    assert.equal(v.admissionController.container.image.tag, `${KYVERNO_CHART.appVersion}@${DIGESTS.kyverno}`);
    assert.equal(v.admissionController.initContainer.image.tag, `v1.19.1@${DIGESTS.kyvernopre}`);
    assert.equal(v.backgroundController.image.tag, `v1.19.1@${DIGESTS['background-controller']}`);
    assert.equal(v.cleanupController.image.tag, `v1.19.1@${DIGESTS['cleanup-controller']}`);
    assert.equal(v.reportsController.image.tag, `v1.19.1@${DIGESTS['reports-controller']}`);
    assert.equal(v.crds.migration.image.tag, `v1.19.1@${DIGESTS['kyverno-cli']}`);
    assert.equal(v.webhooksCleanup.image.tag, `v0.1.0@${DIGESTS['readiness-checker']}`);
    // The admission policy rendered from the trust policy is applied, Deny + Fail.
    const ivp = recordedResource(
      'kubernetes:policies.kyverno.io/v1:ImageValidatingPolicy',
      'kyverno-imagevalidatingpolicy',
    ).inputs as any;
    assert.deepEqual(ivp.spec.validationActions, ['Deny']);
    assert.equal(ivp.spec.failurePolicy, 'Fail');
    assert.ok(ivp.spec.matchConstraints.namespaceSelector.matchExpressions[0].values.includes('kyverno'));
    // Webhook configurations Kyverno creates at run time are owned by the stack, so destroy removes them.
    const guards = [
      ...recordedOfType('kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration'),
      ...recordedOfType('kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration'),
    ].map((r) => (r.inputs as any).metadata.name);
    assert.deepEqual(
      guards.sort(),
      [...KYVERNO_WEBHOOK_CONFIGURATIONS.validating, ...KYVERNO_WEBHOOK_CONFIGURATIONS.mutating].sort(),
    );
  });

  it('applies the ClusterPolicy form too when asked', async () => {
    const k = new Kyverno('kv', args({ policyKinds: ['ImageValidatingPolicy', 'ClusterPolicy'] }));
    await settle(...k.policies.map((p) => p.urn));
    const cp = recordedResource('kubernetes:kyverno.io/v1:ClusterPolicy', 'kv-clusterpolicy').inputs as any;
    assert.equal(cp.spec.failurePolicy, 'Fail');
    assert.equal(cp.spec.rules[0].verifyImages[0].failureAction, 'Enforce');
    // The admission guards travel with it: host spelling, image volumes, debug containers.
    const names = cp.spec.rules.map((r: any) => r.name);
    for (const guard of [
      'image-hosts-canonical',
      'image-volumes-exempted-only',
      'debug-containers-exempted-only',
    ])
      assert.ok(names.includes(guard), guard);
    const ivp = recordedResource(
      'kubernetes:policies.kyverno.io/v1:ImageValidatingPolicy',
      'kv-imagevalidatingpolicy',
    ).inputs as any;
    assert.ok(ivp.spec.matchConstraints.resourceRules[0].resources.includes('pods/ephemeralcontainers'));
    // What the component applies is what the pack's admission-control-enforced counts as enforcing.
    assert.equal(enforcementGap('kubernetes:kyverno.io/v1:ClusterPolicy', cp), undefined);
    assert.equal(enforcementGap('kubernetes:policies.kyverno.io/v1:ImageValidatingPolicy', ivp), undefined);
  });

  const chartDir = sharedPath('schemas/charts/kyverno-3.9.0', 'kyverno chart values', 1);
  (chartDir ? it : it.skip)('every value it sets exists in the chart 3.9.0 default values', () => {
    const v = validateKyvernoArgs(args());
    const values = kyvernoChartValues(args(), v);
    const defaults = readYaml(`${chartDir}/values.yaml`);
    assert.deepEqual(missingKeys(values, defaults), []);
    // The check can fail: a misspelt key is reported.
    assert.deepEqual(missingKeys({ admissionController: { replica: 3 } }, defaults), [
      'admissionController.replica',
    ]);
  });

  it('rejects every missing or malformed digest, weakening setting and bad namespace at once', () => {
    // readiness-checker has no published digest to fall back on: dropping it is a problem
    const { 'readiness-checker': _dropped, ...partial } = DIGESTS;
    const errors = inputErrors(() =>
      validateKyvernoArgs({
        ...args(),
        imageDigests: { ...partial, kyvernopre: 'v1.19.0', extra: digest(9) } as never,
        readinessCheckerTag: '',
        namespace: 'Kyverno',
        additionalExcludedNamespaces: ['default', 'bad_ns'],
        failurePolicy: 'Ignore',
        validationFailureAction: 'Audit',
      } as unknown as KyvernoArgs),
    );
    assert.deepEqual(errors.map((e) => e.propertyPath).sort(), [
      'additionalExcludedNamespaces[0]',
      'additionalExcludedNamespaces[1]',
      'failurePolicy',
      'imageDigests.extra',
      'imageDigests.kyvernopre',
      'imageDigests.readiness-checker',
      'namespace',
      'readinessCheckerTag',
      'validationFailureAction',
    ]);
  });

  it('defaults to the digests Kyverno published for v1.19.1; given ones win; readiness-checker must be given', () => {
    const onlyRequired = validateKyvernoArgs(args({ imageDigests: { 'readiness-checker': digest(7) } }));
    for (const image of KYVERNO_IMAGES) {
      assert.equal(
        onlyRequired.imageDigests[image],
        image === 'readiness-checker' ? digest(7) : KYVERNO_RELEASE.digests[image],
        image,
      );
    }
    assert.equal(KYVERNO_RELEASE.version, KYVERNO_CHART.appVersion);
    const given = validateKyvernoArgs(args());
    assert.deepEqual(given.imageDigests, DIGESTS, 'digests given override the published ones');
    const errors = inputErrors(() => validateKyvernoArgs(args({ imageDigests: undefined })));
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ['imageDigests.readiness-checker'],
    );
    assert.match(errors[0]!.reason, /no public pin of ghcr\.io\/kyverno\/readiness-checker was found/);
  });

  it('reports a trust policy it cannot render as an argument problem with the render code', () => {
    const policy = loadFixturePolicy();
    const errors = inputErrors(() =>
      validateKyvernoArgs(
        args({
          trustPolicy: { ...policy, images: [{ match: ['x.io/*'], signature: { signers: ['nobody'] } }] },
        }),
      ),
    );
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.propertyPath, 'trustPolicy');
    assert.match(errors[0]!.reason, /^UNKNOWN_SIGNER/);
  });
});
