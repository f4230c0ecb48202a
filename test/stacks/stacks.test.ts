import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PreviewError } from '../../cli/preview/errors';
import { programFromMain } from '../../cli/preview/program';
import { recordProgram, type ProgramRecording } from '../../cli/preview/record';
import { UNKNOWN_VALUE, type RecordedResource } from '../../cli/preview/recorded-resource';
import { loadStackSettings } from '../../cli/preview/stack-config';
import { loadTrustPolicyFile } from '../../policy-pack/supply-chain/trust-policy';
import { layerOf } from '../../stacks/layers';
import { trustPolicyFromPackConfig } from '../../stacks/trust-policy';

const REPO = path.resolve(__dirname, '..', '..');

async function record(stack: string, overrides: Record<string, string> = {}): Promise<ProgramRecording> {
  const settings = loadStackSettings(REPO, stack);
  return recordProgram({
    project: settings.project,
    stack,
    config: { ...settings.config, ...overrides },
    program: programFromMain(settings.main),
  });
}

function only(recording: ProgramRecording, type: string): RecordedResource[] {
  return recording.resources.filter((r) => r.type === type);
}

describe('example stacks (Pulumi.yaml + Pulumi.<stack>.yaml, recorded in process)', () => {
  it('maps stack names to layers', () => {
    assert.equal(layerOf('platform-example'), 'platform');
    assert.equal(layerOf('apps-prod'), 'apps');
    assert.equal(layerOf('demo'), undefined);
    assert.equal(layerOf('platformish'), undefined);
  });

  it('reads project defaults and stack values with namespaces, structured values as JSON', () => {
    const s = loadStackSettings(REPO, 'platform-example');
    assert.equal(s.project, 'trustops');
    assert.equal(s.main, path.join(REPO, 'index.ts'));
    assert.equal(s.config['gcp:project'], 'acme-platform-example');
    assert.deepEqual(JSON.parse(s.config['trustops:nodePools'] ?? 'null'), [
      { name: 'confidential-tdx', technology: 'TDX' },
    ]);
  });

  it('refuses a stack without a config file', () => {
    assert.throws(
      () => loadStackSettings(REPO, 'platform-nowhere'),
      (e: unknown) => e instanceof PreviewError && e.code === 'STACK_UNKNOWN',
    );
  });

  describe('platform-example', () => {
    let rec: ProgramRecording;
    before(async () => {
      rec = await record('platform-example');
    });

    it('registers the stack root first and every component under it', () => {
      assert.equal(rec.resources[0]?.type, 'pulumi:pulumi:Stack');
      const root = rec.resources[0]!.urn;
      for (const type of [
        'trustops:gke:ConfidentialCluster',
        'trustops:gke:ConfidentialNodePool',
        'trustops:spire:Spire',
        'trustops:kyverno:Kyverno',
      ]) {
        const [component] = only(rec, type);
        assert.ok(component, `${type} registered`);
        assert.equal(component.parent, root);
        assert.equal(component.custom, false);
      }
    });

    it('sends the confidential node pool with its inputs, parent and default gcp provider configured from the stack', () => {
      const [pool] = only(rec, 'gcp:container/nodePool:NodePool');
      assert.ok(pool);
      assert.match(pool.urn, /ConfidentialNodePool\$gcp:container\/nodePool:NodePool::confidential-tdx$/);
      const nodeConfig = pool.properties['nodeConfig'] as Record<string, unknown>;
      assert.deepEqual(nodeConfig['confidentialNodes'], { enabled: true, confidentialInstanceType: 'TDX' });
      assert.equal(pool.provider?.type, 'pulumi:providers:gcp');
      assert.equal(pool.provider?.properties['project'], 'acme-platform-example');
      assert.equal(pool.provider?.properties['region'], 'europe-west4');
      // The default provider is announced before its first user, as the engine does.
      const providerIndex = rec.resources.findIndex((r) => r.urn === pool.provider?.urn);
      assert.ok(providerIndex >= 0 && providerIndex < rec.resources.indexOf(pool));
    });

    it('keeps provider-computed values unknown, as a preview sees them', () => {
      const [k8sProvider] = only(rec, 'pulumi:providers:kubernetes');
      assert.equal(k8sProvider?.properties['kubeconfig'], UNKNOWN_VALUE);
      assert.ok(rec.unknownValues > 0);
      const [cluster] = only(rec, 'gcp:container/cluster:Cluster');
      assert.ok(cluster && k8sProvider?.dependencies.includes(cluster.urn));
    });

    it('reaches the control plane through its DNS endpoint, enforces a managed Binary Authorization policy, opens webhooks to the pools only', () => {
      const [cluster] = only(rec, 'gcp:container/cluster:Cluster');
      assert.ok(cluster);
      assert.deepEqual(cluster.properties['controlPlaneEndpointsConfig'], {
        dnsEndpointConfig: { allowExternalTraffic: true },
        ipEndpointsConfig: { enabled: false },
      });
      assert.equal(cluster.properties['masterAuthorizedNetworksConfig'], undefined);
      const [policy] = only(rec, 'gcp:binaryauthorization/policy:Policy');
      assert.ok(policy, 'the project policy is managed by the stack');
      assert.equal(policy.properties['project'], 'acme-platform-example');
      assert.deepEqual(policy.properties['defaultAdmissionRule'], {
        evaluationMode: 'REQUIRE_ATTESTATION',
        enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
        requireAttestationsBies: ['projects/acme-platform-example/attestors/release'],
      });
      const [firewall] = only(rec, 'gcp:compute/firewall:Firewall');
      const [pool] = only(rec, 'gcp:container/nodePool:NodePool');
      const tags = (firewall?.properties['targetTags'] ?? []) as string[];
      assert.deepEqual(tags, ['platform-example-trustops-nodes']);
      assert.deepEqual((pool?.properties['nodeConfig'] as Record<string, unknown>)['tags'], tags);
      assert.deepEqual(pool?.properties['networkConfig'], { enablePrivateNodes: true });
    });

    it('deploys Kyverno and SPIRE charts through the cluster provider and renders the admission policy', () => {
      const charts = only(rec, 'kubernetes:helm.sh/v4:Chart');
      assert.deepEqual(charts.map((c) => c.name).sort(), ['kyverno', 'spire', 'spire-crds']);
      for (const chart of charts) assert.equal(chart.provider?.name, 'platform-example-k8s');
      const policies = rec.resources.filter((r) => r.type.startsWith('kubernetes:policies.kyverno.io/'));
      assert.ok(policies.length >= 1);
    });

    it('renders Kyverno from the same trust policy as the pack config and the YAML example', () => {
      const fromPackConfig = trustPolicyFromPackConfig(
        path.join(REPO, 'examples', 'policy-pack-config.json'),
        path.join(REPO, 'policy-pack'),
      );
      const fromYaml = loadTrustPolicyFile(path.join(REPO, 'examples', 'trust-policy.yaml'));
      assert.deepEqual(fromPackConfig.images, fromYaml.images);
      assert.deepEqual(fromPackConfig.exemptions, fromYaml.exemptions);
      assert.deepEqual(fromPackConfig.resolvedSigners, fromYaml.resolvedSigners);
    });
  });

  describe('apps-example', () => {
    let rec: ProgramRecording;
    before(async () => {
      rec = await record('apps-example');
    });

    it('reads the platform stack through a StackReference and deploys through its kubeconfig', () => {
      assert.deepEqual(
        rec.reads.map((r) => r.type),
        ['pulumi:pulumi:StackReference'],
      );
      const [provider] = only(rec, 'pulumi:providers:kubernetes');
      assert.equal(provider?.properties['kubeconfig'], UNKNOWN_VALUE);
    });

    it('deploys the workload pinned by digest on confidential nodes', () => {
      const [deployment] = only(rec, 'kubernetes:apps/v1:Deployment');
      assert.ok(deployment);
      const workloads = loadStackSettings(REPO, 'apps-example').config['trustops:workloads'] ?? '[]';
      const [workload] = JSON.parse(workloads) as { image: string }[];
      const spec = (deployment.properties['spec'] as { template: { spec: Record<string, unknown> } }).template
        .spec;
      const containers = spec['containers'] as { image: string }[];
      assert.equal(containers[0]?.image, workload?.image);
      assert.ok(spec['tolerations'], 'confidential workloads tolerate the confidential taint');
      assert.equal(deployment.provider?.name, 'platform');
    });

    it('fails with PROGRAM_FAILED when the config is wrong, naming the problem', async () => {
      await assert.rejects(
        record('apps-example', {
          'trustops:workloads': JSON.stringify([
            { name: 'web', image: 'registry.example.com/acme/web:latest' },
          ]),
        }),
        (e: unknown) => e instanceof PreviewError && e.code === 'PROGRAM_FAILED',
      );
    });
  });

  it('the example pack config is JSON keyed by policy name, holding the trust policy', () => {
    const config = JSON.parse(
      readFileSync(path.join(REPO, 'examples', 'policy-pack-config.json'), 'utf8'),
    ) as Record<string, unknown>;
    assert.ok((config['trusted-images'] as { trustPolicy?: unknown }).trustPolicy);
  });
});
