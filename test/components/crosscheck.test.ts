import * as assert from 'node:assert/strict';
import * as k8s from '@pulumi/kubernetes';
import * as gcp from '@pulumi/gcp';
import { startAnalyzer, type AnalyzerSession, type Diagnostic, type PackConfig } from '../../cli/analyzer';
import { ensurePackBuilt } from '../../cli/preview/pack-build';
import { recordProgram, type ProgramRecording } from '../../cli/preview/record';
import { toResourceInput } from '../../cli/preview/resource-input';
import { ConfidentialCluster } from '../../components/gke/confidential-cluster';
import { ConfidentialNodePool } from '../../components/gke/confidential-node-pool';
import { Kyverno } from '../../components/kyverno/kyverno';
import { Spire } from '../../components/spire/spire';
import { SecureWorkload } from '../../components/workload/secure-workload';
import { parseTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { TrustPolicy } from '../../policy-pack/supply-chain/types';
import { codeOf, PACK_DIR } from '../policy-pack/support/pack';
import { parse as parseYaml } from 'yaml';
import { publish, startWorld, type Published, type World } from '../supply-chain/support/world';
import { KYVERNO_DIGESTS, SPIRE_DIGESTS } from './support/pinned-digests';

/**
 * The components' promise, checked by the pack itself: what a program built from them registers goes,
 * resource by resource and then as a stack, through the real policy pack over the analyzer protocol
 * (recorded by the same engine `trustops preview` uses). The workload image is real: pushed to a real
 * registry with real Sigstore evidence, so trusted-images verifies it rather than being configured away.
 */

const GCP = { project: 'acme-prod', location: 'us-central1' };
const CLUSTER_ARGS = {
  ...GCP,
  binaryAuthorization: {
    policy: 'managed' as const,
    requireAttestationsBy: ['projects/acme-prod/attestors/release'],
  },
};

/** `policy CODE @resource-name`, sorted: what the tests compare exactly. */
async function violations(analyzer: AnalyzerSession, rec: ProgramRecording): Promise<string[]> {
  const nameOf = new Map(rec.resources.map((r) => [r.urn, r.name]));
  const inputs = rec.resources.map(toResourceInput);
  const found: { d: Diagnostic; resource: string }[] = [];
  // Resource diagnostics belong to the resource analysed; stack diagnostics name theirs by URN.
  for (const input of inputs) {
    for (const d of (await analyzer.analyze(input)).diagnostics) found.push({ d, resource: input.name });
  }
  for (const d of (await analyzer.analyzeStack(inputs)).diagnostics) {
    found.push({ d, resource: (d.urn && nameOf.get(d.urn)) ?? 'stack' });
  }
  if (process.env.TRUSTOPS_DEBUG_CROSSCHECK) for (const f of found) console.error(f.resource, f.d.message);
  return found
    .map(({ d, resource }) => `${d.policyName} ${d.enforcementLevel} ${codeOf(d)} @${resource}`)
    .sort();
}

describe('components x policy pack: secure by default, weakened variants caught', function () {
  this.timeout(300_000);
  let world: World;
  let app: Published;
  let trustDoc: TrustPolicy;
  let analyzer: AnalyzerSession;

  before(async () => {
    ensurePackBuilt(PACK_DIR, { build: true });
    // The supply-chain happy path: signature, SBOM, provenance and a 2-of-3 rebuild quorum, signed
    // keyless through the Sigstore mock and with keys, attached as OCI referrers on a real registry.
    world = await startWorld();
    app = await publish(world, 'referrer', undefined, { repo: 'acme/web', tag: 'v1' });
    trustDoc = parseYaml(
      world.policyYaml({ extra: 'trustedRoot: { file: ./trusted_root.json }\n' }),
    ) as TrustPolicy;
    const verification = { trustPolicy: trustDoc, trustPolicyBaseDir: world.dir };
    const config: PackConfig = {
      'trusted-images': { enforcementLevel: 'mandatory', ...verification },
      'images-pinned-by-digest': { enforcementLevel: 'mandatory', ...verification },
      'allowed-registries': {
        enforcementLevel: 'mandatory',
        allowedPrefixes: [`${world.registry.host}/acme`],
      },
    };
    analyzer = await startAnalyzer({
      packDir: PACK_DIR,
      stack: { project: 'trustops', stack: 'crosscheck', dryRun: true },
    });
    await analyzer.configure(config);
  });
  after(async () => {
    await analyzer?.close();
    await world?.stop();
  });

  function record(program: () => void): Promise<ProgramRecording> {
    return recordProgram({
      project: 'trustops',
      stack: 'crosscheck',
      config: { 'gcp:project': GCP.project, 'gcp:region': GCP.location },
      program,
    });
  }

  /** The platform and an app, each from a component with default (secure) settings. */
  function secureProgram(): void {
    const cluster = new ConfidentialCluster('prod', CLUSTER_ARGS);
    new ConfidentialNodePool('tdx', {
      ...GCP,
      cluster: cluster.cluster.name,
      networkTags: [cluster.nodeNetworkTag],
    });
    const onCluster = { providers: [cluster.provider] };
    new Spire(
      'spire',
      { trustDomain: 'prod.acme.example', clusterName: 'prod', imageDigests: SPIRE_DIGESTS },
      onCluster,
    );
    new Kyverno(
      'kyverno',
      {
        trustPolicy: parseTrustPolicy(trustDoc, { baseDir: world.dir }),
        imageDigests: KYVERNO_DIGESTS,
        readinessCheckerTag: 'v0.1.0',
      },
      onCluster,
    );
    new SecureWorkload('web', { namespace: 'shop', image: app.ref, confidential: true }, onCluster);
  }

  it('a program of components with their defaults gets no violation at all', async () => {
    const rec = await record(secureProgram);
    assert.ok(rec.resources.length >= 30, `recorded ${rec.resources.length} resources`);
    // Not vacuous: everything each policy checks is in the recording, with the real image.
    const types = new Set(rec.resources.map((r) => r.type));
    for (const t of [
      'gcp:container/cluster:Cluster',
      'gcp:container/nodePool:NodePool',
      'kubernetes:helm.sh/v4:Chart',
      'kubernetes:policies.kyverno.io/v1:ImageValidatingPolicy',
      'kubernetes:apps/v1:Deployment',
    ]) {
      assert.ok(types.has(t), `${t} recorded`);
    }
    assert.ok(
      JSON.stringify(
        rec.resources.find((r) => r.type === 'kubernetes:apps/v1:Deployment')?.properties,
      ).includes(app.ref),
    );
    assert.deepEqual(await violations(analyzer, rec), []);
  });

  it('Kyverno webhooks cannot outlive a destroy: the chart depends on the adopted webhook configurations', async () => {
    const rec = await record(secureProgram);
    const chart = rec.resources.find((r) => r.type === 'kubernetes:helm.sh/v4:Chart' && r.name === 'kyverno');
    assert.ok(chart);
    const guards = rec.resources.filter((r) =>
      r.type.startsWith('kubernetes:admissionregistration.k8s.io/v1:'),
    );
    assert.equal(guards.length, 10);
    // Pulumi deletes dependents first: the chart (and the controller that recreates webhooks) goes
    // before these configurations, which are then deleted too.
    for (const g of guards)
      assert.ok(chart.dependencies.includes(g.urn), `${g.name} outlives the chart on destroy`);
    for (const p of rec.resources.filter((r) => r.type.startsWith('kubernetes:policies.kyverno.io/'))) {
      assert.ok(
        p.dependencies.includes(chart.urn),
        'policies are applied after Kyverno and removed before it',
      );
    }
    const spireChart = rec.resources.find(
      (r) => r.type === 'kubernetes:helm.sh/v4:Chart' && r.name === 'spire',
    );
    const spireCrds = rec.resources.find(
      (r) => r.type === 'kubernetes:helm.sh/v4:Chart' && r.name === 'spire-crds',
    );
    assert.ok(
      spireChart && spireCrds && spireChart.dependencies.includes(spireCrds.urn),
      'spire-crds before spire',
    );
  });

  it('standard node pool, tag image, Kyverno in Audit: exactly the expected violations', async () => {
    const rec = await record(() => {
      const cluster = new ConfidentialCluster('prod', CLUSTER_ARGS);
      const onCluster = { providers: [cluster.provider] };
      const viaCluster = { provider: cluster.provider };
      // A plain GKE pool instead of ConfidentialNodePool.
      new gcp.container.NodePool('standard', {
        ...GCP,
        cluster: cluster.cluster.name,
        nodeConfig: { machineType: 'e2-standard-4', imageType: 'COS_CONTAINERD' },
      });
      new Spire(
        'spire',
        { trustDomain: 'prod.acme.example', clusterName: 'prod', imageDigests: SPIRE_DIGESTS },
        onCluster,
      );
      // Kyverno installed, but its image-verification policy only audits.
      new k8s.helm.v4.Chart(
        'kyverno',
        {
          chart: 'kyverno',
          version: '3.9.0',
          repositoryOpts: { repo: 'https://kyverno.github.io/kyverno/' },
        },
        viaCluster,
      );
      new k8s.apiextensions.CustomResource(
        'verify-images-audit',
        {
          apiVersion: 'kyverno.io/v1',
          kind: 'ClusterPolicy',
          metadata: { name: 'verify-images' },
          spec: {
            failurePolicy: 'Fail',
            rules: [
              {
                name: 'verify',
                match: { any: [{ resources: { kinds: ['Pod'] } }] },
                verifyImages: [
                  {
                    imageReferences: [`${world.registry.host}/acme/*`],
                    failureAction: 'Audit',
                    attestors: [{ entries: [{ keys: { publicKeys: world.keys.ops.publicKeyPem } }] }],
                  },
                ],
              },
            ],
          },
        },
        viaCluster,
      );
      // The app by tag, not digest (SecureWorkload refuses that, so a plain Deployment).
      new k8s.apps.v1.Deployment(
        'web',
        {
          metadata: { namespace: 'shop' },
          spec: {
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels: { app: 'web' } },
              spec: { containers: [{ name: 'web', image: app.tagRef }] },
            },
          },
        },
        viaCluster,
      );
    });
    // Each weakening is caught on its own resource, and nothing else in the program is flagged. The tag
    // resolves to the signed digest, so trusted-images passes and only the missing pin is reported.
    assert.deepEqual(await violations(analyzer, rec), [
      'admission-control-enforced mandatory ADMISSION_CONTROL_MISSING @prod',
      'gke-confidential-nodes mandatory CONFIDENTIAL_TYPE_NOT_ALLOWED @standard',
      'gke-confidential-nodes mandatory SETTING_REQUIRED @standard',
      'gke-confidential-nodes mandatory SETTING_REQUIRED @standard',
      'gke-confidential-nodes mandatory SETTING_REQUIRED @standard',
      'gke-confidential-nodes mandatory SETTING_REQUIRED @standard',
      'images-pinned-by-digest mandatory NOT_PINNED @web',
    ]);
  });

  it('Kyverno enforcing a policy that names no signer: admission control is missing, nothing else', async () => {
    const rec = await record(() => {
      const cluster = new ConfidentialCluster('prod', CLUSTER_ARGS);
      const onCluster = { providers: [cluster.provider] };
      const viaCluster = { provider: cluster.provider };
      new ConfidentialNodePool('tdx', {
        ...GCP,
        cluster: cluster.cluster.name,
        networkTags: [cluster.nodeNetworkTag],
      });
      new Spire(
        'spire',
        { trustDomain: 'prod.acme.example', clusterName: 'prod', imageDigests: SPIRE_DIGESTS },
        onCluster,
      );
      new k8s.helm.v4.Chart(
        'kyverno',
        {
          chart: 'kyverno',
          version: '3.9.0',
          repositoryOpts: { repo: 'https://kyverno.github.io/kyverno/' },
        },
        viaCluster,
      );
      // Enforce, failurePolicy Fail, Pods matched: but no attestor, so every image passes unverified.
      new k8s.apiextensions.CustomResource(
        'verify-nothing',
        {
          apiVersion: 'kyverno.io/v1',
          kind: 'ClusterPolicy',
          metadata: { name: 'verify-images' },
          spec: {
            failurePolicy: 'Fail',
            rules: [
              {
                name: 'verify',
                match: { any: [{ resources: { kinds: ['Pod'] } }] },
                verifyImages: [{ imageReferences: ['*'], failureAction: 'Enforce', attestors: [] }],
              },
            ],
          },
        },
        viaCluster,
      );
      new SecureWorkload('web', { namespace: 'shop', image: app.ref, confidential: true }, onCluster);
    });
    assert.deepEqual(await violations(analyzer, rec), [
      'admission-control-enforced mandatory ADMISSION_CONTROL_MISSING @prod',
    ]);
  });
});
