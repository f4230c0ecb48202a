/* eslint-disable @typescript-eslint/no-explicit-any -- recorded inputs are untyped JSON trees; the assertions pin their shape. */
import * as assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import {
  allRecorded,
  inputErrors,
  installRecordingMocks,
  recordedOfType,
  recordedResource,
  resetRecorded,
  settle,
  valueOf,
} from './support/mocks';
import {
  ConfidentialCluster,
  validateConfidentialClusterArgs,
  type ConfidentialClusterArgs,
} from '../../components/gke/confidential-cluster';
import {
  ConfidentialNodePool,
  NODE_SERVICE_ACCOUNT_ROLES,
  nodeServiceAccountId,
  validateConfidentialNodePoolArgs,
  type ConfidentialNodePoolArgs,
} from '../../components/gke/confidential-node-pool';
import { CONFIDENTIAL_MACHINE_TABLE } from '../../components/gke/confidential-technology';

const POOL: ConfidentialNodePoolArgs = { project: 'test-project', cluster: 'prod', location: 'us-central1' };
const ATTESTOR = 'projects/test-project/attestors/release';
const CLUSTER: ConfidentialClusterArgs = {
  project: 'test-project',
  location: 'us-central1',
  binaryAuthorization: { policy: 'managed', requireAttestationsBy: [ATTESTOR] },
};

describe('ConfidentialNodePool', () => {
  before(installRecordingMocks);
  beforeEach(resetRecorded);

  it('sends a TDX pool on c3-standard-4 with every hardening setting by default', async () => {
    const pool = new ConfidentialNodePool('tdx', POOL);
    await settle(pool.nodePool.id, pool.serviceAccount.email);
    const np = recordedResource('gcp:container/nodePool:NodePool', 'tdx').inputs as Record<string, any>;
    assert.equal(np.cluster, 'prod');
    assert.equal(np.location, 'us-central1');
    assert.deepEqual(np.autoscaling, { minNodeCount: 1, maxNodeCount: 3 });
    // Only the region's zones that offer TDX, never GKE's default spread over the whole region.
    assert.deepEqual(np.nodeLocations, ['us-central1-a', 'us-central1-b', 'us-central1-c']);
    assert.deepEqual(np.management, { autoRepair: true, autoUpgrade: true });
    // Private nodes are a pool setting (GKE deprecates the cluster-wide one).
    assert.deepEqual(np.networkConfig, { enablePrivateNodes: true });
    assert.deepEqual(np.upgradeSettings, { strategy: 'SURGE', maxSurge: 1, maxUnavailable: 0 });
    const nc = np.nodeConfig;
    assert.equal(nc.machineType, 'c3-standard-4');
    assert.deepEqual(nc.confidentialNodes, { enabled: true, confidentialInstanceType: 'TDX' });
    assert.equal(nc.minCpuPlatform, undefined);
    assert.equal(nc.imageType, 'COS_CONTAINERD');
    assert.deepEqual(nc.shieldedInstanceConfig, { enableSecureBoot: true, enableIntegrityMonitoring: true });
    assert.deepEqual(nc.workloadMetadataConfig, { mode: 'GKE_METADATA' });
    assert.equal(nc.serviceAccount, 'tdx-nodes@test-project.iam.gserviceaccount.com');
    assert.deepEqual(nc.oauthScopes, ['https://www.googleapis.com/auth/cloud-platform']);
    assert.deepEqual(nc.labels, { 'trustops.dev/confidential-node': 'true' });
    assert.deepEqual(nc.taints, [
      { key: 'trustops.dev/confidential-node', value: 'true', effect: 'NO_SCHEDULE' },
    ]);
    assert.equal(nc.metadata['disable-legacy-endpoints'], 'true');
    assert.equal(nc.tags, undefined, "no network tag unless the cluster's is given");
    // Dedicated service account: GKE's documented minimum node role plus Artifact Registry pulls only.
    const roles = recordedOfType('gcp:projects/iAMMember:IAMMember').map((r) => r.inputs);
    assert.deepEqual(roles.map((r) => r.role).sort(), [
      'roles/artifactregistry.reader',
      'roles/container.defaultNodeServiceAccount',
    ]);
    assert.deepEqual(roles.map((r) => r.role).sort(), [...NODE_SERVICE_ACCOUNT_ROLES].sort());
    for (const r of roles)
      assert.equal(r.member, 'serviceAccount:tdx-nodes@test-project.iam.gserviceaccount.com');
    assert.ok(!roles.some((r) => /owner|editor|admin/i.test(String(r.role))));
  });

  it('sends SEV_SNP on N2D with the AMD Milan platform and only SEV-SNP zones', async () => {
    const pool = new ConfidentialNodePool('snp', {
      ...POOL,
      technology: 'SEV_SNP',
      nodeLocations: ['us-central1-a', 'us-central1-b'],
      minNodeCount: 2,
      maxNodeCount: 5,
    });
    await settle(pool.nodePool.id);
    const np = recordedResource('gcp:container/nodePool:NodePool', 'snp').inputs as Record<string, any>;
    assert.equal(np.nodeConfig.machineType, 'n2d-standard-4');
    assert.equal(np.nodeConfig.minCpuPlatform, 'AMD Milan');
    assert.deepEqual(np.nodeConfig.confidentialNodes, { enabled: true, confidentialInstanceType: 'SEV_SNP' });
    assert.deepEqual(np.nodeLocations, ['us-central1-a', 'us-central1-b']);
    assert.deepEqual(np.autoscaling, { minNodeCount: 2, maxNodeCount: 5 });
  });

  it('rejects incompatible machine and technology pairs, naming both', () => {
    const tdx = inputErrors(() =>
      validateConfidentialNodePoolArgs({ ...POOL, machineType: 'n2d-standard-4' }),
    );
    assert.equal(tdx.length, 1);
    assert.equal(tdx[0]!.propertyPath, 'machineType');
    assert.match(tdx[0]!.reason, /n2d-standard-4/);
    assert.match(tdx[0]!.reason, /TDX/);
    const snp = inputErrors(() =>
      validateConfidentialNodePoolArgs({ ...POOL, technology: 'SEV_SNP', machineType: 'c3-standard-4' }),
    );
    assert.equal(snp[0]!.propertyPath, 'machineType');
    assert.match(snp[0]!.reason, /c3-standard-4/);
    assert.match(snp[0]!.reason, /SEV_SNP/);
  });

  it('TDX runs on c3-standard-* only: every other C3 shape is refused with its reason and the table source', () => {
    for (const [machineType, why] of [
      ['c3-highcpu-4', /c3-highcpu-\* is refused: GKE runs TDX only on the C3 standard shape/],
      ['c3-highmem-8', /c3-highmem-\* is refused/],
      ['c3-standard-192-metal', /c3-standard-\*-metal is refused: bare-metal/],
      ['c3d-standard-4', /matches none of the shapes that run TDX/],
      ['e2-standard-4', /matches none of the shapes/],
    ] as const) {
      const errors = inputErrors(() => validateConfidentialNodePoolArgs({ ...POOL, machineType }));
      assert.deepEqual(
        errors.map((e) => e.propertyPath),
        ['machineType'],
        machineType,
      );
      assert.match(errors[0]!.reason, why, machineType);
      assert.ok(errors[0]!.reason.startsWith(`${machineType} cannot run TDX`), errors[0]!.reason);
      assert.match(errors[0]!.reason, /c3-standard-\*, c3-standard-\*-lssd/);
      assert.match(errors[0]!.reason, new RegExp(`checked ${CONFIDENTIAL_MACHINE_TABLE.checked}`));
      assert.match(errors[0]!.reason, /Confidential GKE Nodes/);
    }
    assert.doesNotThrow(() => validateConfidentialNodePoolArgs({ ...POOL, machineType: 'c3-standard-88' }));
  });

  it('c3-standard-*-lssd is a TDX shape with no zone checked: refused until zones are added, then placed there', async () => {
    const errors = inputErrors(() =>
      validateConfidentialNodePoolArgs({ ...POOL, machineType: 'c3-standard-8-lssd' }),
    );
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ['location'],
    );
    assert.match(errors[0]!.reason, /no zone of c3-standard-\*-lssd has been checked for TDX/);
    assert.match(errors[0]!.reason, /2026-09-03/);
    assert.match(errors[0]!.reason, /machineTable/);
    // An explicit zone the table does not list is refused too.
    const zone = inputErrors(() =>
      validateConfidentialNodePoolArgs({
        ...POOL,
        machineType: 'c3-standard-8-lssd',
        nodeLocations: ['us-central1-a'],
      }),
    );
    assert.deepEqual(
      zone.map((e) => e.propertyPath),
      ['nodeLocations[0]'],
    );
    // Zones the user verified extend the table; the pool is placed in them only.
    const pool = new ConfidentialNodePool('lssd', {
      ...POOL,
      machineType: 'c3-standard-8-lssd',
      machineTable: [{ technology: 'TDX', machineType: 'c3-standard-*-lssd', zones: ['us-central1-c'] }],
    });
    await settle(pool.nodePool.id);
    const np = recordedResource('gcp:container/nodePool:NodePool', 'lssd').inputs as Record<string, any>;
    assert.deepEqual(np.nodeLocations, ['us-central1-c']);
    assert.equal(np.nodeConfig.machineType, 'c3-standard-8-lssd');
  });

  it('refuses a malformed machine table addition and does not use it', () => {
    const errors = inputErrors(() =>
      validateConfidentialNodePoolArgs({
        ...POOL,
        machineType: 'c3-highcpu-4',
        machineTable: [
          { technology: 'TDX', machineType: 'c3-highcpu-*', zones: ['not a zone'] },
          { technology: 'TDZ' as never, machineType: 'C3 Standard', zones: [] },
        ],
      }),
    );
    assert.deepEqual(errors.map((e) => e.propertyPath).sort(), [
      'machineTable[0].zones[0]',
      'machineTable[1].machineType',
      'machineTable[1].technology',
      'machineTable[1].zones',
      'machineType',
    ]);
  });

  it('refuses SEV (no integrity protection) and names why', () => {
    const errors = inputErrors(() =>
      validateConfidentialNodePoolArgs({ ...POOL, technology: 'SEV' as never }),
    );
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ['technology'],
    );
    assert.match(errors[0]!.reason, /integrity/);
  });

  it("tags the nodes with the cluster's network tag and refuses a malformed tag", async () => {
    const pool = new ConfidentialNodePool('tagged', { ...POOL, networkTags: ['prod-trustops-nodes'] });
    await settle(pool.nodePool.id);
    const np = recordedResource('gcp:container/nodePool:NodePool', 'tagged').inputs as Record<string, any>;
    assert.deepEqual(np.nodeConfig.tags, ['prod-trustops-nodes']);
    const errors = inputErrors(() =>
      validateConfidentialNodePoolArgs({ ...POOL, networkTags: ['Prod_Nodes'] }),
    );
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ['networkTags[0]'],
    );
    const stray = inputErrors(() =>
      validateConfidentialNodePoolArgs({
        ...POOL,
        networkConfig: { enablePrivateNodes: false },
      } as unknown as ConfidentialNodePoolArgs),
    );
    assert.deepEqual(
      stray.map((e) => e.propertyPath),
      ['networkConfig'],
    );
  });

  it('collects every problem into one InputPropertiesError and registers nothing', () => {
    const args = {
      ...POOL,
      technology: 'SEV_SNP',
      machineType: 'e2-standard-4',
      nodeLocations: ['us-central1-a', 'antarctica-south1-a'],
      minNodeCount: 4,
      maxNodeCount: 2,
      maxSurge: 0,
      maxUnavailable: 0,
      diskSizeGb: 5,
      labels: { 'trustops.dev/confidential-node': 'false' },
      // Stray settings from a plain node pool that would weaken it:
      confidentialNodes: { enabled: false },
      shieldedInstanceConfig: { enableSecureBoot: false },
      workloadMetadataConfig: { mode: 'GCE_METADATA' },
    } as unknown as ConfidentialNodePoolArgs;
    let thrown: unknown;
    try {
      new ConfidentialNodePool('bad', args);
    } catch (e) {
      thrown = e;
    }
    assert.ok(pulumi.InputPropertiesError.isInstance(thrown));
    const paths = (thrown as pulumi.InputPropertiesError).errors.map((e) => e.propertyPath).sort();
    assert.deepEqual(paths, [
      'confidentialNodes',
      'diskSizeGb',
      'labels.trustops.dev/confidential-node',
      'machineType',
      'maxNodeCount',
      'maxSurge',
      // No zone is checked against a machine no shape matches: the machine type is the problem.
      'shieldedInstanceConfig',
      'workloadMetadataConfig',
    ]);
    assert.equal(recordedOfType('gcp:container/nodePool:NodePool').length, 0);
  });

  it('rejects an unknown technology and an empty zone list', () => {
    const errors = inputErrors(() =>
      validateConfidentialNodePoolArgs({ ...POOL, technology: 'SEV' as never, nodeLocations: [] }),
    );
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ['technology'],
    );
    const empty = inputErrors(() => validateConfidentialNodePoolArgs({ ...POOL, nodeLocations: [] }));
    assert.deepEqual(
      empty.map((e) => e.propertyPath),
      ['nodeLocations'],
    );
  });
});

describe('ConfidentialCluster', () => {
  before(installRecordingMocks);
  beforeEach(resetRecorded);

  it('sends a hardened GKE Standard cluster reachable through its IAM-guarded DNS endpoint', async () => {
    const c = new ConfidentialCluster('prod', { ...CLUSTER, network: 'vpc' });
    const kubeconfig = await valueOf(c.kubeconfig);
    await settle(c.cluster.id, c.webhookFirewall.id, c.provider.id);
    const cl = recordedResource('gcp:container/cluster:Cluster', 'prod').inputs as Record<string, any>;
    assert.equal(cl.removeDefaultNodePool, true);
    // The DNS endpoint takes user traffic; the IP endpoints are off; no VPC-peering control-plane range.
    assert.deepEqual(cl.controlPlaneEndpointsConfig, {
      dnsEndpointConfig: { allowExternalTraffic: true },
      ipEndpointsConfig: { enabled: false },
    });
    assert.deepEqual(cl.privateClusterConfig, { enablePrivateNodes: true });
    assert.equal(cl.masterAuthorizedNetworksConfig, undefined);
    assert.deepEqual(cl.masterAuth, { clientCertificateConfig: { issueClientCertificate: false } });
    assert.deepEqual(cl.anonymousAuthenticationConfig, { mode: 'LIMITED' });
    assert.deepEqual(cl.workloadIdentityConfig, { workloadPool: 'test-project.svc.id.goog' });
    assert.deepEqual(cl.binaryAuthorization, { evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE' });
    assert.deepEqual(cl.releaseChannel, { channel: 'REGULAR' });
    assert.equal(cl.datapathProvider, 'ADVANCED_DATAPATH');
    assert.equal(cl.enableShieldedNodes, true);
    assert.equal(cl.deletionProtection, true);
    assert.equal(cl.enableLegacyAbac, false);
    assert.deepEqual(cl.databaseEncryption, { state: 'DECRYPTED' });
    assert.equal(recordedOfType('gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember').length, 0);
    // The kubeconfig names the DNS endpoint (publicly trusted certificate: no CA) and the exec plugin.
    const kc = JSON.parse(kubeconfig) as Record<string, any>;
    assert.deepEqual(kc.clusters[0].cluster, { server: 'https://gke-prod-0123.us-central1.gke.goog' });
    assert.equal(kc.users[0].user.exec.command, 'gke-gcloud-auth-plugin');
    assert.equal(kc.users[0].user.exec.args, undefined);
    assert.equal(kc.users[0].user.token, undefined);
    const provider = allRecorded().find((r) => r.type === 'pulumi:providers:kubernetes');
    assert.ok(provider, 'a Kubernetes provider is registered');
    assert.equal(provider.inputs.kubeconfig, kubeconfig);
  });

  it("opens tcp 9443 from the control plane to the pools' network tag only", async () => {
    const c = new ConfidentialCluster('prod', { ...CLUSTER, network: 'vpc' });
    await settle(c.cluster.id, c.webhookFirewall.id);
    const fw = recordedResource('gcp:compute/firewall:Firewall', 'prod-webhooks').inputs as Record<
      string,
      any
    >;
    assert.equal(fw.network, 'vpc');
    assert.equal(fw.direction, 'INGRESS');
    assert.deepEqual(fw.sourceRanges, ['10.128.0.2/32']);
    assert.deepEqual(fw.allows, [{ protocol: 'tcp', ports: ['9443'] }]);
    assert.equal(c.nodeNetworkTag, 'prod-trustops-nodes');
    assert.deepEqual(fw.targetTags, ['prod-trustops-nodes']);
    assert.equal(fw.targetServiceAccounts, undefined);
    // Explicit control-plane ranges replace the endpoint address.
    resetRecorded();
    const c2 = new ConfidentialCluster('other', { ...CLUSTER, controlPlaneSourceRanges: ['172.16.0.0/28'] });
    await settle(c2.webhookFirewall.id);
    const fw2 = recordedResource('gcp:compute/firewall:Firewall', 'other-webhooks').inputs as Record<
      string,
      any
    >;
    assert.deepEqual(fw2.sourceRanges, ['172.16.0.0/28']);
  });

  it('manages a Binary Authorization project policy that requires attestations, GKE system images by global policy', async () => {
    const c = new ConfidentialCluster('prod', {
      ...CLUSTER,
      binaryAuthorization: {
        policy: 'managed',
        requireAttestationsBy: [ATTESTOR],
        exemptImages: ['ghcr.io/kyverno/*'],
      },
    });
    await settle(c.cluster.id, c.binaryAuthorizationPolicy!.id);
    const pol = recordedResource('gcp:binaryauthorization/policy:Policy', 'prod-binauthz').inputs as Record<
      string,
      any
    >;
    assert.equal(pol.project, 'test-project');
    assert.equal(pol.globalPolicyEvaluationMode, 'ENABLE');
    assert.deepEqual(pol.defaultAdmissionRule, {
      evaluationMode: 'REQUIRE_ATTESTATION',
      enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
      requireAttestationsBies: [ATTESTOR],
    });
    assert.deepEqual(pol.admissionWhitelistPatterns, [{ namePattern: 'ghcr.io/kyverno/*' }]);
    // Declared external: the cluster enforces the project policy, the component creates none.
    resetRecorded();
    const ext = new ConfidentialCluster('ext', { ...CLUSTER, binaryAuthorization: { policy: 'external' } });
    await settle(ext.cluster.id);
    assert.equal(ext.binaryAuthorizationPolicy, undefined);
    assert.equal(recordedOfType('gcp:binaryauthorization/policy:Policy').length, 0);
  });

  it('never enforces a Binary Authorization mode with nothing behind it', () => {
    const none = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        binaryAuthorization: undefined,
      } as unknown as ConfidentialClusterArgs),
    );
    assert.deepEqual(
      none.map((e) => e.propertyPath),
      ['binaryAuthorization'],
    );
    assert.match(none[0]!.reason, /allows every image/);
    const errors = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        binaryAuthorization: {
          policy: 'managed',
          requireAttestationsBy: [],
          exemptImages: ['*', 'docker.io/library/*x', 'gcr.io'],
        },
      }),
    );
    assert.deepEqual(errors.map((e) => e.propertyPath).sort(), [
      'binaryAuthorization.exemptImages[0]',
      'binaryAuthorization.exemptImages[1]',
      'binaryAuthorization.exemptImages[2]',
      'binaryAuthorization.requireAttestationsBy',
    ]);
    const attestor = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        binaryAuthorization: { policy: 'managed', requireAttestationsBy: ['release'] },
      }),
    );
    assert.deepEqual(
      attestor.map((e) => e.propertyPath),
      ['binaryAuthorization.requireAttestationsBy[0]'],
    );
    const mode = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        binaryAuthorization: { evaluationMode: 'DISABLED' },
      } as unknown as ConfidentialClusterArgs),
    );
    assert.deepEqual(
      mode.map((e) => e.propertyPath),
      ['binaryAuthorization.policy'],
    );
  });

  it('grants the GKE service agent Encrypter/Decrypter on the KMS key before the cluster exists', async () => {
    const key = 'projects/kms-project/locations/us-central1/keyRings/r/cryptoKeys/k';
    const c = new ConfidentialCluster('prod', { ...CLUSTER, databaseEncryptionKey: key });
    await settle(c.cluster.id, c.kmsGrant!.id);
    const cl = recordedResource('gcp:container/cluster:Cluster', 'prod').inputs as Record<string, any>;
    assert.deepEqual(cl.databaseEncryption, { state: 'ENCRYPTED', keyName: key });
    const grant = recordedResource('gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember', 'prod-secrets-key')
      .inputs as Record<string, any>;
    assert.equal(grant.cryptoKeyId, key);
    assert.equal(grant.role, 'roles/cloudkms.cryptoKeyEncrypterDecrypter');
    assert.equal(
      grant.member,
      'serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com',
    );
    // The grant is registered before the cluster (the cluster depends on it).
    const order = allRecorded().map((r) => r.type);
    assert.ok(
      order.indexOf('gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember') <
        order.indexOf('gcp:container/cluster:Cluster'),
    );
  });

  it("refuses a KMS key outside the cluster's location, and a malformed one", () => {
    const elsewhere = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        databaseEncryptionKey: 'projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k',
      }),
    );
    assert.deepEqual(
      elsewhere.map((e) => e.propertyPath),
      ['databaseEncryptionKey'],
    );
    assert.match(elsewhere[0]!.reason, /europe-west4.*us-central1/);
    const global = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        databaseEncryptionKey: 'projects/p/locations/global/keyRings/r/cryptoKeys/k',
      }),
    );
    assert.deepEqual(
      global.map((e) => e.propertyPath),
      ['databaseEncryptionKey'],
    );
  });

  it('IP endpoints only on request: private, or public limited to authorized networks', async () => {
    const c = new ConfidentialCluster('pub', {
      ...CLUSTER,
      ipEndpoint: 'public',
      authorizedNetworks: [{ cidrBlock: '10.10.0.0/16', displayName: 'ops' }],
    });
    await settle(c.cluster.id);
    const cl = recordedResource('gcp:container/cluster:Cluster', 'pub').inputs as Record<string, any>;
    assert.deepEqual(cl.controlPlaneEndpointsConfig.ipEndpointsConfig, { enabled: true });
    assert.deepEqual(cl.privateClusterConfig, { enablePrivateNodes: true });
    assert.deepEqual(cl.masterAuthorizedNetworksConfig, {
      cidrBlocks: [{ cidrBlock: '10.10.0.0/16', displayName: 'ops' }],
      gcpPublicCidrsAccessEnabled: false,
    });
    resetRecorded();
    const p = new ConfidentialCluster('priv', { ...CLUSTER, ipEndpoint: 'private' });
    await settle(p.cluster.id);
    const pcl = recordedResource('gcp:container/cluster:Cluster', 'priv').inputs as Record<string, any>;
    assert.deepEqual(pcl.privateClusterConfig, { enablePrivateNodes: true, enablePrivateEndpoint: true });
    assert.deepEqual(pcl.masterAuthorizedNetworksConfig, {
      cidrBlocks: [],
      gcpPublicCidrsAccessEnabled: false,
    });
  });

  it('CI with only application default credentials: the plugin runs with --use_application_default_credentials', async () => {
    const c = new ConfidentialCluster('ci', { ...CLUSTER, useApplicationDefaultCredentials: true });
    const kc = JSON.parse(await valueOf(c.kubeconfig)) as Record<string, any>;
    assert.deepEqual(kc.users[0].user.exec.args, ['--use_application_default_credentials']);
    assert.equal(kc.users[0].user.exec.interactiveMode, 'Never');
  });

  it('rejects every bad or weakening argument at once', () => {
    const errors = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        location: 'us-central1-a',
        masterIpv4CidrBlock: '172.16.0.0/28',
        privateEndpoint: false,
        authorizedNetworks: [
          { cidrBlock: '0.0.0.0/0', displayName: 'everyone' },
          { cidrBlock: '10.0.0.300/8', displayName: 'typo' },
        ],
        ipEndpoint: 'public',
        releaseChannel: 'UNSPECIFIED' as never,
        databaseEncryptionKey: 'my-key',
        controlPlaneEndpointsConfig: { dnsEndpointConfig: { enableK8sTokensViaDns: true } },
        masterAuth: { clientCertificateConfig: { issueClientCertificate: true } },
        enableShieldedNodes: false,
        deletionProtection: false,
      } as unknown as ConfidentialClusterArgs),
    );
    assert.deepEqual(errors.map((e) => e.propertyPath).sort(), [
      'authorizedNetworks[0].cidrBlock',
      'authorizedNetworks[1].cidrBlock',
      'controlPlaneEndpointsConfig',
      'databaseEncryptionKey',
      'deletionProtection',
      'enableShieldedNodes',
      'location',
      'masterAuth',
      'masterIpv4CidrBlock',
      'privateEndpoint',
      'releaseChannel',
    ]);
  });

  it('refuses a public endpoint without authorized networks, and authorized networks with no IP endpoint', () => {
    const errors = inputErrors(() => validateConfidentialClusterArgs({ ...CLUSTER, ipEndpoint: 'public' }));
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ['ipEndpoint'],
    );
    const stray = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        authorizedNetworks: [{ cidrBlock: '10.0.0.0/8', displayName: 'corp' }],
      }),
    );
    assert.deepEqual(
      stray.map((e) => e.propertyPath),
      ['authorizedNetworks'],
    );
  });
});

describe('nodeServiceAccountId', () => {
  it('always yields an id GCP accepts, derived from the pool name', () => {
    const valid = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
    for (const name of [
      'tdx',
      'a',
      'Confidential_TDX',
      '1-pool',
      'x'.repeat(40),
      'pool-with-a-very-long-name-ending-',
      '--',
    ]) {
      const id = nodeServiceAccountId(name);
      assert.match(id, valid, `${name} -> ${id}`);
      assert.ok(!id.includes('--'), id);
    }
    assert.equal(nodeServiceAccountId('tdx'), 'tdx-nodes');
    assert.equal(nodeServiceAccountId('Confidential_TDX'), 'confidential-tdx-nodes');
  });
});
