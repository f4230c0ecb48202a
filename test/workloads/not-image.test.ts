import { strict as assert } from 'node:assert';
import { formatPath, scanWorkload, type NotImageProperty } from '../../policy-pack/workloads';

/**
 * An admin may declare a custom resource's `image` property not to be a container image (a VM image).
 * The declaration is exact (type and path), never reaches pod-spec images, and without it the property
 * is verified like any container image.
 */
const INSTANCE = 'kubernetes:compute.gcp.upbound.io/v1beta1:Instance';
const D = `@sha256:${'d'.repeat(64)}`;

function vmInstance(extra: Record<string, unknown> = {}): unknown {
  return {
    spec: {
      forProvider: {
        bootDisk: [
          { initializeParams: [{ image: 'debian-cloud/debian-12' }] },
          { initializeParams: [{ image: { family: 'cos-stable', project: 'cos-cloud' } }] },
        ],
        ...extra,
      },
    },
  };
}

function paths(type: string, props: unknown, rules?: NotImageProperty[]): string[] | undefined {
  return scanWorkload(type, props, { notImageProperties: rules })?.images.map((s) => formatPath(s.path));
}

describe('workloads: custom-resource image properties declared not to be container images', () => {
  const VM_IMAGE = { type: INSTANCE, path: 'spec.forProvider.bootDisk[*].initializeParams[*].image' };

  it('undeclared, a VM image property is checked as a container image (fail closed)', () => {
    assert.deepEqual(paths(INSTANCE, vmInstance()), [
      'spec.forProvider.bootDisk[0].initializeParams[0].image',
      'spec.forProvider.bootDisk[1].initializeParams[0].image',
    ]);
  });

  it('declared with [*] indices, every such property is skipped, and the resource is not a workload', () => {
    assert.equal(scanWorkload(INSTANCE, vmInstance(), { notImageProperties: [VM_IMAGE] }), undefined);
  });

  it('an exact path skips that property only', () => {
    const exact = { type: INSTANCE, path: 'spec.forProvider.bootDisk[0].initializeParams[0].image' };
    assert.deepEqual(paths(INSTANCE, vmInstance(), [exact]), [
      'spec.forProvider.bootDisk[1].initializeParams[0].image',
    ]);
  });

  it('applies to its exact type only, and to no other image property of that type', () => {
    const other = 'kubernetes:compute.gcp.upbound.io/v1beta2:Instance';
    assert.equal(paths(other, vmInstance(), [VM_IMAGE])?.length, 2);
    const withSidecar = vmInstance({ agent: { image: `evil.example/agent${D}` } });
    assert.deepEqual(paths(INSTANCE, withSidecar, [VM_IMAGE]), ['spec.forProvider.agent.image']);
  });

  it('never hides a pod-spec image, even when the declared path names one', () => {
    const withPod = {
      spec: { template: { spec: { containers: [{ name: 'app', image: `evil.example/app${D}` }] } } },
    };
    const rule = { type: INSTANCE, path: 'spec.template.spec.containers[*].image' };
    assert.deepEqual(paths(INSTANCE, withPod, [rule]), ['spec.template.spec.containers[0].image']);
  });

  it('does nothing for built-in kinds, whose images are pod-spec images', () => {
    const pod = { spec: { containers: [{ name: 'app', image: `evil.example/app${D}` }] } };
    const rule = { type: 'kubernetes:core/v1:Pod', path: 'spec.containers[*].image' };
    assert.deepEqual(paths('kubernetes:core/v1:Pod', pod, [rule]), ['spec.containers[0].image']);
  });
});
