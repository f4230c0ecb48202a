import * as assert from 'node:assert/strict';
import { KYVERNO_RELEASE, SPIRE_RELEASE } from '../../components/platform-images';
import * as pulumi from '@pulumi/pulumi';
import {
  validateConfidentialClusterArgs,
  type ConfidentialClusterArgs,
} from '../../components/gke/confidential-cluster';
import {
  validateConfidentialNodePoolArgs,
  type ConfidentialNodePoolArgs,
} from '../../components/gke/confidential-node-pool';
import {
  KYVERNO_IMAGES,
  validateKyvernoArgs,
  type KyvernoArgs,
  type KyvernoImage,
} from '../../components/kyverno/kyverno';
import {
  SPIRE_IMAGES,
  validateSpireArgs,
  type SpireArgs,
  type SpireImage,
} from '../../components/spire/spire';
import {
  validateSecureWorkloadArgs,
  type SecureWorkloadArgs,
} from '../../components/workload/secure-workload';
import { loadFixturePolicy } from './support/trust-policy-fixture';

/**
 * Every validation rule, one at a time: start from valid arguments, change one thing, and the validator
 * must throw pulumi.InputPropertiesError naming exactly that property (and nothing else).
 */

type Case<A> = [description: string, change: (a: A) => A, expectedPath: string];

function table<A>(name: string, valid: () => A, validate: (a: A) => unknown, cases: Case<A>[]): void {
  describe(`${name}: each rule on its own`, () => {
    it('accepts the valid baseline', () => {
      assert.doesNotThrow(() => validate(valid()));
    });
    for (const [description, change, path] of cases) {
      it(`${description} -> ${path}`, () => {
        let thrown: unknown;
        try {
          validate(change(valid()));
        } catch (e) {
          thrown = e;
        }
        assert.ok(
          pulumi.InputPropertiesError.isInstance(thrown),
          `expected InputPropertiesError, got ${String(thrown)}`,
        );
        const errors = (thrown as pulumi.InputPropertiesError).errors;
        assert.deepEqual(
          errors.map((e) => e.propertyPath),
          [path],
          errors.map((e) => `${e.propertyPath}: ${e.reason}`).join('\n'),
        );
        assert.ok(errors[0]!.reason.length > 10, 'the reason says what was expected and found');
      });
    }
  });
}

const stray =
  <A>(key: string, value: unknown) =>
  (a: A): A =>
    ({ ...a, [key]: value }) as A;
const digest = (i: number): string => `sha256:${i.toString(16).padStart(2, '0').repeat(32)}`;

table<ConfidentialNodePoolArgs>(
  'ConfidentialNodePool',
  () => ({ project: 'p', cluster: 'c', location: 'us-central1' }),
  validateConfidentialNodePoolArgs,
  [
    ['unknown technology', (a) => ({ ...a, technology: 'SEV' as never }), 'technology'],
    ['TDX on N2D', (a) => ({ ...a, machineType: 'n2d-standard-8' }), 'machineType'],
    ['TDX on C3 highcpu', (a) => ({ ...a, machineType: 'c3-highcpu-8' }), 'machineType'],
    ['TDX on C3 highmem', (a) => ({ ...a, machineType: 'c3-highmem-8' }), 'machineType'],
    ['TDX on bare-metal C3', (a) => ({ ...a, machineType: 'c3-standard-192-metal' }), 'machineType'],
    [
      'TDX on C3 local SSD with no zone checked',
      (a) => ({ ...a, machineType: 'c3-standard-4-lssd' }),
      'location',
    ],
    [
      'SEV_SNP on C3D (SEV only)',
      (a) => ({ ...a, technology: 'SEV_SNP', machineType: 'c3d-standard-4' }),
      'machineType',
    ],
    ['malformed network tag', (a) => ({ ...a, networkTags: ['-nodes'] }), 'networkTags[0]'],
    [
      'machine table addition without zones',
      (a) => ({ ...a, machineTable: [{ technology: 'TDX', machineType: 'c3-standard-*-lssd', zones: [] }] }),
      'machineTable[0].zones',
    ],
    ['SEV_SNP on C3', (a) => ({ ...a, technology: 'SEV_SNP', machineType: 'c3-standard-4' }), 'machineType'],
    ['no zones', (a) => ({ ...a, nodeLocations: [] }), 'nodeLocations'],
    ['zone without the technology', (a) => ({ ...a, nodeLocations: ['us-central1-f'] }), 'nodeLocations[0]'],
    ['zone outside the location', (a) => ({ ...a, nodeLocations: ['europe-west4-a'] }), 'nodeLocations[0]'],
    ['region without the technology', (a) => ({ ...a, location: 'us-west2' }), 'location'],
    ['negative minimum', (a) => ({ ...a, minNodeCount: -1 }), 'minNodeCount'],
    ['zero maximum', (a) => ({ ...a, minNodeCount: 0, maxNodeCount: 0 }), 'maxNodeCount'],
    ['maximum under minimum', (a) => ({ ...a, minNodeCount: 3, maxNodeCount: 2 }), 'maxNodeCount'],
    ['fractional surge', (a) => ({ ...a, maxSurge: 1.5 }), 'maxSurge'],
    ['negative unavailable', (a) => ({ ...a, maxUnavailable: -1 }), 'maxUnavailable'],
    ['no surge and no unavailable', (a) => ({ ...a, maxSurge: 0, maxUnavailable: 0 }), 'maxSurge'],
    ['tiny disk', (a) => ({ ...a, diskSizeGb: 9 }), 'diskSizeGb'],
    [
      'overriding the confidential label',
      (a) => ({ ...a, labels: { 'trustops.dev/confidential-node': 'no' } }),
      'labels.trustops.dev/confidential-node',
    ],
    ['empty cluster name', (a) => ({ ...a, cluster: '' }), 'cluster'],
    ['stray confidentialNodes', stray('confidentialNodes', { enabled: false }), 'confidentialNodes'],
    ['stray nodeConfig', stray('nodeConfig', {}), 'nodeConfig'],
    ['stray networkConfig', stray('networkConfig', { enablePrivateNodes: false }), 'networkConfig'],
    ['stray shieldedInstanceConfig', stray('shieldedInstanceConfig', {}), 'shieldedInstanceConfig'],
    ['stray workloadMetadataConfig', stray('workloadMetadataConfig', {}), 'workloadMetadataConfig'],
    ['stray taints', stray('taints', []), 'taints'],
    ['stray imageType', stray('imageType', 'UBUNTU'), 'imageType'],
  ],
);

table<ConfidentialClusterArgs>(
  'ConfidentialCluster',
  () => ({
    project: 'p',
    location: 'us-central1',
    binaryAuthorization: { policy: 'managed', requireAttestationsBy: ['projects/p-proj/attestors/a'] },
  }),
  validateConfidentialClusterArgs,
  [
    ['zone instead of region', (a) => ({ ...a, location: 'us-central1-a' }), 'location'],
    [
      'a VPC-peering control-plane range (the cluster uses Private Service Connect)',
      (a) => ({ ...a, masterIpv4CidrBlock: '172.16.0.0/28' }) as ConfidentialClusterArgs,
      'masterIpv4CidrBlock',
    ],
    [
      'the replaced privateEndpoint switch',
      (a) => ({ ...a, privateEndpoint: true }) as ConfidentialClusterArgs,
      'privateEndpoint',
    ],
    ['unknown ipEndpoint', (a) => ({ ...a, ipEndpoint: 'open' as never }), 'ipEndpoint'],
    [
      'authorized networks with no IP endpoint',
      (a) => ({ ...a, authorizedNetworks: [{ cidrBlock: '10.0.0.0/8', displayName: 'corp' }] }),
      'authorizedNetworks',
    ],
    [
      'empty control-plane source ranges',
      (a) => ({ ...a, controlPlaneSourceRanges: [] }),
      'controlPlaneSourceRanges',
    ],
    [
      'malformed control-plane source range',
      (a) => ({ ...a, controlPlaneSourceRanges: ['10.0.0.1'] }),
      'controlPlaneSourceRanges[0]',
    ],
    [
      'no Binary Authorization choice',
      (a) => ({ ...a, binaryAuthorization: undefined as never }),
      'binaryAuthorization',
    ],
    [
      'a managed policy with no attestor',
      (a) => ({ ...a, binaryAuthorization: { policy: 'managed', requireAttestationsBy: [] } }),
      'binaryAuthorization.requireAttestationsBy',
    ],
    [
      'an exemption of every image',
      (a) => ({
        ...a,
        binaryAuthorization: {
          policy: 'managed',
          requireAttestationsBy: ['projects/p-proj/attestors/a'],
          exemptImages: ['*'],
        },
      }),
      'binaryAuthorization.exemptImages[0]',
    ],
    [
      'a KMS key in another location',
      (a) => ({ ...a, databaseEncryptionKey: 'projects/p/locations/us-east1/keyRings/r/cryptoKeys/k' }),
      'databaseEncryptionKey',
    ],
    [
      'authorized network of the whole internet',
      (a) => ({
        ...a,
        ipEndpoint: 'private',
        authorizedNetworks: [{ cidrBlock: '0.0.0.0/0', displayName: 'all' }],
      }),
      'authorizedNetworks[0].cidrBlock',
    ],
    [
      'authorized network malformed',
      (a) => ({
        ...a,
        ipEndpoint: 'private',
        authorizedNetworks: [{ cidrBlock: '10.0.0.0/33', displayName: 'x' }],
      }),
      'authorizedNetworks[0].cidrBlock',
    ],
    ['public endpoint without authorized networks', (a) => ({ ...a, ipEndpoint: 'public' }), 'ipEndpoint'],
    [
      'unmanaged release channel',
      (a) => ({ ...a, releaseChannel: 'UNSPECIFIED' as never }),
      'releaseChannel',
    ],
    [
      'KMS key not a key name',
      (a) => ({ ...a, databaseEncryptionKey: 'projects/p/keyRings/r' }),
      'databaseEncryptionKey',
    ],
    ...(
      [
        'workloadIdentityConfig',
        'enableShieldedNodes',
        'datapathProvider',
        'privateClusterConfig',
        'controlPlaneEndpointsConfig',
        'masterAuth',
        'deletionProtection',
        'removeDefaultNodePool',
        'enableLegacyAbac',
      ] as const
    ).map((k): Case<ConfidentialClusterArgs> => [`stray ${k}`, stray(k, false), k]),
  ],
);

const kyvernoDigests = Object.fromEntries(KYVERNO_IMAGES.map((n, i) => [n, digest(i + 1)])) as Record<
  KyvernoImage,
  string
>;
table<KyvernoArgs>(
  'Kyverno',
  () => ({ trustPolicy: loadFixturePolicy(), imageDigests: kyvernoDigests, readinessCheckerTag: 'v0.1.0' }),
  validateKyvernoArgs,
  [
    // only images without a published digest to fall back on (platform-images.ts)
    ...KYVERNO_IMAGES.filter((img) => KYVERNO_RELEASE.digests[img] === undefined).map(
      (img): Case<KyvernoArgs> => [
        `missing ${img} digest`,
        (a) => {
          const d: Partial<Record<KyvernoImage, string>> = { ...a.imageDigests };
          delete d[img];
          return { ...a, imageDigests: d as Record<KyvernoImage, string> };
        },
        `imageDigests.${img}`,
      ],
    ),
    [
      'a tag where a digest belongs',
      (a) => ({ ...a, imageDigests: { ...a.imageDigests, kyverno: 'v1.19.0' } }),
      'imageDigests.kyverno',
    ],
    [
      'an upper-case digest',
      (a) => ({ ...a, imageDigests: { ...a.imageDigests, kyverno: digest(1).toUpperCase() } }),
      'imageDigests.kyverno',
    ],
    [
      'an image the chart does not run',
      (a) => ({ ...a, imageDigests: { ...a.imageDigests, extra: digest(9) } as never }),
      'imageDigests.extra',
    ],
    ['no readiness-checker tag', (a) => ({ ...a, readinessCheckerTag: '' }), 'readinessCheckerTag'],
    ['bad namespace', (a) => ({ ...a, namespace: 'Kyverno' }), 'namespace'],
    [
      'excluding default',
      (a) => ({ ...a, additionalExcludedNamespaces: ['default'] }),
      'additionalExcludedNamespaces[0]',
    ],
    [
      'excluding a malformed namespace',
      (a) => ({ ...a, additionalExcludedNamespaces: ['a_b'] }),
      'additionalExcludedNamespaces[0]',
    ],
    [
      'unrenderable trust policy',
      (a) => ({ ...a, trustPolicy: { ...a.trustPolicy, images: [], unmatchedImages: 'allow' } }),
      'trustPolicy',
    ],
    ...(
      [
        'failurePolicy',
        'replicas',
        'validationFailureAction',
        'failureAction',
        'values',
        'forceFailurePolicyIgnore',
      ] as const
    ).map((k): Case<KyvernoArgs> => [`stray ${k}`, stray(k, 'Ignore'), k]),
  ],
);

const spireDigests = Object.fromEntries(SPIRE_IMAGES.map((n, i) => [n, digest(i + 40)])) as Record<
  SpireImage,
  string
>;
table<SpireArgs>(
  'Spire',
  () => ({ trustDomain: 'prod.acme.example', clusterName: 'prod', imageDigests: spireDigests }),
  validateSpireArgs,
  [
    ['placeholder trust domain', (a) => ({ ...a, trustDomain: 'example.org' }), 'trustDomain'],
    ['malformed trust domain', (a) => ({ ...a, trustDomain: 'Prod.Example' }), 'trustDomain'],
    ['malformed cluster name', (a) => ({ ...a, clusterName: 'prod_1' }), 'clusterName'],
    ...SPIRE_IMAGES.filter((img) => SPIRE_RELEASE.digests[img] === undefined).map((img): Case<SpireArgs> => [
      `missing ${img} digest`,
      (a) => {
        const d: Partial<Record<SpireImage, string>> = { ...a.imageDigests };
        delete d[img];
        return { ...a, imageDigests: d };
      },
      `imageDigests.${img}`,
    ]),
    ...SPIRE_IMAGES.map((img): Case<SpireArgs> => [
      `malformed ${img} digest`,
      (a) => ({ ...a, imageDigests: { ...a.imageDigests, [img]: 'latest' } }),
      `imageDigests.${img}`,
    ]),
    ['bad system namespace', (a) => ({ ...a, systemNamespace: 'Spire' }), 'systemNamespace'],
    ['CA country not ISO', (a) => ({ ...a, caSubject: { country: 'USA' } }), 'caSubject.country'],
    ['empty CA organization', (a) => ({ ...a, caSubject: { organization: ' ' } }), 'caSubject.organization'],
    ['empty CA common name', (a) => ({ ...a, caSubject: { commonName: '' } }), 'caSubject.commonName'],
    ['bad server namespace', (a) => ({ ...a, serverNamespace: 'spire server' }), 'serverNamespace'],
    ['zero replicas', (a) => ({ ...a, serverReplicas: 0 }), 'serverReplicas'],
    ['replicas on SQLite', (a) => ({ ...a, serverReplicas: 3 }), 'serverReplicas'],
    [
      'unsupported database',
      (a) => ({
        ...a,
        sqlDatastore: {
          databaseType: 'sqlite3' as never,
          host: 'db',
          passwordSecret: { name: 's', key: 'k' },
        },
      }),
      'sqlDatastore.databaseType',
    ],
    [
      'no database host',
      (a) => ({
        ...a,
        sqlDatastore: { databaseType: 'postgres', host: '', passwordSecret: { name: 's', key: 'k' } },
      }),
      'sqlDatastore.host',
    ],
    [
      'bad database port',
      (a) => ({
        ...a,
        sqlDatastore: { databaseType: 'mysql', host: 'db', port: 0, passwordSecret: { name: 's', key: 'k' } },
      }),
      'sqlDatastore.port',
    ],
    [
      'no password secret',
      (a) => ({
        ...a,
        sqlDatastore: { databaseType: 'mysql', host: 'db', passwordSecret: { name: 's', key: '' } },
      }),
      'sqlDatastore.passwordSecret',
    ],
    ...(['values', 'nodeAttestor', 'tolerations', 'recommendations'] as const).map((k): Case<SpireArgs> => [
      `stray ${k}`,
      stray(k, {}),
      k,
    ]),
  ],
);

const IMAGE = `ghcr.io/acme/api@sha256:${'d'.repeat(64)}`;
table<SecureWorkloadArgs>(
  'SecureWorkload',
  () => ({ namespace: 'shop', image: IMAGE }),
  (a) => validateSecureWorkloadArgs('api', a),
  [
    ['system namespace', (a) => ({ ...a, namespace: 'kube-system' }), 'namespace'],
    ['malformed namespace', (a) => ({ ...a, namespace: 'Shop' }), 'namespace'],
    ['tag only', (a) => ({ ...a, image: 'ghcr.io/acme/api:1.0' }), 'image'],
    ['short digest', (a) => ({ ...a, image: `ghcr.io/acme/api@sha256:${'d'.repeat(63)}` }), 'image'],
    ['no registry path', (a) => ({ ...a, image: `api@sha256:${'d'.repeat(64)}` }), 'image'],
    ['zero replicas', (a) => ({ ...a, replicas: 0, minAvailable: 0 }), 'replicas'],
    ['PDB that blocks every drain', (a) => ({ ...a, replicas: 3, minAvailable: 3 }), 'minAvailable'],
    ['negative minAvailable', (a) => ({ ...a, minAvailable: -1 }), 'minAvailable'],
    ['privileged port', (a) => ({ ...a, containerPort: 443 }), 'containerPort'],
    ['root user', (a) => ({ ...a, runAsUser: 0 }), 'runAsUser'],
    ['bad env name', (a) => ({ ...a, env: { 'A-B': 'x' } }), 'env.A-B'],
    [
      'overriding the SPIFFE socket',
      (a) => ({ ...a, env: { SPIFFE_ENDPOINT_SOCKET: 'x' } }),
      'env.SPIFFE_ENDPOINT_SOCKET',
    ],
    ...(
      [
        'securityContext',
        'privileged',
        'hostNetwork',
        'hostPID',
        'hostIPC',
        'volumes',
        'serviceAccountName',
        'automountServiceAccountToken',
      ] as const
    ).map((k): Case<SecureWorkloadArgs> => [`stray ${k}`, stray(k, true), k]),
  ],
);

describe('SecureWorkload: the resource name is checked too', () => {
  it('rejects a name that is not a DNS-1123 label', () => {
    assert.throws(
      () => validateSecureWorkloadArgs('My_App', { namespace: 'shop', image: IMAGE }),
      (e: unknown) =>
        pulumi.InputPropertiesError.isInstance(e) && e.errors.map((x) => x.propertyPath).join() === 'name',
    );
  });
});
