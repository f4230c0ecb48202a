import { strict as assert } from 'node:assert';
import {
  isAnalyzerError,
  startAnalyzer,
  UNKNOWN,
  type AnalyzerSession,
  type ResourceInput,
} from '../../cli/analyzer';
import { renderKyvernoPolicies, type KubernetesObject } from '../../components/kyverno/render-policies';
import { loadFixturePolicy } from '../components/support/trust-policy-fixture';
import { DIGEST, PACK_DIR, deployment, messages, summary } from './support/pack';

/**
 * The infrastructure policies through the real protocol. Each starts from a compliant resource (what
 * components/ produces) and changes one thing: exactly one diagnostic, with its code and level.
 */

const NODE_POOL = 'gcp:container/nodePool:NodePool';
const CLUSTER = 'gcp:container/cluster:Cluster';

function nodeConfig(): Record<string, unknown> {
  return {
    machineType: 'c3-standard-4',
    confidentialNodes: { enabled: true, confidentialInstanceType: 'TDX' },
    imageType: 'COS_CONTAINERD',
    shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
    workloadMetadataConfig: { mode: 'GKE_METADATA' },
    taints: [{ key: 'trustops.dev/confidential-node', value: 'true', effect: 'NO_SCHEDULE' }],
  };
}

/** What ConfidentialCluster sends: the DNS endpoint only, private nodes, an enforcing project policy. */
function cluster(): Record<string, unknown> {
  return {
    name: 'platform',
    project: 'acme-prod',
    location: 'us-central1',
    workloadIdentityConfig: { workloadPool: 'acme-prod.svc.id.goog' },
    controlPlaneEndpointsConfig: {
      dnsEndpointConfig: { allowExternalTraffic: true },
      ipEndpointsConfig: { enabled: false },
    },
    privateClusterConfig: { enablePrivateNodes: true },
    binaryAuthorization: { evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE' },
    releaseChannel: { channel: 'REGULAR' },
    enableShieldedNodes: true,
    enableLegacyAbac: false,
    masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
    anonymousAuthenticationConfig: { mode: 'LIMITED' },
    removeDefaultNodePool: true,
    initialNodeCount: 1,
    datapathProvider: 'ADVANCED_DATAPATH',
  };
}

const BINAUTHZ_POLICY = 'gcp:binaryauthorization/policy:Policy';

/** What ConfidentialCluster's managed Binary Authorization policy sends. */
function binauthzPolicy(): Record<string, unknown> {
  return {
    project: 'acme-prod',
    globalPolicyEvaluationMode: 'ENABLE',
    defaultAdmissionRule: {
      evaluationMode: 'REQUIRE_ATTESTATION',
      enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
      requireAttestationsBies: ['projects/acme-prod/attestors/release'],
    },
    admissionWhitelistPatterns: [{ namePattern: 'ghcr.io/kyverno/*' }],
  };
}

type Mutate = (p: Record<string, unknown>) => void;
const set =
  (path: string[], value: unknown): Mutate =>
  (p) => {
    let cur = p;
    for (const k of path.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
    if (value === undefined) delete cur[path[path.length - 1]!];
    else cur[path[path.length - 1]!] = value;
  };

describe('infrastructure policies through the analyzer protocol', function () {
  let analyzer: AnalyzerSession;
  const analyze = (r: ResourceInput): ReturnType<AnalyzerSession['analyze']> => analyzer.analyze(r);

  before(async function () {
    analyzer = await startAnalyzer({ packDir: PACK_DIR });
  });
  after(async function () {
    await analyzer?.close();
  });
  beforeEach(async function () {
    await analyzer.configure({ 'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'] } });
  });

  describe('gke-confidential-nodes', function () {
    const only = ['gke-confidential-nodes'];
    it('passes a TDX pool on C3 with every setting explicit', async function () {
      assert.deepEqual(
        summary(await analyze({ type: NODE_POOL, name: 'tdx', properties: { nodeConfig: nodeConfig() } })),
        [],
      );
    });

    const cases: [string, Mutate, string][] = [
      ['confidential nodes off', set(['confidentialNodes', 'enabled'], false), 'SETTING_REQUIRED'],
      [
        'instance type implicit',
        set(['confidentialNodes', 'confidentialInstanceType'], undefined),
        'CONFIDENTIAL_TYPE_NOT_ALLOWED',
      ],
      [
        'SEV_SNP not allowed by default',
        (n) => {
          set(['confidentialNodes', 'confidentialInstanceType'], 'SEV_SNP')(n);
          set(['machineType'], 'n2d-standard-4')(n);
        },
        'CONFIDENTIAL_TYPE_NOT_ALLOWED',
      ],
      ['TDX on an N2D machine', set(['machineType'], 'n2d-standard-4'), 'MACHINE_TYPE_UNSUPPORTED'],
      [
        'machine type left to the e2-medium default',
        set(['machineType'], undefined),
        'MACHINE_TYPE_UNSUPPORTED',
      ],
      ['secure boot off', set(['shieldedInstanceConfig', 'enableSecureBoot'], false), 'SETTING_REQUIRED'],
      [
        'integrity monitoring unset',
        set(['shieldedInstanceConfig', 'enableIntegrityMonitoring'], undefined),
        'SETTING_REQUIRED',
      ],
      ['Ubuntu image', set(['imageType'], 'UBUNTU_CONTAINERD'), 'SETTING_REQUIRED'],
      ['GCE metadata exposed', set(['workloadMetadataConfig', 'mode'], 'GCE_METADATA'), 'SETTING_REQUIRED'],
    ];
    for (const [what, mutate, code] of cases) {
      it(`blocks a pool with ${what} (${code})`, async function () {
        const nc = nodeConfig();
        mutate(nc);
        const r = await analyze({ type: NODE_POOL, name: 'pool', properties: { nodeConfig: nc } });
        assert.deepEqual(summary(r, only), [`gke-confidential-nodes mandatory ${code}`]);
        assert.match(
          messages(r, 'gke-confidential-nodes')[0]!,
          /pool \(gcp:container\/nodePool:NodePool\): nodeConfig\./,
        );
      });
    }

    it('allows SEV_SNP on N2D when the config allows it, and still checks the machine type', async function () {
      await analyzer.configure({ 'gke-confidential-nodes': { allowedTypes: ['TDX', 'SEV_SNP'] } });
      const nc = nodeConfig();
      set(['confidentialNodes', 'confidentialInstanceType'], 'SEV_SNP')(nc);
      set(['machineType'], 'n2d-standard-4')(nc);
      assert.deepEqual(
        summary(await analyze({ type: NODE_POOL, name: 'snp', properties: { nodeConfig: nc } }), only),
        [],
      );
      set(['machineType'], 'c3-standard-4')(nc);
      assert.deepEqual(
        summary(await analyze({ type: NODE_POOL, name: 'snp', properties: { nodeConfig: nc } }), only),
        ['gke-confidential-nodes mandatory MACHINE_TYPE_UNSUPPORTED'],
      );
    });

    it('a pool without nodeConfig, a cluster default pool and inline pools are all checked', async function () {
      assert.deepEqual(summary(await analyze({ type: NODE_POOL, name: 'bare', properties: {} }), only), [
        'gke-confidential-nodes mandatory SETTING_REQUIRED',
      ]);
      const keepsDefault = { ...cluster(), removeDefaultNodePool: false };
      assert.deepEqual(summary(await analyze({ type: CLUSTER, name: 'c', properties: keepsDefault }), only), [
        'gke-confidential-nodes mandatory SETTING_REQUIRED',
      ]);
      const bad = nodeConfig();
      set(['imageType'], 'COS')(bad);
      const inline = { ...cluster(), nodePools: [{ nodeConfig: nodeConfig() }, { nodeConfig: bad }] };
      const r = await analyze({ type: CLUSTER, name: 'c', properties: inline });
      assert.deepEqual(summary(r, only), ['gke-confidential-nodes mandatory SETTING_REQUIRED']);
      assert.match(messages(r, 'gke-confidential-nodes')[0]!, /nodePools\[1\]\.nodeConfig\.imageType/);
      assert.deepEqual(summary(await analyze({ type: CLUSTER, name: 'c', properties: cluster() }), only), []);
    });

    it('a machine type unknown during preview is advisory', async function () {
      const nc = nodeConfig();
      nc.machineType = UNKNOWN;
      assert.deepEqual(
        summary(await analyze({ type: NODE_POOL, name: 'p', properties: { nodeConfig: nc } }), only),
        ['gke-confidential-nodes advisory VALUE_UNKNOWN'],
      );
    });
  });

  describe('gke-confidential-nodes: the machine table', function () {
    const only = ['gke-confidential-nodes'];
    const pool = (nc: Record<string, unknown>, extra: Record<string, unknown> = {}): ResourceInput => ({
      type: NODE_POOL,
      name: 'pool',
      properties: { nodeConfig: nc, ...extra },
    });
    const withMachine = (machineType: string, type = 'TDX'): Record<string, unknown> => {
      const nc = nodeConfig();
      set(['machineType'], machineType)(nc);
      set(['confidentialNodes', 'confidentialInstanceType'], type)(nc);
      return nc;
    };

    it('refuses every C3 shape but c3-standard-* for TDX, naming the reason and the table source', async function () {
      for (const [machine, why] of [
        ['c3-highcpu-4', /c3-highcpu-\* is refused: GKE runs TDX only on the C3 standard shape/],
        ['c3-highmem-8', /c3-highmem-\* is refused/],
        ['c3-standard-192-metal', /bare-metal C3 shapes are not Confidential VMs/],
      ] as const) {
        const r = await analyze(pool(withMachine(machine)));
        assert.deepEqual(
          summary(r, only),
          ['gke-confidential-nodes mandatory MACHINE_TYPE_UNSUPPORTED'],
          machine,
        );
        const [message] = messages(r, 'gke-confidential-nodes');
        assert.match(message!, why);
        assert.match(message!, /found c3-[a-z0-9-]+ cannot run TDX/);
        assert.match(message!, /checked 2026-12-08/);
        assert.match(message!, /Confidential GKE Nodes/);
      }
      assert.deepEqual(summary(await analyze(pool(withMachine('c3-standard-176'))), only), []);
      assert.deepEqual(summary(await analyze(pool(withMachine('c3-standard-8-lssd'))), only), []);
    });

    it('checks explicit zones against the shape: c3-standard-*-lssd runs in fewer zones, none checked', async function () {
      assert.deepEqual(
        summary(
          await analyze(pool(nodeConfig(), { nodeLocations: ['us-central1-a', 'us-central1-b'] })),
          only,
        ),
        [],
      );
      const off = await analyze(pool(nodeConfig(), { nodeLocations: ['us-central1-a', 'us-west2-a'] }));
      assert.deepEqual(summary(off, only), ['gke-confidential-nodes mandatory ZONE_UNSUPPORTED']);
      assert.match(
        messages(off, 'gke-confidential-nodes')[0]!,
        /nodeLocations: zones: .*zone us-west2-a is not known to run TDX on c3-standard-\*/,
      );
      const lssd = await analyze(
        pool(withMachine('c3-standard-8-lssd'), { nodeLocations: ['us-central1-a'] }),
      );
      assert.deepEqual(summary(lssd, only), ['gke-confidential-nodes mandatory ZONE_UNSUPPORTED']);
      assert.match(
        messages(lssd, 'gke-confidential-nodes')[0]!,
        /no zone of c3-standard-\*-lssd has been checked/,
      );
      // Zones verified by the user extend the table; other zones are still refused.
      await analyzer.configure({
        'gke-confidential-nodes': {
          additionalMachines: [
            { technology: 'TDX', machineType: 'c3-standard-*-lssd', zones: ['us-central1-a'] },
          ],
        },
      });
      assert.deepEqual(
        summary(
          await analyze(pool(withMachine('c3-standard-8-lssd'), { nodeLocations: ['us-central1-a'] })),
          only,
        ),
        [],
      );
      assert.deepEqual(
        summary(
          await analyze(pool(withMachine('c3-standard-8-lssd'), { nodeLocations: ['us-central1-b'] })),
          only,
        ),
        ['gke-confidential-nodes mandatory ZONE_UNSUPPORTED'],
      );
    });

    it('SEV (not SNP) runs on C4D; SEV-SNP does not', async function () {
      await analyzer.configure({ 'gke-confidential-nodes': { allowedTypes: ['SEV', 'SEV_SNP'] } });
      assert.deepEqual(summary(await analyze(pool(withMachine('c4d-standard-8', 'SEV'))), only), []);
      const snp = await analyze(pool(withMachine('c4d-standard-8', 'SEV_SNP')));
      assert.deepEqual(summary(snp, only), ['gke-confidential-nodes mandatory MACHINE_TYPE_UNSUPPORTED']);
      assert.match(
        messages(snp, 'gke-confidential-nodes')[0]!,
        /c4d-standard-\* is refused: C4D runs SEV, not SEV-SNP/,
      );
    });

    it('a malformed table addition is CONFIG_INVALID, never a wider table', async function () {
      await analyzer
        .configure({
          'gke-confidential-nodes': {
            additionalMachines: [{ technology: 'TDX', machineType: 'c3-highcpu-*', zones: ['everywhere'] }],
          },
        })
        .then(
          () => assert.fail('the engine-side schema check should refuse it'),
          (e: unknown) => assert.ok(isAnalyzerError(e, 'INVALID_CONFIG'), String(e)),
        );
    });

    it('the replaced machineSeries setting is refused, not silently ignored', async function () {
      // Refused at Configure by the harness (as by `trustops policy validate`); the real engine passes it
      // through and the pack refuses it at the first Analyze (test/interop/pulumi-analyze.interop.test.ts).
      await analyzer
        .configure({ 'gke-confidential-nodes': { machineSeries: { TDX: ['c3-'] } } as never })
        .then(
          () => assert.fail('an unknown key must be refused'),
          (e: unknown) => {
            assert.ok(isAnalyzerError(e, 'INVALID_CONFIG'), String(e));
            assert.match(String(e), /gke-confidential-nodes\/machineSeries: unknown key/);
          },
        );
    });

    it('Autopilot: no type named runs SEV, which the default (TDX only) does not allow; a named type is checked', async function () {
      const autopilot = (confidentialNodes: Record<string, unknown>): ResourceInput => ({
        type: CLUSTER,
        name: 'ap',
        properties: { name: 'ap', location: 'us-central1', enableAutopilot: true, confidentialNodes },
      });
      const implicit = await analyze(autopilot({ enabled: true }));
      assert.deepEqual(summary(implicit, only), [
        'gke-confidential-nodes mandatory CONFIDENTIAL_TYPE_NOT_ALLOWED',
      ]);
      assert.match(
        messages(implicit, 'gke-confidential-nodes')[0]!,
        /nothing \(Autopilot then runs AMD SEV\)/,
      );
      assert.deepEqual(
        summary(await analyze(autopilot({ enabled: true, confidentialInstanceType: 'TDX' })), only),
        [],
      );
      assert.deepEqual(
        summary(await analyze(autopilot({ enabled: false, confidentialInstanceType: 'TDX' })), only),
        ['gke-confidential-nodes mandatory SETTING_REQUIRED'],
      );
      await analyzer.configure({ 'gke-confidential-nodes': { allowedTypes: ['TDX', 'SEV'] } });
      assert.deepEqual(summary(await analyze(autopilot({ enabled: true })), only), []);
      assert.deepEqual(
        summary(await analyze(autopilot({ enabled: true, confidentialInstanceType: 'SEV_SNP' })), only),
        ['gke-confidential-nodes mandatory CONFIDENTIAL_TYPE_NOT_ALLOWED'],
      );
    });
  });

  describe('gke-cluster-hardened (stack)', function () {
    const only = ['gke-cluster-hardened'];
    const clusterUrn = 'urn:pulumi:dev::trustops::gcp:container/cluster:Cluster::c';
    const stack = (
      c: Record<string, unknown> = cluster(),
      policies: Record<string, unknown>[] = [binauthzPolicy()],
      extra: ResourceInput[] = [],
    ): ResourceInput[] => [
      { type: CLUSTER, name: 'c', urn: clusterUrn, properties: c },
      ...policies.map((properties, i) => ({ type: BINAUTHZ_POLICY, name: `binauthz-${i}`, properties })),
      ...extra,
    ];
    const analyzeStack = (resources: ResourceInput[]): ReturnType<AnalyzerSession['analyzeStack']> =>
      analyzer.analyzeStack(resources);

    it('passes the cluster ConfidentialCluster sends with its managed policy (Dataplane V2 or network policy)', async function () {
      assert.deepEqual(summary(await analyzeStack(stack()), only), []);
      const np = {
        ...cluster(),
        datapathProvider: undefined,
        networkPolicy: { enabled: true, provider: 'CALICO' },
      };
      assert.deepEqual(summary(await analyzeStack(stack(np)), only), []);
      // Provider-computed outputs the verdicts do not read stay unknown in a real preview: no advisory.
      const computed = cluster();
      set(['privateClusterConfig', 'privateEndpoint'], UNKNOWN)(computed);
      set(['endpoint'], UNKNOWN)(computed);
      assert.deepEqual(
        summary(await analyzeStack(stack(computed, [{ ...binauthzPolicy(), etag: UNKNOWN }])), only),
        [],
      );
      // What a verdict reads, unknown, is advisory (checked at update), never a pass.
      const ipUnknown = cluster();
      set(['controlPlaneEndpointsConfig', 'ipEndpointsConfig', 'enabled'], UNKNOWN)(ipUnknown);
      assert.deepEqual(summary(await analyzeStack(stack(ipUnknown)), only), [
        'gke-cluster-hardened advisory VALUE_UNKNOWN',
      ]);
      // A resource policy no longer: a cluster analysed alone gets nothing from it.
      assert.deepEqual(summary(await analyze({ type: CLUSTER, name: 'c', properties: cluster() }), only), []);
    });

    const cases: [string, Mutate][] = [
      ['no Workload Identity', set(['workloadIdentityConfig'], undefined)],
      ['public nodes', set(['privateClusterConfig', 'enablePrivateNodes'], false)],
      ['no release channel', set(['releaseChannel'], undefined)],
      ['release channel UNSPECIFIED', set(['releaseChannel', 'channel'], 'UNSPECIFIED')],
      ['shielded nodes off', set(['enableShieldedNodes'], false)],
      ['legacy ABAC on', set(['enableLegacyAbac'], true)],
      [
        'client certificates issued',
        set(['masterAuth', 'clientCertificateConfig', 'issueClientCertificate'], true),
      ],
      ['anonymous access not limited', set(['anonymousAuthenticationConfig', 'mode'], 'ENABLED')],
      ['anonymous access left at the default', set(['anonymousAuthenticationConfig'], undefined)],
      [
        'a public IP endpoint with no authorized network',
        set(['controlPlaneEndpointsConfig', 'ipEndpointsConfig', 'enabled'], true),
      ],
      [
        'IP endpoints left at the default (on, public) with no authorized network',
        set(['controlPlaneEndpointsConfig'], undefined),
      ],
      [
        'a public IP endpoint authorizing the whole internet',
        (c) => {
          set(['controlPlaneEndpointsConfig', 'ipEndpointsConfig', 'enabled'], true)(c);
          set(['masterAuthorizedNetworksConfig'], { cidrBlocks: [{ cidrBlock: '0.0.0.0/0' }] })(c);
        },
      ],
      [
        'a public IP endpoint open to every Google Cloud address',
        (c) => {
          set(['controlPlaneEndpointsConfig', 'ipEndpointsConfig', 'enabled'], true)(c);
          set(['masterAuthorizedNetworksConfig'], {
            cidrBlocks: [{ cidrBlock: '10.0.0.0/8' }],
            gcpPublicCidrsAccessEnabled: true,
          })(c);
        },
      ],
      [
        'Kubernetes tokens accepted through the DNS endpoint',
        set(['controlPlaneEndpointsConfig', 'dnsEndpointConfig', 'enableK8sTokensViaDns'], true),
      ],
      [
        'Kubernetes certificates accepted through the DNS endpoint',
        set(['controlPlaneEndpointsConfig', 'dnsEndpointConfig', 'enableK8sCertsViaDns'], true),
      ],
      ['default node pool kept', set(['removeDefaultNodePool'], false)],
      ['neither network policy nor Dataplane V2', set(['datapathProvider'], 'LEGACY_DATAPATH')],
    ];
    for (const [what, mutate] of cases) {
      it(`blocks a cluster with ${what}, on the cluster`, async function () {
        const c = cluster();
        mutate(c);
        const r = await analyzeStack(stack(c));
        assert.deepEqual(summary(r, only), ['gke-cluster-hardened mandatory SETTING_REQUIRED']);
        assert.equal(r.diagnostics.find((d) => d.policyName === 'gke-cluster-hardened')?.urn, clusterUrn);
      });
    }

    it('an IP endpoint that is private only, or public to a bounded network, is not open', async function () {
      const privateOnly = cluster();
      set(['controlPlaneEndpointsConfig', 'ipEndpointsConfig', 'enabled'], true)(privateOnly);
      set(['privateClusterConfig', 'enablePrivateEndpoint'], true)(privateOnly);
      assert.deepEqual(summary(await analyzeStack(stack(privateOnly)), only), []);
      const bounded = cluster();
      set(['controlPlaneEndpointsConfig', 'ipEndpointsConfig', 'enabled'], true)(bounded);
      set(['masterAuthorizedNetworksConfig'], {
        cidrBlocks: [{ cidrBlock: '10.10.0.0/16', displayName: 'ops' }],
        gcpPublicCidrsAccessEnabled: false,
      })(bounded);
      assert.deepEqual(summary(await analyzeStack(stack(bounded)), only), []);
    });

    const NOT_ENFORCING = ['gke-cluster-hardened mandatory BINARY_AUTHORIZATION_NOT_ENFORCING'];
    const withRule = (rule: Record<string, unknown>): Record<string, unknown> => ({
      ...binauthzPolicy(),
      defaultAdmissionRule: rule,
    });
    const bnCases: [string, ResourceInput[], RegExp][] = [
      [
        'the enforce mode and no policy at all',
        stack(cluster(), []),
        /no Binary Authorization policy for project acme-prod/,
      ],
      [
        'Binary Authorization disabled',
        stack({ ...cluster(), binaryAuthorization: { evaluationMode: 'DISABLED' } }),
        /found binaryAuthorization\.evaluationMode .*"DISABLED"/,
      ],
      [
        'no binaryAuthorization block',
        stack({ ...cluster(), binaryAuthorization: undefined }),
        /evaluationMode unset/,
      ],
      [
        'a policy that allows every image',
        stack(cluster(), [
          withRule({ evaluationMode: 'ALWAYS_ALLOW', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG' }),
        ]),
        /ALWAYS_ALLOW/,
      ],
      [
        'a policy in dry run',
        stack(cluster(), [
          withRule({
            evaluationMode: 'REQUIRE_ATTESTATION',
            enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY',
            requireAttestationsBies: ['projects/acme-prod/attestors/release'],
          }),
        ]),
        /DRYRUN_AUDIT_LOG_ONLY/,
      ],
      [
        'a policy requiring attestations from nobody',
        stack(cluster(), [
          withRule({
            evaluationMode: 'REQUIRE_ATTESTATION',
            enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
          }),
        ]),
        /no attestor/,
      ],
      [
        'an allowlist pattern exempting every image',
        stack(cluster(), [{ ...binauthzPolicy(), admissionWhitelistPatterns: [{ namePattern: '*' }] }]),
        /exempts every image/,
      ],
      [
        'an allowlist pattern naming no registry path',
        stack(cluster(), [
          { ...binauthzPolicy(), admissionWhitelistPatterns: [{ namePattern: 'docker.io' }] },
        ]),
        /exempts every image/,
      ],
      [
        'a policy for another project only',
        stack(cluster(), [{ ...binauthzPolicy(), project: 'acme-other' }]),
        /no Binary Authorization policy for project acme-prod/,
      ],
      [
        'a cluster-specific rule that allows everything for this cluster',
        stack(cluster(), [
          {
            ...binauthzPolicy(),
            clusterAdmissionRules: [
              {
                cluster: 'us-central1.platform',
                evaluationMode: 'ALWAYS_ALLOW',
                enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
              },
            ],
          },
        ]),
        /clusterAdmissionRules\[us-central1\.platform\] evaluationMode ALWAYS_ALLOW/,
      ],
    ];
    for (const [what, resources, found] of bnCases) {
      it(`no hardened verdict for Binary Authorization with ${what}`, async function () {
        const r = await analyzeStack(resources);
        assert.deepEqual(summary(r, only), NOT_ENFORCING);
        const [message] = messages(r, 'gke-cluster-hardened');
        assert.match(message!, found);
        assert.match(
          message!,
          /c \(gcp:container\/cluster:Cluster\): binaryAuthorization: Binary Authorization: expected PROJECT_SINGLETON_POLICY_ENFORCE/,
        );
      });
    }

    it('an enforced policy that denies, or that allows only another cluster, counts', async function () {
      const deny = withRule({
        evaluationMode: 'ALWAYS_DENY',
        enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
      });
      assert.deepEqual(summary(await analyzeStack(stack(cluster(), [deny])), only), []);
      const otherCluster = {
        ...binauthzPolicy(),
        clusterAdmissionRules: [
          {
            cluster: 'us-central1.sandbox',
            evaluationMode: 'ALWAYS_ALLOW',
            enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
          },
        ],
      };
      assert.deepEqual(summary(await analyzeStack(stack(cluster(), [otherCluster])), only), []);
    });

    it('a project policy declared external in config counts; an undeclared project does not', async function () {
      await analyzer.configure({
        'gke-cluster-hardened': { binaryAuthorization: { externalPolicyProjects: ['acme-prod'] } },
      });
      assert.deepEqual(summary(await analyzeStack(stack(cluster(), [])), only), []);
      await analyzer.configure({
        'gke-cluster-hardened': { binaryAuthorization: { externalPolicyProjects: ['acme-other'] } },
      });
      assert.deepEqual(summary(await analyzeStack(stack(cluster(), [])), only), NOT_ENFORCING);
    });

    it('a policy whose rule is unknown during preview is advisory, never a pass', async function () {
      const unknownRule = { ...binauthzPolicy(), defaultAdmissionRule: UNKNOWN };
      assert.deepEqual(summary(await analyzeStack(stack(cluster(), [unknownRule])), only), [
        'gke-cluster-hardened advisory VALUE_UNKNOWN',
      ]);
    });

    it('node pools in the stack may not opt out of private nodes or turn legacy metadata endpoints back on', async function () {
      const pool = (nodePool: Record<string, unknown>): ResourceInput => ({
        type: NODE_POOL,
        name: 'pool',
        properties: nodePool,
      });
      assert.deepEqual(
        summary(
          await analyzeStack(stack(cluster(), [binauthzPolicy()], [pool({ nodeConfig: nodeConfig() })])),
          only,
        ),
        [],
      );
      const publicPool = pool({ nodeConfig: nodeConfig(), networkConfig: { enablePrivateNodes: false } });
      const r = await analyzeStack(stack(cluster(), [binauthzPolicy()], [publicPool]));
      assert.deepEqual(summary(r, only), ['gke-cluster-hardened mandatory SETTING_REQUIRED']);
      assert.match(
        messages(r, 'gke-cluster-hardened')[0]!,
        /pool \(gcp:container\/nodePool:NodePool\): networkConfig\.enablePrivateNodes/,
      );
      const legacy = pool({
        nodeConfig: { ...nodeConfig(), metadata: { 'disable-legacy-endpoints': 'false' } },
      });
      assert.deepEqual(summary(await analyzeStack(stack(cluster(), [binauthzPolicy()], [legacy])), only), [
        'gke-cluster-hardened mandatory SETTING_REQUIRED',
      ]);
    });

    it('an invalid config is one CONFIG_INVALID diagnostic', async function () {
      await analyzer
        .configure({
          'gke-cluster-hardened': { binaryAuthorization: { externalPolicyProjects: ['Not A Project'] } },
        })
        .then(
          () => assert.fail('the engine-side schema check should refuse it'),
          (e: unknown) => assert.ok(isAnalyzerError(e, 'INVALID_CONFIG'), String(e)),
        );
    });

    it('a downgraded level reports advisory', async function () {
      await analyzer.configure({ 'gke-cluster-hardened': 'advisory' });
      const r = await analyzeStack(stack({ ...cluster(), enableLegacyAbac: true }));
      assert.deepEqual(summary(r, only), ['gke-cluster-hardened advisory SETTING_REQUIRED']);
    });
  });

  describe('confidential-workloads-scheduled', function () {
    const only = ['confidential-workloads-scheduled'];
    const marked = { 'trustops.dev/confidential': 'true' };
    const schedule = {
      nodeSelector: { 'trustops.dev/confidential-node': 'true' },
      tolerations: [
        { key: 'trustops.dev/confidential-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
      ],
    };
    const image = `ghcr.io/acme/app@${DIGEST}`;
    it('passes marked workloads that select and tolerate the pools, and ignores unmarked ones', async function () {
      const ok = deployment([image], { labels: marked, spec: schedule });
      assert.deepEqual(
        summary(await analyze({ type: 'kubernetes:apps/v1:Deployment', name: 'w', properties: ok }), only),
        [],
      );
      const affinity = {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'trustops.dev/confidential-node', operator: 'In', values: ['true'] },
                  ],
                },
              ],
            },
          },
        },
        tolerations: [{ key: 'trustops.dev/confidential-node', operator: 'Exists' }],
      };
      const viaAffinity = deployment([image], { labels: marked, spec: affinity });
      assert.deepEqual(
        summary(
          await analyze({ type: 'kubernetes:apps/v1:Deployment', name: 'w', properties: viaAffinity }),
          only,
        ),
        [],
      );
      const unmarked = deployment([image]);
      assert.deepEqual(
        summary(
          await analyze({ type: 'kubernetes:apps/v1:Deployment', name: 'w', properties: unmarked }),
          only,
        ),
        [],
      );
    });
    it('blocks a marked workload that does not select, or does not tolerate, the pools', async function () {
      const noSelect = deployment([image], { labels: marked, spec: { tolerations: schedule.tolerations } });
      const r1 = await analyze({ type: 'kubernetes:apps/v1:Deployment', name: 'w', properties: noSelect });
      assert.deepEqual(summary(r1, only), [
        'confidential-workloads-scheduled mandatory NOT_SCHEDULED_ON_CONFIDENTIAL_NODES',
      ]);
      assert.match(messages(r1, 'confidential-workloads-scheduled')[0]!, /select confidential nodes/);
      const noTolerate = deployment([image], {
        labels: marked,
        spec: { nodeSelector: schedule.nodeSelector },
      });
      const r2 = await analyze({ type: 'kubernetes:apps/v1:Deployment', name: 'w', properties: noTolerate });
      assert.deepEqual(summary(r2, only), [
        'confidential-workloads-scheduled mandatory NOT_SCHEDULED_ON_CONFIDENTIAL_NODES',
      ]);
      assert.match(messages(r2, 'confidential-workloads-scheduled')[0]!, /tolerate confidential nodes/);
      // One affinity term without the label is an escape hatch: not every term demands confidential nodes.
      const escape = deployment([image], {
        labels: marked,
        spec: {
          tolerations: schedule.tolerations,
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: 'trustops.dev/confidential-node', operator: 'In', values: ['true'] },
                    ],
                  },
                  { matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] },
                ],
              },
            },
          },
        },
      });
      assert.deepEqual(
        summary(
          await analyze({ type: 'kubernetes:apps/v1:Deployment', name: 'w', properties: escape }),
          only,
        ),
        ['confidential-workloads-scheduled mandatory NOT_SCHEDULED_ON_CONFIDENTIAL_NODES'],
      );
    });
  });

  describe('allowed-registries', function () {
    const only = ['allowed-registries'];
    it('allows configured prefixes on path boundaries only', async function () {
      const r = await analyze({
        type: 'kubernetes:core/v1:Pod',
        name: 'p',
        properties: {
          spec: {
            containers: [
              { name: 'ok', image: `ghcr.io/acme/app@${DIGEST}` },
              { name: 'lookalike', image: `ghcr.io/acmecorp/app@${DIGEST}` },
              { name: 'hub', image: 'nginx' },
            ],
            initContainers: [{ name: 'init', image: `ghcr.io/acme/init@${DIGEST}` }],
          },
        },
      });
      assert.deepEqual(summary(r, only), [
        'allowed-registries mandatory REGISTRY_NOT_ALLOWED',
        'allowed-registries mandatory REGISTRY_NOT_ALLOWED',
      ]);
      const m = messages(r, 'allowed-registries').join('\n');
      assert.match(m, /container "lookalike".*found ghcr\.io\/acmecorp\/app/);
      assert.match(m, /container "hub".*found docker\.io\/library\/nginx/);
    });
    it('children of yaml/v2 ConfigFile and helm.sh/v4 Chart are checked like any workload', async function () {
      for (const parentType of ['kubernetes:yaml/v2:ConfigFile', 'kubernetes:helm.sh/v4:Chart']) {
        const parent = `urn:pulumi:dev::trustops::${parentType}::bundle`;
        const r = await analyze({
          type: 'kubernetes:apps/v1:StatefulSet',
          name: 'bundle:default/db',
          parent,
          parentType,
          properties: deployment([`quay.io/other/db@${DIGEST}`]),
        });
        assert.deepEqual(summary(r, only), ['allowed-registries mandatory REGISTRY_NOT_ALLOWED'], parentType);
        assert.match(
          messages(r, 'allowed-registries')[0]!,
          /^\[REGISTRY_NOT_ALLOWED\] bundle:default\/db \(kubernetes:apps\/v1:StatefulSet\)/,
        );
      }
    });
    it('Cloud Run v2 jobs are covered; an invalid reference is IMAGE_INVALID', async function () {
      const r = await analyze({
        type: 'gcp:cloudrunv2/job:Job',
        name: 'j',
        properties: {
          template: { template: { containers: [{ image: 'gcr.io/other/job:1' }, { image: 'UPPER/Case' }] } },
        },
      });
      assert.deepEqual(summary(r, only), [
        'allowed-registries mandatory IMAGE_INVALID',
        'allowed-registries mandatory REGISTRY_NOT_ALLOWED',
      ]);
    });
  });

  describe('admission-control-enforced (stack)', function () {
    const only = ['admission-control-enforced'];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered policies are JSON trees; the cases edit them in place.
    type Json = any;
    const clusterUrn = 'urn:pulumi:dev::trustops::gcp:container/cluster:Cluster::platform';
    const providerUrn = 'urn:pulumi:dev::trustops::pulumi:providers:kubernetes::platform-k8s';
    const provider = { type: 'pulumi:providers:kubernetes', name: 'platform-k8s', urn: providerUrn };
    // What the Kyverno component applies: both kinds, rendered from one trust policy.
    const [renderedIvp, renderedCp] = renderKyvernoPolicies(loadFixturePolicy(), {
      kinds: ['ImageValidatingPolicy', 'ClusterPolicy'],
    }) as [KubernetesObject, KubernetesObject];
    const policyResource = (p: KubernetesObject): ResourceInput => ({
      type: `kubernetes:${p.apiVersion}:${p.kind}`,
      name: 'verify-images',
      provider,
      properties: { apiVersion: p.apiVersion, kind: p.kind, metadata: p.metadata, spec: p.spec },
    });
    const stack = (
      over: { policySpec?: Record<string, unknown>; policy?: KubernetesObject; charts?: string[] } = {},
    ): ResourceInput[] => [
      { type: CLUSTER, name: 'platform', urn: clusterUrn, properties: cluster() },
      // The cluster's Binary Authorization policy, so only admission control is in question here.
      { type: BINAUTHZ_POLICY, name: 'binauthz', properties: binauthzPolicy() },
      {
        type: 'pulumi:providers:kubernetes',
        name: 'platform-k8s',
        urn: providerUrn,
        properties: {},
        dependencies: [clusterUrn],
      },
      ...(over.charts ?? ['oci://ghcr.io/kyverno/charts/kyverno', 'spire']).map((chart, i) => ({
        type: 'kubernetes:helm.sh/v4:Chart',
        name: `chart-${i}`,
        properties: { chart },
        provider,
      })),
      policyResource(
        over.policy ?? (over.policySpec ? { ...renderedCp, spec: over.policySpec } : renderedCp),
      ),
    ];
    /** The rendered ClusterPolicy's spec with `change` applied to a copy. */
    const cpWith = (change: (spec: Json) => void): Record<string, unknown> => {
      const spec = structuredClone(renderedCp.spec) as Json;
      change(spec);
      return spec;
    };
    const ivpWith = (change: (spec: Json) => void): KubernetesObject => {
      const spec = structuredClone(renderedIvp.spec) as Json;
      change(spec);
      return { ...renderedIvp, spec };
    };
    const eachVerify = (spec: Json, f: (v: Json) => void): void => {
      for (const r of spec.rules) for (const v of r.verifyImages ?? []) f(v);
    };
    const keyAttestor = [{ count: 1, entries: [{ keys: { publicKeys: 'PEM' } }] }];

    it('passes a cluster with the Kyverno component policies (either kind) and SPIRE', async function () {
      assert.deepEqual(summary(await analyzer.analyzeStack(stack()), only), []);
      assert.deepEqual(summary(await analyzer.analyzeStack(stack({ policy: renderedIvp })), only), []);
      // A minimal hand-written policy that verifies signatures for Pods in Enforce mode also counts.
      const minimal = {
        failurePolicy: 'Fail',
        rules: [
          {
            name: 'verify',
            match: { any: [{ resources: { kinds: ['Pod'] } }] },
            verifyImages: [{ imageReferences: ['*'], failureAction: 'Enforce', attestors: keyAttestor }],
          },
        ],
      };
      assert.deepEqual(summary(await analyzer.analyzeStack(stack({ policySpec: minimal })), only), []);
    });
    it('a namespace left out of verification counts only once the config allows it', async function () {
      const monitoring = stack({
        policySpec: cpWith((s) => {
          for (const r of s.rules) r.exclude.any[0].resources.namespaces.push('monitoring');
        }),
      });
      assert.deepEqual(summary(await analyzer.analyzeStack(monitoring), only), [
        'admission-control-enforced mandatory ADMISSION_CONTROL_MISSING',
      ]);
      await analyzer.configure({
        'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'] },
        'admission-control-enforced': {
          allowedExcludedNamespaces: [
            'kube-system',
            'kube-public',
            'kube-node-lease',
            'kyverno',
            'monitoring',
          ],
        },
      });
      try {
        assert.deepEqual(summary(await analyzer.analyzeStack(monitoring), only), []);
      } finally {
        await analyzer.configure({ 'allowed-registries': { allowedPrefixes: ['ghcr.io/acme'] } });
      }
    });

    it('blocks each missing piece with its own diagnostic on the cluster', async function () {
      const cases: [ResourceInput[], string][] = [
        [stack({ charts: ['spire'] }), 'Kyverno'],
        [stack({ charts: ['kyverno'] }), 'SPIRE'],
      ];
      for (const [resources, requirement] of cases) {
        const r = await analyzer.analyzeStack(resources);
        assert.deepEqual(
          summary(r, only),
          ['admission-control-enforced mandatory ADMISSION_CONTROL_MISSING'],
          requirement,
        );
        assert.equal(r.diagnostics[0]!.urn, clusterUrn);
        assert.match(
          r.diagnostics[0]!.message,
          new RegExp(`platform \\(gcp:container/cluster:Cluster\\): ${requirement}`),
        );
      }
    });
    it('an admission policy that enforces but verifies nothing, or not for Pods, or not at admission, does not count', async function () {
      const cases: [string, ResourceInput[]][] = [
        ['failurePolicy Ignore', stack({ policySpec: cpWith((s) => (s.failurePolicy = 'Ignore')) })],
        ['failurePolicy unset', stack({ policySpec: cpWith((s) => delete s.failurePolicy) })],
        [
          'validate-only, no verifyImages',
          stack({
            policySpec: cpWith((s) => (s.rules = s.rules.filter((r: Json) => !r.verifyImages))),
          }),
        ],
        [
          'enforcing, verifyImages with no attestors at all',
          stack({
            policySpec: cpWith((s) => eachVerify(s, (v) => (delete v.attestors, delete v.attestations))),
          }),
        ],
        [
          'verifyImages with empty attestors',
          stack({
            policySpec: cpWith((s) => eachVerify(s, (v) => ((v.attestors = []), delete v.attestations))),
          }),
        ],
        [
          'verifyImages with attestor sets without entries',
          stack({
            policySpec: cpWith((s) =>
              eachVerify(s, (v) => {
                v.attestors = [{ count: 1, entries: [] }];
                delete v.attestations;
              }),
            ),
          }),
        ],
        [
          'verifyImages with attestations whose attestors are empty',
          stack({
            policySpec: cpWith((s) =>
              eachVerify(s, (v) => {
                delete v.attestors;
                for (const a of v.attestations ?? []) a.attestors = [];
                v.attestations ??= [{ name: 'sbom', predicateType: 'x', attestors: [] }];
              }),
            ),
          }),
        ],
        [
          'verifyImages with empty imageReferences',
          stack({ policySpec: cpWith((s) => eachVerify(s, (v) => (v.imageReferences = []))) }),
        ],
        [
          'Audit on each entry',
          stack({ policySpec: cpWith((s) => eachVerify(s, (v) => (v.failureAction = 'Audit'))) }),
        ],
        [
          'Audit by the policy-wide default',
          stack({ policySpec: cpWith((s) => eachVerify(s, (v) => delete v.failureAction)) }),
        ],
        [
          'one verifyImages entry in Audit next to enforcing ones',
          stack({ policySpec: cpWith((s) => (s.rules[0].verifyImages[0].failureAction = 'Audit')) }),
        ],
        [
          'an override that audits some namespaces',
          stack({
            policySpec: cpWith(
              (s) => (s.validationFailureActionOverrides = [{ action: 'Audit', namespaces: ['shop'] }]),
            ),
          }),
        ],
        ['admission off (background only)', stack({ policySpec: cpWith((s) => (s.admission = false)) })],
        [
          'verifyImages rules that match Deployments only',
          stack({
            policySpec: cpWith((s) => {
              for (const r of s.rules) r.match = { any: [{ resources: { kinds: ['Deployment'] } }] };
            }),
          }),
        ],
        [
          'verifyImages rules that exclude every Pod',
          stack({
            policySpec: cpWith((s) => {
              for (const r of s.rules) r.exclude = { any: [{ resources: { kinds: ['Pod'] } }] };
            }),
          }),
        ],
        [
          'verifyImages rules that match Pods in one namespace only',
          stack({
            policySpec: cpWith((s) => {
              for (const r of s.rules)
                r.match = { any: [{ resources: { kinds: ['Pod'], namespaces: ['prod'] } }] };
            }),
          }),
        ],
        [
          'verifyImages rules that match Pods by label only',
          stack({
            policySpec: cpWith((s) => {
              for (const r of s.rules)
                r.match = {
                  any: [{ resources: { kinds: ['Pod'], selector: { matchLabels: { verify: 'yes' } } } }],
                };
            }),
          }),
        ],
        [
          'verifyImages rules that exclude an application namespace',
          stack({
            policySpec: cpWith((s) => {
              for (const r of s.rules)
                r.exclude = { any: [{ resources: { namespaces: ['kube-system', 'shop'] } }] };
            }),
          }),
        ],
        [
          'verifyImages rules that exclude Pods by label',
          stack({
            policySpec: cpWith((s) => {
              for (const r of s.rules)
                r.exclude = {
                  any: [{ resources: { selector: { matchLabels: { 'skip-verify': 'true' } } } }],
                };
            }),
          }),
        ],
        [
          'verifyImages rules with a precondition that can skip Pods',
          stack({
            policySpec: cpWith((s) => {
              for (const r of s.rules)
                r.preconditions = {
                  all: [
                    { key: '{{ request.object.metadata.labels.verify }}', operator: 'Equals', value: 'yes' },
                  ],
                };
            }),
          }),
        ],
        [
          'ImageValidatingPolicy that leaves out an application namespace',
          stack({
            policy: ivpWith((s) =>
              s.matchConstraints.namespaceSelector.matchExpressions[0].values.push('shop'),
            ),
          }),
        ],
        [
          'ImageValidatingPolicy for labelled namespaces only',
          stack({
            policy: ivpWith(
              (s) => (s.matchConstraints.namespaceSelector = { matchLabels: { verify: 'yes' } }),
            ),
          }),
        ],
        [
          'ImageValidatingPolicy with an objectSelector',
          stack({
            policy: ivpWith((s) => (s.matchConstraints.objectSelector = { matchLabels: { verify: 'yes' } })),
          }),
        ],
        [
          'ImageValidatingPolicy with matchConditions that can skip Pods',
          stack({
            policy: ivpWith(
              (s) =>
                (s.matchConditions = [
                  {
                    name: 'labelled',
                    expression: "has(object.metadata.labels) && 'verify' in object.metadata.labels",
                  },
                ]),
            ),
          }),
        ],
        [
          'ImageValidatingPolicy in Audit',
          stack({ policy: ivpWith((s) => (s.validationActions = ['Audit'])) }),
        ],
        [
          'ImageValidatingPolicy failurePolicy Ignore',
          stack({ policy: ivpWith((s) => (s.failurePolicy = 'Ignore')) }),
        ],
        ['ImageValidatingPolicy without attestors', stack({ policy: ivpWith((s) => (s.attestors = [])) })],
        [
          'ImageValidatingPolicy whose validations verify nothing',
          stack({
            policy: ivpWith(
              (s) => (s.validations = [{ expression: 'true', message: 'ok', reason: 'Forbidden' }]),
            ),
          }),
        ],
        [
          'ImageValidatingPolicy off at admission',
          stack({ policy: ivpWith((s) => (s.evaluation = { admission: { enabled: false } })) }),
        ],
        [
          'ImageValidatingPolicy for ConfigMaps',
          stack({
            policy: ivpWith((s) => (s.matchConstraints.resourceRules[0].resources = ['configmaps'])),
          }),
        ],
        [
          'ImageValidatingPolicy without matchImageReferences',
          stack({ policy: ivpWith((s) => delete s.matchImageReferences) }),
        ],
      ];
      for (const [name, resources] of cases) {
        const r = await analyzer.analyzeStack(resources);
        assert.deepEqual(
          summary(r, only),
          ['admission-control-enforced mandatory ADMISSION_CONTROL_MISSING'],
          name,
        );
        assert.equal(r.diagnostics[0]!.urn, clusterUrn, name);
        assert.match(
          r.diagnostics[0]!.message,
          /platform \(gcp:container\/cluster:Cluster\): image verification/,
          name,
        );
        assert.match(
          r.diagnostics[0]!.message,
          /verify-images/,
          `${name}: the diagnostic names the policy resource`,
        );
      }
    });
    it('with two clusters, admission control on one does not cover the other', async function () {
      const otherUrn = 'urn:pulumi:dev::trustops::gcp:container/cluster:Cluster::apps';
      const resources = [...stack(), { type: CLUSTER, name: 'apps', urn: otherUrn, properties: cluster() }];
      const r = await analyzer.analyzeStack(resources);
      assert.deepEqual(summary(r, only), [
        'admission-control-enforced mandatory ADMISSION_CONTROL_MISSING',
        'admission-control-enforced mandatory ADMISSION_CONTROL_MISSING',
        'admission-control-enforced mandatory ADMISSION_CONTROL_MISSING',
      ]);
      assert.ok(r.diagnostics.every((d) => d.urn === otherUrn));
    });
  });
});
