import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { UNKNOWN_WIRE_VALUE } from '../../cli/analyzer/wire';
import {
  formatPath,
  opaqueWorkloadReason,
  scanWorkload,
  setAtPath,
  type WorkloadScan,
} from '../../policy-pack/workloads';

const podSpec = (): Record<string, unknown> => ({
  initContainers: [{ name: 'init', image: 'ghcr.io/acme/init@sha256:' + 'a'.repeat(64) }],
  containers: [{ name: 'app', image: 'ghcr.io/acme/app:1' }, { image: 'ghcr.io/acme/side:2' }],
  ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
});

function images(scan: WorkloadScan | undefined): string[] {
  assert.ok(scan, 'expected a workload');
  return scan.images.map(
    (s) =>
      `${s.kind}:${s.container}:${formatPath(s.path)}=${s.image.state === 'known' ? s.image.reference : s.image.state}`,
  );
}

const ALL_THREE = (base: string): string[] => [
  `initContainer:init:${base}.initContainers[0].image=ghcr.io/acme/init@sha256:${'a'.repeat(64)}`,
  `container:app:${base}.containers[0].image=ghcr.io/acme/app:1`,
  `container:#1:${base}.containers[1].image=ghcr.io/acme/side:2`,
  `ephemeralContainer:debug:${base}.ephemeralContainers[0].image=busybox`,
];

describe('workloads: every image reference in a resource', function () {
  const template = { metadata: { labels: { app: 'x' } }, spec: podSpec() };
  const cases: [string, Record<string, unknown>, string][] = [
    ['kubernetes:core/v1:Pod', { spec: podSpec() }, 'spec'],
    ['kubernetes:core/v1:PodTemplate', { template }, 'template.spec'],
    ['kubernetes:apps/v1:Deployment', { spec: { template } }, 'spec.template.spec'],
    ['kubernetes:apps/v1:StatefulSet', { spec: { template } }, 'spec.template.spec'],
    ['kubernetes:apps/v1:DaemonSet', { spec: { template } }, 'spec.template.spec'],
    ['kubernetes:apps/v1:ReplicaSet', { spec: { template } }, 'spec.template.spec'],
    ['kubernetes:core/v1:ReplicationController', { spec: { template } }, 'spec.template.spec'],
    ['kubernetes:batch/v1:Job', { spec: { template } }, 'spec.template.spec'],
    [
      'kubernetes:batch/v1:CronJob',
      { spec: { jobTemplate: { spec: { template } } } },
      'spec.jobTemplate.spec.template.spec',
    ],
    ['kubernetes:apps/v1:DeploymentPatch', { spec: { template } }, 'spec.template.spec'],
    // A custom resource with a pod template (Argo Rollout) is searched.
    ['kubernetes:argoproj.io/v1alpha1:Rollout', { spec: { template } }, 'spec.template.spec'],
  ];
  for (const [type, props, base] of cases) {
    it(`${type}: containers, initContainers and ephemeralContainers at ${base}`, function () {
      const scan = scanWorkload(type, props);
      assert.deepEqual(images(scan).sort(), ALL_THREE(base).sort());
      assert.deepEqual(scan!.problems, []);
      assert.equal(scan!.podSpecs.length, 1);
      assert.equal(scan!.podSpecs[0]!.labels.app, type.endsWith(':Pod') ? undefined : 'x');
    });
  }

  it('built-in list kinds (DeploymentList, PodList, CronJobList) are searched, not skipped as non-workloads', function () {
    const lists: [string, Record<string, unknown>, string][] = [
      [
        'kubernetes:apps/v1:DeploymentList',
        { items: [{ spec: { template } }] },
        'items[0].spec.template.spec',
      ],
      ['kubernetes:core/v1:PodList', { items: [{ spec: podSpec() }] }, 'items[0].spec'],
      [
        'kubernetes:batch/v1:CronJobList',
        { items: [{ spec: { jobTemplate: { spec: { template } } } }] },
        'items[0].spec.jobTemplate.spec.template.spec',
      ],
    ];
    for (const [type, props, base] of lists) {
      assert.deepEqual(images(scanWorkload(type, props)).sort(), ALL_THREE(base).sort(), type);
    }
  });

  it('a core kind created as a CustomResource (type kubernetes:v1:Pod, no group) is read like the built-in one', function () {
    // new k8s.apiextensions.CustomResource(name, { apiVersion: 'v1', kind: 'Pod', ... }) registers
    // the type `kubernetes:v1:Pod`, and the provider creates a Pod from it.
    assert.deepEqual(
      images(scanWorkload('kubernetes:v1:Pod', { spec: podSpec() })).sort(),
      ALL_THREE('spec').sort(),
    );
    assert.deepEqual(
      images(scanWorkload('kubernetes:v1:ReplicationController', { spec: { template } })).sort(),
      ALL_THREE('spec.template.spec').sort(),
    );
    assert.ok(
      scanWorkload('kubernetes:v1:Pod', {})!.problems.length === 1,
      'an unreadable pod spec is a problem',
    );
  });

  it('image volumes (volumes[].image.reference) are images too; other volumes are not', function () {
    const spec = {
      containers: [{ name: 'app', image: 'ghcr.io/acme/app:1' }],
      volumes: [
        { name: 'config', configMap: { name: 'cfg' } },
        { name: 'tools', image: { reference: 'evil.example/tools:latest', pullPolicy: 'Always' } },
        { name: 'later', image: { reference: UNKNOWN_WIRE_VALUE } },
      ],
    };
    assert.deepEqual(
      images(scanWorkload('kubernetes:apps/v1:Deployment', { spec: { template: { spec } } })),
      [
        'container:app:spec.template.spec.containers[0].image=ghcr.io/acme/app:1',
        'imageVolume:tools:spec.template.spec.volumes[1].image.reference=evil.example/tools:latest',
        'imageVolume:later:spec.template.spec.volumes[2].image.reference=unknown',
      ],
    );
  });

  it('Cloud Run v1 service, v2 service, v2 job and worker pool', function () {
    const c = [{ name: 'web', image: 'us-docker.pkg.dev/p/r/web:1' }];
    assert.deepEqual(
      images(scanWorkload('gcp:cloudrun/service:Service', { template: { spec: { containers: c } } })),
      ['container:web:template.spec.containers[0].image=us-docker.pkg.dev/p/r/web:1'],
    );
    assert.deepEqual(
      images(scanWorkload('gcp:cloudrunv2/service:Service', { template: { containers: c } })),
      ['container:web:template.containers[0].image=us-docker.pkg.dev/p/r/web:1'],
    );
    assert.deepEqual(
      images(scanWorkload('gcp:cloudrunv2/job:Job', { template: { template: { containers: c } } })),
      ['container:web:template.template.containers[0].image=us-docker.pkg.dev/p/r/web:1'],
    );
    assert.deepEqual(
      images(scanWorkload('gcp:cloudrunv2/workerPool:WorkerPool', { template: { containers: c } })),
      ['container:web:template.containers[0].image=us-docker.pkg.dev/p/r/web:1'],
    );
  });

  it('non-workloads are not applicable; a helm.sh/v3 Release is opaque', function () {
    assert.equal(scanWorkload('kubernetes:core/v1:ConfigMap', { data: { containers: 'x' } }), undefined);
    assert.equal(scanWorkload('kubernetes:core/v1:Service', { spec: { ports: [] } }), undefined);
    assert.equal(scanWorkload('gcp:storage/bucket:Bucket', { name: 'b' }), undefined);
    assert.equal(scanWorkload('kubernetes:helm.sh/v3:Release', { chart: 'x' }), undefined);
    assert.match(opaqueWorkloadReason('kubernetes:helm.sh/v3:Release') ?? '', /helm\.sh\/v4/);
    assert.equal(opaqueWorkloadReason('kubernetes:helm.sh/v4:Chart'), undefined);
  });

  it('unknown, missing and malformed values are reported with their path, not skipped', function () {
    const scan = scanWorkload('kubernetes:apps/v1:Deployment', {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'a', image: UNKNOWN_WIRE_VALUE },
              { name: 'b' },
              { name: 'c', image: 42 },
              'junk',
            ],
            initContainers: UNKNOWN_WIRE_VALUE,
          },
        },
      },
    });
    assert.deepEqual(images(scan), [
      'container:a:spec.template.spec.containers[0].image=unknown',
      'container:b:spec.template.spec.containers[1].image=missing',
      'container:c:spec.template.spec.containers[2].image=invalid',
    ]);
    assert.deepEqual(
      scan!.problems.map((p) => `${formatPath(p.path)}:${p.state}`),
      ['spec.template.spec.containers[3]:invalid', 'spec.template.spec.initContainers:unknown'],
    );
  });

  it('a workload without a readable pod spec is a problem (fail closed), not an empty workload', function () {
    for (const props of [
      {},
      { spec: 'x' },
      { spec: { template: UNKNOWN_WIRE_VALUE } },
      { spec: { template: { spec: { containers: {} } } } },
    ]) {
      const scan = scanWorkload('kubernetes:apps/v1:Deployment', props);
      assert.ok(scan && scan.problems.length === 1 && scan.images.length === 0, JSON.stringify(props));
    }
  });

  it('never throws on arbitrary JSON, including deep nesting and huge strings', function () {
    const types = [
      'kubernetes:apps/v1:Deployment',
      'kubernetes:core/v1:Pod',
      'kubernetes:example.com/v1:Thing',
      'gcp:cloudrunv2/job:Job',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.jsonValue({ maxDepth: 8 }), (type, value) => {
        const scan = scanWorkload(type, { spec: { template: { spec: value } }, template: value, x: value });
        assert.ok(scan === undefined || Array.isArray(scan.images));
      }),
      { numRuns: 300 },
    );
    let deep: unknown = { containers: [{ image: 'a' }] };
    for (let i = 0; i < 5000; i++) deep = { nested: deep };
    const scan = scanWorkload('kubernetes:example.com/v1:Thing', { spec: deep });
    assert.ok(scan && scan.problems.some((p) => p.expected.includes('nesting')));
    const huge = 'x'.repeat(5_000_000);
    const big = scanWorkload('kubernetes:core/v1:Pod', {
      spec: { containers: [{ name: huge, image: huge }] },
    });
    assert.equal(big!.images[0]!.image.state, 'known');
  });

  it('setAtPath copies along the path and leaves the input untouched', function () {
    const props = { spec: { containers: [{ image: 'a:1' }, { image: 'b:1' }] } };
    const next = setAtPath(
      props,
      ['spec', 'containers', 1, 'image'],
      'b@sha256:' + 'b'.repeat(64),
    ) as typeof props;
    assert.equal(props.spec.containers[1]!.image, 'b:1');
    assert.equal(next.spec.containers[1]!.image, 'b@sha256:' + 'b'.repeat(64));
    assert.equal(next.spec.containers[0], props.spec.containers[0]);
  });
});
