import * as gcp from '@pulumi/gcp';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ArgsProblems, known } from '../validation';
import { gkeKubeconfig } from './kubeconfig';

/** A CIDR allowed to reach the control plane. */
export interface AuthorizedNetwork {
  cidrBlock: string;
  displayName: string;
}

/**
 * Arguments of the hardened GKE Standard cluster. Binary Authorization, Workload Identity, shielded
 * nodes, Dataplane V2, private nodes and deletion protection are not arguments: they are always on.
 */
export interface ConfidentialClusterArgs {
  project: pulumi.Input<string>;
  /** A region (regional control plane). */
  location: string;
  /** VPC network and subnetwork. Default `default` / the region's default subnetwork. */
  network?: pulumi.Input<string>;
  subnetwork?: pulumi.Input<string>;
  /** /28 for the control plane's private endpoint. Default `172.16.0.0/28`. */
  masterIpv4CidrBlock?: string;
  /** Networks allowed to reach the control plane. Default none: only the private endpoint, from inside the VPC. */
  authorizedNetworks?: AuthorizedNetwork[];
  /** Default true: the control plane has no public endpoint. Set false only together with authorizedNetworks. */
  privateEndpoint?: boolean;
  /** Default `REGULAR`. One of RAPID, REGULAR, STABLE (an unmanaged cluster is not offered). */
  releaseChannel?: 'RAPID' | 'REGULAR' | 'STABLE';
  /** Cloud KMS key (`projects/.../cryptoKeys/...`) for application-layer secrets encryption. Default: none (Google-managed). */
  databaseEncryptionKey?: pulumi.Input<string>;
}

export interface ValidatedCluster {
  masterIpv4CidrBlock: string;
  authorizedNetworks: AuthorizedNetwork[];
  privateEndpoint: boolean;
  releaseChannel: 'RAPID' | 'REGULAR' | 'STABLE';
}

const REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const KMS_KEY = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

function cidrProblem(cidr: string): string | undefined {
  const m = CIDR.exec(cidr);
  if (!m) return `expected an IPv4 CIDR such as 10.0.0.0/8, found ${cidr}`;
  if (m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32)
    return `expected a valid IPv4 CIDR, found ${cidr}`;
  return undefined;
}

export function validateConfidentialClusterArgs(args: ConfidentialClusterArgs): ValidatedCluster {
  const problems = new ArgsProblems();
  problems.rejectFixed(
    args,
    [
      'binaryAuthorization',
      'workloadIdentityConfig',
      'enableShieldedNodes',
      'datapathProvider',
      'privateClusterConfig',
      'deletionProtection',
      'removeDefaultNodePool',
      'enableLegacyAbac',
    ],
    'ConfidentialCluster (hardened default)',
  );
  if (!REGION.test(args.location))
    problems.add('location', `expected a region such as us-central1, found ${args.location}`);
  const masterIpv4CidrBlock = args.masterIpv4CidrBlock ?? '172.16.0.0/28';
  const masterProblem = cidrProblem(masterIpv4CidrBlock);
  if (masterProblem) problems.add('masterIpv4CidrBlock', masterProblem);
  else if (!masterIpv4CidrBlock.endsWith('/28'))
    problems.add('masterIpv4CidrBlock', `expected a /28, found ${masterIpv4CidrBlock}`);
  const authorizedNetworks = args.authorizedNetworks ?? [];
  for (const [i, n] of authorizedNetworks.entries()) {
    const p = cidrProblem(n.cidrBlock);
    if (p) problems.add(`authorizedNetworks[${i}].cidrBlock`, p);
    else if (n.cidrBlock.endsWith('/0'))
      problems.add(
        `authorizedNetworks[${i}].cidrBlock`,
        `expected a bounded network, found ${n.cidrBlock} (the whole internet)`,
      );
  }
  const privateEndpoint = args.privateEndpoint ?? true;
  if (!privateEndpoint && authorizedNetworks.length === 0) {
    problems.add('privateEndpoint', 'a public endpoint requires authorizedNetworks; none were given');
  }
  const releaseChannel = args.releaseChannel ?? 'REGULAR';
  if (!['RAPID', 'REGULAR', 'STABLE'].includes(releaseChannel)) {
    problems.add('releaseChannel', `expected RAPID, REGULAR or STABLE, found ${String(releaseChannel)}`);
  }
  const key = known(args.databaseEncryptionKey);
  if (key !== undefined && !KMS_KEY.test(key)) {
    problems.add(
      'databaseEncryptionKey',
      `expected projects/P/locations/L/keyRings/R/cryptoKeys/K, found ${key}`,
    );
  }
  problems.throwIfAny('ConfidentialCluster');
  return { masterIpv4CidrBlock, authorizedNetworks, privateEndpoint, releaseChannel };
}

/** Port Kyverno's admission webhook listens on; private clusters need it opened for the control plane. */
export const ADMISSION_WEBHOOK_PORT = '9443';

/** GKE Standard, hardened: add node pools with ConfidentialNodePool. */
export class ConfidentialCluster extends pulumi.ComponentResource {
  readonly cluster: gcp.container.Cluster;
  readonly webhookFirewall: gcp.compute.Firewall;
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;

  constructor(name: string, args: ConfidentialClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('trustops:gke:ConfidentialCluster', name, {}, opts);
    const v = validateConfidentialClusterArgs(args);
    const network = args.network ?? 'default';

    this.cluster = new gcp.container.Cluster(
      name,
      {
        project: args.project,
        location: args.location,
        network,
        subnetwork: args.subnetwork,
        // GKE cannot create a cluster without a node pool: it makes one and we delete it at once, so every
        // node runs in a ConfidentialNodePool.
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        networkingMode: 'VPC_NATIVE',
        ipAllocationPolicy: {},
        privateClusterConfig: {
          enablePrivateNodes: true,
          enablePrivateEndpoint: v.privateEndpoint,
          masterIpv4CidrBlock: v.masterIpv4CidrBlock,
        },
        masterAuthorizedNetworksConfig: { cidrBlocks: v.authorizedNetworks },
        masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
        workloadIdentityConfig: { workloadPool: pulumi.interpolate`${args.project}.svc.id.goog` },
        binaryAuthorization: { evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE' },
        releaseChannel: { channel: v.releaseChannel },
        datapathProvider: 'ADVANCED_DATAPATH',
        enableShieldedNodes: true,
        enableLegacyAbac: false,
        databaseEncryption: args.databaseEncryptionKey
          ? { state: 'ENCRYPTED', keyName: args.databaseEncryptionKey }
          : { state: 'DECRYPTED' },
        deletionProtection: true,
      },
      { parent: this },
    );

    // Private nodes only accept the control plane on 443/10250 by default; admission webhooks need 9443.
    this.webhookFirewall = new gcp.compute.Firewall(
      `${name}-webhooks`,
      {
        project: args.project,
        network,
        direction: 'INGRESS',
        sourceRanges: [v.masterIpv4CidrBlock],
        allows: [{ protocol: 'tcp', ports: [ADMISSION_WEBHOOK_PORT] }],
        description: `GKE control plane of ${name} to admission webhooks (Kyverno) on nodes`,
      },
      { parent: this },
    );

    this.kubeconfig = gkeKubeconfig({
      name: this.cluster.name,
      endpoint: this.cluster.endpoint,
      clusterCaCertificate: this.cluster.masterAuth.clusterCaCertificate,
    });
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { parent: this });
    this.registerOutputs({
      clusterName: this.cluster.name,
      endpoint: this.cluster.endpoint,
      kubeconfig: this.kubeconfig,
    });
  }
}

export function createConfidentialCluster(
  name: string,
  args: ConfidentialClusterArgs,
  opts?: pulumi.ComponentResourceOptions,
): ConfidentialCluster {
  return new ConfidentialCluster(name, args, opts);
}
