import * as gcp from '@pulumi/gcp';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ArgsProblems, known } from '../validation';
import { gkeKubeconfig } from './kubeconfig';

/** A CIDR allowed to reach the control plane's IP endpoints. */
export interface AuthorizedNetwork {
  cidrBlock: string;
  displayName: string;
}

/**
 * How the cluster's nodes and workloads are checked by Binary Authorization. A cluster in
 * PROJECT_SINGLETON_POLICY_ENFORCE mode enforces the project's singleton policy, and a project that has
 * never set one allows every image: the mode alone enforces nothing, so a choice is required.
 *
 * - `managed`: this component manages the project's singleton policy: the default rule requires
 *   attestations from `requireAttestationsBy` (enforced, audit-logged), GKE's system images are allowed
 *   by Google's global policy evaluation, and `exemptImages` become allowlist patterns. A project has
 *   one such policy: manage it from one stack only.
 * - `external`: the project's policy is managed elsewhere (another stack, the security team). The
 *   cluster enforces it; the pack accepts the cluster only when its pack config declares the project in
 *   `gke-cluster-hardened.binaryAuthorization.externalPolicyProjects`.
 */
export type BinaryAuthorizationArgs =
  | {
      policy: 'managed';
      /** Attestors (`projects/P/attestors/A`) whose attestations every image needs. At least one. */
      requireAttestationsBy: pulumi.Input<string>[];
      /**
       * Image name patterns exempt from attestation (`registry/path`, `*` only as the final character
       * after the registry's `/`), e.g. platform images verified by Kyverno instead. Default none.
       */
      exemptImages?: string[];
    }
  | { policy: 'external' };

/**
 * Arguments of the hardened GKE Standard cluster. Workload Identity, shielded nodes, Dataplane V2,
 * private nodes, IAM-guarded control-plane access and deletion protection are not arguments: they are
 * always on.
 */
export interface ConfidentialClusterArgs {
  project: pulumi.Input<string>;
  /** A region (regional control plane). */
  location: string;
  /** VPC network and subnetwork. Default `default` / the region's default subnetwork. */
  network?: pulumi.Input<string>;
  subnetwork?: pulumi.Input<string>;
  /** Binary Authorization: a managed project policy or one declared as managed elsewhere. Required. */
  binaryAuthorization: BinaryAuthorizationArgs;
  /**
   * The control plane's IP-based endpoints. Default `none`: the control plane is reached only through
   * its DNS-based endpoint, which any caller with IAM permission `container.clusters.connect` reaches
   * from anywhere Google APIs are reachable (no VPC, bastion or authorized network needed).
   * `private`: also the internal IP endpoint (from inside the VPC). `public`: also the external IP
   * endpoint, reachable only from `authorizedNetworks`.
   */
  ipEndpoint?: 'none' | 'private' | 'public';
  /** Networks allowed to reach the IP endpoints (`ipEndpoint` private or public). Default none. */
  authorizedNetworks?: AuthorizedNetwork[];
  /**
   * Where the control plane calls admission webhooks from: the source ranges of the firewall rule for
   * tcp 9443. Default the control plane's private endpoint address (/32), as GKE's own rule for 443
   * and 10250 uses on Private Service Connect clusters.
   */
  controlPlaneSourceRanges?: string[];
  /** Default `REGULAR`. One of RAPID, REGULAR, STABLE (an unmanaged cluster is not offered). */
  releaseChannel?: 'RAPID' | 'REGULAR' | 'STABLE';
  /**
   * Cloud KMS key (`projects/P/locations/L/keyRings/R/cryptoKeys/K`) for application-layer secrets
   * encryption, in the cluster's location. The component grants the GKE service agent
   * (`service-PROJECT_NUMBER@container-engine-robot.iam.gserviceaccount.com`)
   * `roles/cloudkms.cryptoKeyEncrypterDecrypter` on it before the cluster is created. Default: none
   * (Google-managed encryption).
   */
  databaseEncryptionKey?: pulumi.Input<string>;
  /**
   * The kubeconfig runs `gke-gcloud-auth-plugin --use_application_default_credentials`: for CI that has
   * only application default credentials (GOOGLE_APPLICATION_CREDENTIALS), no gcloud login. Default false.
   */
  useApplicationDefaultCredentials?: boolean;
}

export interface ValidatedCluster {
  ipEndpoint: 'none' | 'private' | 'public';
  authorizedNetworks: AuthorizedNetwork[];
  controlPlaneSourceRanges?: string[];
  releaseChannel: 'RAPID' | 'REGULAR' | 'STABLE';
  binaryAuthorization: BinaryAuthorizationArgs;
}

const REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const KMS_KEY = /^projects\/[^/]+\/locations\/([^/]+)\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
const ATTESTOR = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/attestors\/[A-Za-z0-9_-]{1,100}$/;
/** `registry/path`, `*` allowed only as the final character and only after the registry's `/`. */
const EXEMPT_IMAGE = /^[a-z0-9.-]+(:[0-9]+)?\/[^*\s]*\*?$/;

/** The GKE service agent, which encrypts and decrypts Secrets with the customer-managed key. */
export function gkeServiceAgent(projectNumber: string): string {
  return `service-${projectNumber}@container-engine-robot.iam.gserviceaccount.com`;
}

/** The network tag ConfidentialNodePool nodes carry (networkTags) so the webhook rule reaches them. */
export function nodeNetworkTag(clusterName: string): string {
  const base = clusterName
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^[^a-z]+/, '');
  return `${base.slice(0, 40).replace(/-+$/, '') || 'cluster'}-trustops-nodes`;
}

function cidrProblem(cidr: string): string | undefined {
  const m = CIDR.exec(cidr);
  if (!m) return `expected an IPv4 CIDR such as 10.0.0.0/8, found ${cidr}`;
  if (m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32)
    return `expected a valid IPv4 CIDR, found ${cidr}`;
  return undefined;
}

function validateBinaryAuthorization(
  b: BinaryAuthorizationArgs | undefined,
  problems: ArgsProblems,
): BinaryAuthorizationArgs {
  if (b === undefined || b === null) {
    problems.add(
      'binaryAuthorization',
      "a choice is required: { policy: 'managed', requireAttestationsBy: [...] } or { policy: 'external' } (the enforce mode alone enforces nothing: a project without a policy allows every image)",
    );
    return { policy: 'external' };
  }
  if (b.policy === 'external') return b;
  if (b.policy !== 'managed') {
    problems.add(
      'binaryAuthorization.policy',
      `expected managed or external, found ${String((b as { policy: unknown }).policy)}`,
    );
    return b;
  }
  if (!Array.isArray(b.requireAttestationsBy) || b.requireAttestationsBy.length === 0) {
    problems.add(
      'binaryAuthorization.requireAttestationsBy',
      'expected at least one attestor (projects/P/attestors/A): a policy without attestors would require nothing',
    );
  } else {
    b.requireAttestationsBy.forEach((a, i) => {
      const name = known(a);
      if (name !== undefined && !ATTESTOR.test(name))
        problems.add(
          `binaryAuthorization.requireAttestationsBy[${i}]`,
          `expected projects/P/attestors/A, found ${name}`,
        );
    });
  }
  (b.exemptImages ?? []).forEach((p, i) => {
    if (typeof p !== 'string' || !EXEMPT_IMAGE.test(p))
      problems.add(
        `binaryAuthorization.exemptImages[${i}]`,
        `expected registry/path with at most a trailing * after the registry's /, found ${String(p)}`,
      );
  });
  return b;
}

export function validateConfidentialClusterArgs(args: ConfidentialClusterArgs): ValidatedCluster {
  const problems = new ArgsProblems();
  problems.rejectFixed(
    args,
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
    ],
    'ConfidentialCluster (hardened default)',
  );
  const stray = args as unknown as Record<string, unknown>;
  if (stray.privateEndpoint !== undefined)
    problems.add(
      'privateEndpoint',
      "replaced by ipEndpoint ('none', 'private' or 'public'); the DNS endpoint is the default way in",
    );
  if (stray.masterIpv4CidrBlock !== undefined)
    problems.add(
      'masterIpv4CidrBlock',
      'not used: the cluster uses Private Service Connect, which needs no control-plane range',
    );
  if (!REGION.test(args.location))
    problems.add('location', `expected a region such as us-central1, found ${args.location}`);
  const ipEndpoint = args.ipEndpoint ?? 'none';
  if (!['none', 'private', 'public'].includes(ipEndpoint))
    problems.add('ipEndpoint', `expected none, private or public, found ${String(ipEndpoint)}`);
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
  if (ipEndpoint === 'none' && authorizedNetworks.length > 0)
    problems.add(
      'authorizedNetworks',
      "apply to IP endpoints only; set ipEndpoint 'private' or 'public', or drop them",
    );
  if (ipEndpoint === 'public' && authorizedNetworks.length === 0)
    problems.add('ipEndpoint', 'a public IP endpoint requires authorizedNetworks; none were given');
  for (const [i, r] of (args.controlPlaneSourceRanges ?? []).entries()) {
    const p = cidrProblem(r);
    if (p) problems.add(`controlPlaneSourceRanges[${i}]`, p);
  }
  if (args.controlPlaneSourceRanges !== undefined && args.controlPlaneSourceRanges.length === 0)
    problems.add('controlPlaneSourceRanges', 'expected at least one range, or leave it unset');
  const releaseChannel = args.releaseChannel ?? 'REGULAR';
  if (!['RAPID', 'REGULAR', 'STABLE'].includes(releaseChannel)) {
    problems.add('releaseChannel', `expected RAPID, REGULAR or STABLE, found ${String(releaseChannel)}`);
  }
  const key = known(args.databaseEncryptionKey);
  if (key !== undefined) {
    const m = KMS_KEY.exec(key);
    if (!m)
      problems.add(
        'databaseEncryptionKey',
        `expected projects/P/locations/L/keyRings/R/cryptoKeys/K, found ${key}`,
      );
    else if (m[1] !== args.location)
      problems.add(
        'databaseEncryptionKey',
        `the key is in ${m[1]}; GKE needs the key in the cluster's location ${args.location} (create the key ring there)`,
      );
  }
  const binaryAuthorization = validateBinaryAuthorization(args.binaryAuthorization, problems);
  problems.throwIfAny('ConfidentialCluster');
  return {
    ipEndpoint,
    authorizedNetworks,
    controlPlaneSourceRanges: args.controlPlaneSourceRanges,
    releaseChannel,
    binaryAuthorization,
  };
}

/** Port Kyverno's admission webhook listens on; private nodes need it opened for the control plane. */
export const ADMISSION_WEBHOOK_PORT = '9443';

/** GKE Standard, hardened: add node pools with ConfidentialNodePool. */
export class ConfidentialCluster extends pulumi.ComponentResource {
  readonly cluster: gcp.container.Cluster;
  readonly webhookFirewall: gcp.compute.Firewall;
  /** The managed project policy (`binaryAuthorization.policy` managed). */
  readonly binaryAuthorizationPolicy?: gcp.binaryauthorization.Policy;
  /** The GKE service agent's grant on the KMS key (when a key is given). */
  readonly kmsGrant?: gcp.kms.CryptoKeyIAMMember;
  /** Give it to every ConfidentialNodePool (`networkTags`): the webhook rule opens only these nodes. */
  readonly nodeNetworkTag: string;
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;

  constructor(name: string, args: ConfidentialClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('trustops:gke:ConfidentialCluster', name, {}, opts);
    const v = validateConfidentialClusterArgs(args);
    const network = args.network ?? 'default';
    this.nodeNetworkTag = nodeNetworkTag(name);

    if (args.databaseEncryptionKey) {
      // GKE encrypts Secrets as its service agent: without this grant the cluster creation fails.
      const projectNumber = gcp.organizations.getProjectOutput(
        { projectId: args.project },
        { parent: this },
      ).number;
      this.kmsGrant = new gcp.kms.CryptoKeyIAMMember(
        `${name}-secrets-key`,
        {
          cryptoKeyId: args.databaseEncryptionKey,
          role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
          member: projectNumber.apply((n) =>
            n ? `serviceAccount:${gkeServiceAgent(n)}` : (pulumi.unknown as unknown as string),
          ),
        },
        { parent: this },
      );
    }

    const b = v.binaryAuthorization;
    if (b.policy === 'managed') {
      this.binaryAuthorizationPolicy = new gcp.binaryauthorization.Policy(
        `${name}-binauthz`,
        {
          project: args.project,
          description: `Managed by trustops ConfidentialCluster ${name}: attestations required for every image`,
          // Google-maintained images GKE itself runs (system pods) pass by the global policy.
          globalPolicyEvaluationMode: 'ENABLE',
          defaultAdmissionRule: {
            evaluationMode: 'REQUIRE_ATTESTATION',
            enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
            requireAttestationsBies: b.requireAttestationsBy,
          },
          admissionWhitelistPatterns: (b.exemptImages ?? []).map((namePattern) => ({ namePattern })),
        },
        { parent: this },
      );
    }

    const ipEnabled = v.ipEndpoint !== 'none';
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
        // The DNS-based endpoint, guarded by IAM (container.clusters.connect): reachable by a deployer
        // with credentials from anywhere, with no network path into the VPC.
        controlPlaneEndpointsConfig: {
          dnsEndpointConfig: { allowExternalTraffic: true },
          ipEndpointsConfig: { enabled: ipEnabled },
        },
        // Private nodes: set per pool by ConfidentialNodePool; this is the default for the throw-away
        // default pool (@pulumi/gcp 9 has no networkConfig.defaultEnablePrivateNodes yet). No
        // masterIpv4CidrBlock: the cluster uses Private Service Connect.
        privateClusterConfig: {
          enablePrivateNodes: true,
          ...(v.ipEndpoint === 'private' ? { enablePrivateEndpoint: true } : {}),
        },
        ...(ipEnabled
          ? {
              masterAuthorizedNetworksConfig: {
                cidrBlocks: v.authorizedNetworks,
                gcpPublicCidrsAccessEnabled: false,
              },
            }
          : {}),
        masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
        // Anonymous requests reach only the health-check endpoints, whatever RBAC binds to system:anonymous.
        anonymousAuthenticationConfig: { mode: 'LIMITED' },
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
      { parent: this, dependsOn: this.kmsGrant ? [this.kmsGrant] : [] },
    );

    // Private nodes accept the control plane on 443/10250 only (GKE's own rule); admission webhooks need
    // 9443, opened for the pools' nodes only (their network tag), from the control plane only.
    this.webhookFirewall = new gcp.compute.Firewall(
      `${name}-webhooks`,
      {
        project: args.project,
        network,
        direction: 'INGRESS',
        sourceRanges:
          v.controlPlaneSourceRanges ??
          this.cluster.privateClusterConfig.privateEndpoint.apply((ip) => [`${ip}/32`]),
        targetTags: [this.nodeNetworkTag],
        allows: [{ protocol: 'tcp', ports: [ADMISSION_WEBHOOK_PORT] }],
        description: `GKE control plane of ${name} to admission webhooks (Kyverno) on nodes tagged ${this.nodeNetworkTag}`,
      },
      { parent: this },
    );

    this.kubeconfig = gkeKubeconfig({
      name: this.cluster.name,
      dnsEndpoint: this.cluster.controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint,
      useApplicationDefaultCredentials: args.useApplicationDefaultCredentials ?? false,
    });
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { parent: this });
    this.registerOutputs({
      clusterName: this.cluster.name,
      dnsEndpoint: this.cluster.controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint,
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
