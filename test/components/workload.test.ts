/* eslint-disable @typescript-eslint/no-explicit-any -- recorded inputs are untyped JSON trees; the assertions pin their shape. */
import * as assert from 'node:assert/strict';
import {
  SecureWorkload,
  validateSecureWorkloadArgs,
  type SecureWorkloadArgs,
} from '../../components/workload/secure-workload';
import { inputErrors, installRecordingMocks, recordedResource, resetRecorded, settle } from './support/mocks';

const IMAGE = `ghcr.io/acme/shop/api@sha256:${'d'.repeat(64)}`;
const ARGS: SecureWorkloadArgs = { namespace: 'shop', image: IMAGE };

describe('SecureWorkload component', () => {
  before(installRecordingMocks);
  beforeEach(resetRecorded);

  it('sends a digest-pinned Deployment under restricted Pod Security with SA, SPIFFE CSI volume and PDB', async () => {
    const w = new SecureWorkload('api', { ...ARGS, containerPort: 8080 });
    await settle(w.deployment.urn, w.serviceAccount.urn, w.podDisruptionBudget.urn);
    const d = recordedResource('kubernetes:apps/v1:Deployment', 'api').inputs as any;
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.image, IMAGE);
    assert.equal(d.spec.replicas, 2);
    assert.equal(pod.serviceAccountName, 'api');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(c.securityContext, {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(
      pod.volumes.find((v: any) => v.name === 'spiffe-workload-api'),
      {
        name: 'spiffe-workload-api',
        csi: { driver: 'csi.spiffe.io', readOnly: true },
      },
    );
    assert.ok(
      c.env.some(
        (e: any) =>
          e.name === 'SPIFFE_ENDPOINT_SOCKET' && e.value === 'unix:///spiffe-workload-api/spire-agent.sock',
      ),
    );
    assert.equal(pod.nodeSelector, undefined, 'not confidential unless asked');
    assert.equal(d.spec.template.metadata.labels['trustops.dev/confidential'], undefined);
    const sa = recordedResource('kubernetes:core/v1:ServiceAccount', 'api').inputs as any;
    assert.equal(sa.metadata.namespace, 'shop');
    assert.equal(sa.automountServiceAccountToken, false);
    const pdb = recordedResource('kubernetes:policy/v1:PodDisruptionBudget', 'api').inputs as any;
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
  });

  it('schedules onto confidential pools when asked', async () => {
    const w = new SecureWorkload('enclave', { ...ARGS, confidential: true, spiffe: false, replicas: 3 });
    await settle(w.deployment.urn);
    const pod = (recordedResource('kubernetes:apps/v1:Deployment', 'enclave').inputs as any).spec.template
      .spec;
    assert.deepEqual(pod.nodeSelector, { 'trustops.dev/confidential-node': 'true' });
    const d = recordedResource('kubernetes:apps/v1:Deployment', 'enclave').inputs as any;
    assert.equal(d.spec.template.metadata.labels['trustops.dev/confidential'], 'true');
    assert.deepEqual(d.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'enclave' });
    assert.deepEqual(pod.tolerations, [
      { key: 'trustops.dev/confidential-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
    ]);
    assert.ok(!pod.volumes.some((v: any) => v.csi));
  });

  it('rejects tag-only images, root, system namespaces and stray security settings, all at once', () => {
    const errors = inputErrors(() =>
      validateSecureWorkloadArgs('api', {
        namespace: 'kube-system',
        image: 'ghcr.io/acme/shop/api:1.0',
        replicas: 2,
        minAvailable: 2,
        runAsUser: 0,
        containerPort: 80,
        env: { SPIFFE_ENDPOINT_SOCKET: 'x', 'bad-name': 'y' },
        securityContext: { privileged: true },
        hostNetwork: true,
      } as unknown as SecureWorkloadArgs),
    );
    assert.deepEqual(errors.map((e) => e.propertyPath).sort(), [
      'containerPort',
      'env.SPIFFE_ENDPOINT_SOCKET',
      'env.bad-name',
      'hostNetwork',
      'image',
      'minAvailable',
      'namespace',
      'runAsUser',
      'securityContext',
    ]);
    for (const image of [
      `ghcr.io/acme/api@sha256:${'d'.repeat(63)}`,
      `ghcr.io/acme/api@sha512:${'d'.repeat(64)}`,
      'api',
      '',
    ]) {
      assert.deepEqual(
        inputErrors(() => validateSecureWorkloadArgs('api', { ...ARGS, image })).map((e) => e.propertyPath),
        ['image'],
      );
    }
  });
});
