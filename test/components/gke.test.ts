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

const POOL: ConfidentialNodePoolArgs = { project: 'test-project', cluster: 'prod', location: 'us-central1' };
const CLUSTER: ConfidentialClusterArgs = { project: 'test-project', location: 'us-central1' };

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
    // Dedicated service account, least-privilege roles only, bound to that account.
    const roles = recordedOfType('gcp:projects/iAMMember:IAMMember').map((r) => r.inputs);
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
      'nodeLocations[1]',
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

  it('sends a hardened private GKE Standard cluster, the webhook firewall rule and an exec-auth provider', async () => {
    const c = new ConfidentialCluster('prod', {
      ...CLUSTER,
      network: 'vpc',
      authorizedNetworks: [{ cidrBlock: '10.10.0.0/16', displayName: 'ops' }],
      databaseEncryptionKey: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k',
    });
    const kubeconfig = await valueOf(c.kubeconfig);
    await settle(c.cluster.id, c.webhookFirewall.id, c.provider.id);
    const cl = recordedResource('gcp:container/cluster:Cluster', 'prod').inputs as Record<string, any>;
    assert.equal(cl.removeDefaultNodePool, true);
    assert.deepEqual(cl.privateClusterConfig, {
      enablePrivateNodes: true,
      enablePrivateEndpoint: true,
      masterIpv4CidrBlock: '172.16.0.0/28',
    });
    assert.deepEqual(cl.masterAuthorizedNetworksConfig, {
      cidrBlocks: [{ cidrBlock: '10.10.0.0/16', displayName: 'ops' }],
    });
    assert.deepEqual(cl.workloadIdentityConfig, { workloadPool: 'test-project.svc.id.goog' });
    assert.deepEqual(cl.binaryAuthorization, { evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE' });
    assert.deepEqual(cl.releaseChannel, { channel: 'REGULAR' });
    assert.equal(cl.datapathProvider, 'ADVANCED_DATAPATH');
    assert.equal(cl.enableShieldedNodes, true);
    assert.equal(cl.deletionProtection, true);
    assert.equal(cl.enableLegacyAbac, false);
    assert.deepEqual(cl.databaseEncryption, {
      state: 'ENCRYPTED',
      keyName: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k',
    });
    assert.deepEqual(cl.masterAuth, { clientCertificateConfig: { issueClientCertificate: false } });
    const fw = recordedResource('gcp:compute/firewall:Firewall', 'prod-webhooks').inputs as Record<
      string,
      any
    >;
    assert.equal(fw.network, 'vpc');
    assert.equal(fw.direction, 'INGRESS');
    assert.deepEqual(fw.sourceRanges, ['172.16.0.0/28']);
    assert.deepEqual(fw.allows, [{ protocol: 'tcp', ports: ['9443'] }]);
    const kc = JSON.parse(kubeconfig) as Record<string, any>;
    assert.equal(kc.clusters[0].cluster.server, 'https://203.0.113.10');
    assert.equal(kc.clusters[0].cluster['certificate-authority-data'], 'Q0EtREFUQQ==');
    assert.equal(kc.users[0].user.exec.command, 'gke-gcloud-auth-plugin');
    assert.equal(kc.users[0].user.token, undefined);
    const provider = allRecorded().find((r) => r.type === 'pulumi:providers:kubernetes');
    assert.ok(provider, 'a Kubernetes provider is registered');
    assert.equal(provider.inputs.kubeconfig, kubeconfig);
  });

  it('defaults database encryption to Google-managed when no KMS key is given', async () => {
    const c = new ConfidentialCluster('plain', CLUSTER);
    await settle(c.cluster.id);
    const cl = recordedResource('gcp:container/cluster:Cluster', 'plain').inputs as Record<string, any>;
    assert.deepEqual(cl.databaseEncryption, { state: 'DECRYPTED' });
    assert.deepEqual(cl.masterAuthorizedNetworksConfig, { cidrBlocks: [] });
  });

  it('rejects every bad or weakening argument at once', () => {
    const errors = inputErrors(() =>
      validateConfidentialClusterArgs({
        ...CLUSTER,
        location: 'us-central1-a',
        masterIpv4CidrBlock: '172.16.0.0/24',
        authorizedNetworks: [
          { cidrBlock: '0.0.0.0/0', displayName: 'everyone' },
          { cidrBlock: '10.0.0.300/8', displayName: 'typo' },
        ],
        releaseChannel: 'UNSPECIFIED' as never,
        databaseEncryptionKey: 'my-key',
        binaryAuthorization: { evaluationMode: 'DISABLED' },
        enableShieldedNodes: false,
        deletionProtection: false,
      } as unknown as ConfidentialClusterArgs),
    );
    assert.deepEqual(errors.map((e) => e.propertyPath).sort(), [
      'authorizedNetworks[0].cidrBlock',
      'authorizedNetworks[1].cidrBlock',
      'binaryAuthorization',
      'databaseEncryptionKey',
      'deletionProtection',
      'enableShieldedNodes',
      'location',
      'masterIpv4CidrBlock',
      'releaseChannel',
    ]);
  });

  it('refuses a public endpoint without authorized networks', () => {
    const errors = inputErrors(() => validateConfidentialClusterArgs({ ...CLUSTER, privateEndpoint: false }));
    assert.deepEqual(
      errors.map((e) => e.propertyPath),
      ['privateEndpoint'],
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
