import { strict as assert } from 'node:assert';
import { UNKNOWN_WIRE_VALUE } from '../../cli/analyzer/wire';
import {
  formatPath,
  MAX_SCAN_DEPTH,
  MAX_SCAN_VALUES,
  scanWorkload,
  setAtPath,
  type WorkloadScan,
} from '../../policy-pack/workloads';

/**
 * Custom resources hide images wherever their operator's schema puts them. Each case is a resource an
 * attacker (or a hurried author) could use to get an image to the cluster past the pack: the scan must
 * name every image with its exact path, exactly once, and report what it cannot read.
 */

const D = `@sha256:${'d'.repeat(64)}`;

/** `kind:container:path=reference|state`, the way the tests compare sites. */
function sites(scan: WorkloadScan | undefined): string[] {
  assert.ok(scan, 'expected the resource to be scanned as a workload');
  return scan.images.map(
    (s) =>
      `${s.kind}:${s.container}:${formatPath(s.path)}=${s.image.state === 'known' ? s.image.reference : s.image.state}`,
  );
}

function assertNoDuplicatePaths(scan: WorkloadScan | undefined): void {
  const paths = scan!.images.map((s) => formatPath(s.path));
  assert.deepEqual(paths, [...new Set(paths)], 'an image path is reported twice');
}

/** An Argo template list using every place Argo takes an image. */
function argoTemplates(): unknown[] {
  return [
    { name: 'main', steps: [[{ name: 'b', template: 'build' }], [{ name: 'g', template: 'gen' }]] },
    {
      name: 'build',
      container: { image: `ghcr.io/acme/build${D}`, command: ['make'] },
      initContainers: [{ name: 'fetch', image: 'evil.example/fetch:1' }],
      sidecars: [{ name: 'db', image: 'postgres:16' }],
    },
    { name: 'gen', script: { image: 'python:3.12', source: 'print(1)' } },
    { name: 'set', containerSet: { containers: [{ name: 'a', image: 'alpine:3' }] } },
  ];
}

const ARGO_SITES = (base: string): string[] => [
  `imageProperty:build:${base}.templates[1].container.image=ghcr.io/acme/build${D}`,
  `imageProperty:fetch:${base}.templates[1].initContainers[0].image=evil.example/fetch:1`,
  `imageProperty:db:${base}.templates[1].sidecars[0].image=postgres:16`,
  `imageProperty:gen:${base}.templates[2].script.image=python:3.12`,
  `container:a:${base}.templates[3].containerSet.containers[0].image=alpine:3`,
];

describe('workloads: custom resources are searched for every image', function () {
  it('Argo Workflow: container, script, initContainers, sidecars and containerSet, each once', function () {
    const scan = scanWorkload('kubernetes:argoproj.io/v1alpha1:Workflow', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { generateName: 'ci-' },
      spec: { entrypoint: 'main', templates: argoTemplates() },
    });
    assert.deepEqual(sites(scan).sort(), ARGO_SITES('spec').sort());
    assertNoDuplicatePaths(scan);
    assert.deepEqual(scan!.problems, []);
  });

  it('Argo WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow (spec.workflowSpec)', function () {
    const cases: [string, Record<string, unknown>, string][] = [
      ['kubernetes:argoproj.io/v1alpha1:WorkflowTemplate', { spec: { templates: argoTemplates() } }, 'spec'],
      [
        'kubernetes:argoproj.io/v1alpha1:ClusterWorkflowTemplate',
        { spec: { templates: argoTemplates() } },
        'spec',
      ],
      [
        'kubernetes:argoproj.io/v1alpha1:CronWorkflow',
        { spec: { schedules: ['0 * * * *'], workflowSpec: { templates: argoTemplates() } } },
        'spec.workflowSpec',
      ],
    ];
    for (const [type, props, base] of cases) {
      const scan = scanWorkload(type, props);
      assert.deepEqual(sites(scan).sort(), ARGO_SITES(base).sort(), type);
      assertNoDuplicatePaths(scan);
    }
  });

  it('Tekton Task: steps, sidecars and stepTemplate', function () {
    const scan = scanWorkload('kubernetes:tekton.dev/v1:Task', {
      spec: {
        stepTemplate: { image: 'ghcr.io/acme/base:1', env: [{ name: 'X', value: '1' }] },
        steps: [
          { name: 'compile', image: `ghcr.io/acme/go${D}`, script: 'go build' },
          { name: 'inherits', script: 'echo uses the stepTemplate image' },
        ],
        sidecars: [{ name: 'docker', image: 'docker:dind' }],
      },
    });
    assert.deepEqual(sites(scan).sort(), [
      'imageProperty:compile:spec.steps[0].image=ghcr.io/acme/go' + D,
      'imageProperty:docker:spec.sidecars[0].image=docker:dind',
      'imageProperty:stepTemplate:spec.stepTemplate.image=ghcr.io/acme/base:1',
    ]);
    assert.deepEqual(scan!.problems, []);
  });

  it('Tekton PipelineRun with an embedded pipelineSpec and taskSpec, and a TaskRun with taskSpec', function () {
    const pipelineRun = scanWorkload('kubernetes:tekton.dev/v1:PipelineRun', {
      spec: {
        pipelineSpec: {
          tasks: [
            { name: 'fetch', taskRef: { name: 'git-clone' } },
            {
              name: 'test',
              taskSpec: {
                steps: [{ name: 'unit', image: 'golang:1.23' }],
                sidecars: [{ name: 'redis', image: 'redis:7' }],
              },
            },
          ],
          finally: [{ name: 'notify', taskSpec: { steps: [{ image: 'curlimages/curl:8' }] } }],
        },
      },
    });
    assert.deepEqual(sites(pipelineRun).sort(), [
      'imageProperty:notify:spec.pipelineSpec.finally[0].taskSpec.steps[0].image=curlimages/curl:8',
      'imageProperty:redis:spec.pipelineSpec.tasks[1].taskSpec.sidecars[0].image=redis:7',
      'imageProperty:unit:spec.pipelineSpec.tasks[1].taskSpec.steps[0].image=golang:1.23',
    ]);
    const taskRun = scanWorkload('kubernetes:tekton.dev/v1beta1:TaskRun', {
      spec: { taskSpec: { steps: [{ name: 's', image: 'evil.example/x:1' }] } },
    });
    assert.deepEqual(sites(taskRun), ['imageProperty:s:spec.taskSpec.steps[0].image=evil.example/x:1']);
  });

  it('Knative Service and KEDA ScaledJob: their pod specs are read as pod specs, labels merged', function () {
    const knative = scanWorkload('kubernetes:serving.knative.dev/v1:Service', {
      metadata: { labels: { team: 'a' } },
      spec: {
        template: {
          metadata: { labels: { 'trustops.dev/confidential': 'true' } },
          spec: {
            containers: [{ name: 'user', image: `ghcr.io/acme/web${D}` }],
            initContainers: [{ name: 'migrate', image: 'ghcr.io/acme/migrate:2' }],
          },
        },
      },
    });
    assert.deepEqual(sites(knative), [
      `container:user:spec.template.spec.containers[0].image=ghcr.io/acme/web${D}`,
      'initContainer:migrate:spec.template.spec.initContainers[0].image=ghcr.io/acme/migrate:2',
    ]);
    assert.equal(knative!.podSpecs.length, 1);
    assert.deepEqual(knative!.podSpecs[0]!.labels, { team: 'a', 'trustops.dev/confidential': 'true' });

    const keda = scanWorkload('kubernetes:keda.sh/v1alpha1:ScaledJob', {
      spec: { jobTargetRef: { template: { spec: { containers: [{ name: 'w', image: 'quay.io/x/w:1' }] } } } },
    });
    assert.deepEqual(sites(keda), [
      'container:w:spec.jobTargetRef.template.spec.containers[0].image=quay.io/x/w:1',
    ]);
  });

  it('an operator spec.image, and images the pod-spec reading does not cover inside a pod spec', function () {
    const scan = scanWorkload('kubernetes:monitoring.coreos.com/v1:Prometheus', {
      metadata: { name: 'prom' },
      spec: {
        image: 'quay.io/prometheus/prometheus:v2',
        thanos: { image: 'quay.io/thanos/thanos:v0' },
        containers: [{ name: 'config-reloader', image: 'evil.example/reloader:1', ports: [] }],
        volumes: [{ name: 'tools', image: { reference: 'evil.example/tools:1' } }],
      },
    });
    assert.deepEqual(sites(scan).sort(), [
      'container:config-reloader:spec.containers[0].image=evil.example/reloader:1',
      'imageProperty:spec:spec.image=quay.io/prometheus/prometheus:v2',
      'imageProperty:thanos:spec.thanos.image=quay.io/thanos/thanos:v0',
      'imageVolume:tools:spec.volumes[0].image.reference=evil.example/tools:1',
    ]);
    assertNoDuplicatePaths(scan);
  });

  it('a malformed container image inside a CR pod spec is reported once, by the pod-spec reading', function () {
    const scan = scanWorkload('kubernetes:argoproj.io/v1alpha1:Rollout', {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'a', image: { repository: 'ghcr.io/acme/a', tag: '1' } }],
            volumes: [{ name: 'v', image: { pullPolicy: 'Always' } }],
          },
        },
      },
    });
    assert.deepEqual(sites(scan), [
      'container:a:spec.template.spec.containers[0].image=invalid',
      'imageVolume:v:spec.template.spec.volumes[0].image.reference=missing',
    ]);
  });

  describe('what an `image` property holds', function () {
    const scanImage = (image: unknown): string[] =>
      sites(scanWorkload('kubernetes:example.com/v1:Thing', { spec: { name: 'n', image } }));

    it('an object such as {repository, tag} is INVALID (never assembled), naming its keys', function () {
      for (const image of [
        { repository: 'ghcr.io/acme/app', tag: '1' },
        { registry: 'ghcr.io', repository: 'acme/app', tag: '1', digest: `sha256:${'d'.repeat(64)}` },
        { repository: 'acme/app' },
        {},
        { reference: 'ghcr.io/acme/app:1', registry: 'evil.example' },
      ]) {
        assert.deepEqual(scanImage(image), ['imageProperty:n:spec.image=invalid'], JSON.stringify(image));
      }
      const scan = scanWorkload('kubernetes:example.com/v1:Thing', {
        spec: { image: { repository: 'ghcr.io/acme/app', tag: '1' } },
      });
      const found = scan!.images[0]!.image;
      assert.ok(
        found.state === 'invalid' && found.found.includes('"repository", "tag"'),
        JSON.stringify(found),
      );
    });

    it('{reference} is read at .reference; arrays element by element; null is no image', function () {
      assert.deepEqual(scanImage({ reference: 'ghcr.io/acme/app:1', pullPolicy: 'Always' }), [
        'imageProperty:n:spec.image.reference=ghcr.io/acme/app:1',
      ]);
      assert.deepEqual(scanImage(['a:1', { reference: 'b:1' }, null, { repository: 'c' }, ['d']]), [
        'imageProperty:n:spec.image[0]=a:1',
        'imageProperty:n:spec.image[1].reference=b:1',
        'imageProperty:n:spec.image[3]=invalid',
        'imageProperty:n:spec.image[4]=invalid',
      ]);
      assert.equal(scanWorkload('kubernetes:example.com/v1:Thing', { spec: { image: null } }), undefined);
      assert.deepEqual(scanImage(Array.from({ length: 300 }, () => 'a:1')), [
        'imageProperty:n:spec.image=invalid',
      ]);
    });

    it('empty strings, numbers and booleans are invalid; an unknown is unknown (checked at update)', function () {
      for (const image of ['', '  ', 42, true]) {
        assert.deepEqual(scanImage(image), ['imageProperty:n:spec.image=invalid'], String(image));
      }
      assert.deepEqual(scanImage(UNKNOWN_WIRE_VALUE), ['imageProperty:n:spec.image=unknown']);
      assert.deepEqual(scanImage({ reference: UNKNOWN_WIRE_VALUE }), [
        'imageProperty:n:spec.image.reference=unknown',
      ]);
    });
  });

  it('the container label is the nearest name, else the holder key, else an index', function () {
    const scan = scanWorkload('kubernetes:example.com/v1:Thing', {
      image: 'root:1',
      spec: { jobs: [{ image: 'a:1' }, { name: 'named', nested: { deeper: { image: 'b:1' } } }] },
    });
    assert.deepEqual(sites(scan).sort(), [
      'imageProperty:#0:spec.jobs[0].image=a:1',
      'imageProperty:(resource):image=root:1',
      'imageProperty:named:spec.jobs[1].nested.deeper.image=b:1',
    ]);
  });

  it('a kind with a hyphen (a valid CRD kind) is not skipped', function () {
    assert.deepEqual(sites(scanWorkload('kubernetes:example.com/v1:Build-Job', { spec: { image: 'x:1' } })), [
      'imageProperty:spec:spec.image=x:1',
    ]);
  });

  it('a remediation can pin an image property in place (setAtPath on its path)', function () {
    const props = { spec: { steps: [{ name: 's', image: 'ghcr.io/acme/app:1' }] } };
    const site = scanWorkload('kubernetes:tekton.dev/v1:Task', props)!.images[0]!;
    const next = setAtPath(props, site.path, `ghcr.io/acme/app${D}`) as typeof props;
    assert.equal(next.spec.steps[0]!.image, `ghcr.io/acme/app${D}`);
    assert.equal(props.spec.steps[0]!.image, 'ghcr.io/acme/app:1');
  });

  describe('built-in kinds keep their exact behaviour', function () {
    it('an `image` key in a ConfigMap, Ingress or Secret is data, not an image', function () {
      for (const type of [
        'kubernetes:core/v1:ConfigMap',
        'kubernetes:networking.k8s.io/v1:Ingress',
        'kubernetes:core/v1:Secret',
        'kubernetes:rbac.authorization.k8s.io/v1:Role',
        'kubernetes:v1:ConfigMap',
      ]) {
        assert.equal(scanWorkload(type, { data: { image: 'x:1' }, spec: { image: 'y:1' } }), undefined, type);
      }
    });

    it('a Deployment or PodList reads pod specs only (an annotation named image is not an image)', function () {
      const deployment = scanWorkload('kubernetes:apps/v1:Deployment', {
        metadata: { annotations: { image: 'ignored:1' } },
        spec: { template: { spec: { containers: [{ name: 'a', image: 'a:1' }] } } },
      });
      assert.deepEqual(sites(deployment), ['container:a:spec.template.spec.containers[0].image=a:1']);
      const list = scanWorkload('kubernetes:core/v1:PodList', {
        items: [{ metadata: { image: 'ignored:1' }, spec: { containers: [{ name: 'a', image: 'a:1' }] } }],
      });
      assert.deepEqual(sites(list), ['container:a:items[0].spec.containers[0].image=a:1']);
    });

    it('a group under k8s.io that Kubernetes does not serve (Gateway API, a CRD) is searched as custom', function () {
      assert.deepEqual(
        sites(scanWorkload('kubernetes:gateway.networking.k8s.io/v1:Thing', { spec: { image: 'x:1' } })),
        ['imageProperty:spec:spec.image=x:1'],
      );
    });
  });

  describe('bounds fail closed with a diagnostic that says where', function () {
    it('an image nested deeper than the bound is not silently dropped: one problem names the path', function () {
      let deep: unknown = { image: 'ghcr.io/acme/hidden:1' };
      for (let i = 0; i < MAX_SCAN_DEPTH + 20; i++) deep = { n: deep };
      const scan = scanWorkload('kubernetes:example.com/v1:Thing', {
        spec: { first: { image: 'a:1' }, deep },
      });
      assert.deepEqual(sites(scan), ['imageProperty:first:spec.first.image=a:1']);
      assert.equal(scan!.problems.length, 1);
      const p = scan!.problems[0]!;
      assert.equal(p.state, 'invalid');
      assert.equal(p.path.length, MAX_SCAN_DEPTH);
      assert.deepEqual(p.path.slice(0, 3), ['spec', 'deep', 'n']);
      assert.match(p.expected, new RegExp(`${MAX_SCAN_DEPTH} levels`));
    });

    it('a deep CR without any image is still a problem (its depth alone hides what is below)', function () {
      let deep: unknown = 'leaf';
      for (let i = 0; i < 5000; i++) deep = [deep];
      const scan = scanWorkload('kubernetes:example.com/v1:Thing', { spec: deep });
      assert.ok(scan);
      assert.deepEqual(scan.images, []);
      assert.equal(scan.problems.length, 1);
    });

    it('many too-deep branches give one problem with a count, not one per branch', function () {
      let chain: unknown = { image: 'x:1' };
      for (let i = 0; i < MAX_SCAN_DEPTH; i++) chain = { n: chain };
      const scan = scanWorkload('kubernetes:example.com/v1:Thing', {
        spec: { branches: Array.from({ length: 50 }, () => chain) },
      });
      assert.equal(scan!.problems.length, 1);
      assert.match(scan!.problems[0]!.found, /50 values/);
    });

    it('a huge CR stops at the value bound with a problem; images before it are still reported', function () {
      const scan = scanWorkload('kubernetes:example.com/v1:Thing', {
        a: { image: 'first:1' },
        b: Array.from({ length: MAX_SCAN_VALUES + 10 }, (_, i) => i),
        c: { image: 'never-reached:1' },
      });
      assert.deepEqual(sites(scan), ['imageProperty:a:a.image=first:1']);
      assert.equal(scan!.problems.length, 1);
      assert.equal(scan!.problems[0]!.state, 'invalid');
      assert.match(scan!.problems[0]!.expected, new RegExp(String(MAX_SCAN_VALUES)));
      assert.equal(scan!.problems[0]!.path[0], 'b');
    });
  });
});
