import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { CONFIDENTIAL_NODE_LABEL, CONFIDENTIAL_TAINT_KEY } from '../gke/confidential-technology';
import { checkImageDigests, SPIRE_RELEASE, withPublishedDigests } from '../platform-images';
import { ArgsProblems, DNS1123_LABEL } from '../validation';

/**
 * spiffe's hardened charts, pinned: spire-crds 0.6.0 and spire 0.30.0. Their subcharts deploy SPIRE
 * 1.15.2 (the umbrella chart's appVersion still says 1.14.5; the subcharts' image tags win).
 */
export const SPIRE_CHARTS = {
  repo: 'https://spiffe.github.io/helm-charts-hardened/',
  crds: { chart: 'spire-crds', version: '0.6.0' },
  spire: { chart: 'spire', version: '0.30.0', appVersion: '1.14.5', spireVersion: '1.15.2' },
} as const;

export const SPIRE_IMAGES = [
  'spire-server',
  'spire-controller-manager',
  'spire-agent',
  'spiffe-csi-driver',
  'csi-node-driver-registrar',
] as const;
export type SpireImage = (typeof SPIRE_IMAGES)[number];

/** Where the charts pull each image from (their default registries). */
export const SPIRE_IMAGE_REPOSITORIES: Readonly<Record<SpireImage, string>> = {
  'spire-server': 'ghcr.io/spiffe/spire-server',
  'spire-controller-manager': 'ghcr.io/spiffe/spire-controller-manager',
  'spire-agent': 'ghcr.io/spiffe/spire-agent',
  'spiffe-csi-driver': 'ghcr.io/spiffe/spiffe-csi-driver',
  'csi-node-driver-registrar': 'registry.k8s.io/sig-storage/csi-node-driver-registrar',
};

/** The digest of every image: those given over the ones SPIRE published for this release. */
export function spireImageDigests(given: SpireArgs['imageDigests']): Partial<Record<SpireImage, string>> {
  return withPublishedDigests(SPIRE_RELEASE, given);
}

/** The digest-pinned references the charts deploy with these arguments. */
export function spireImageReferences(args: Pick<SpireArgs, 'imageDigests'>): string[] {
  const digests = spireImageDigests(args.imageDigests);
  return SPIRE_IMAGES.map((image) => {
    const tag = DEFAULT_TAGS[image];
    const repo = SPIRE_IMAGE_REPOSITORIES[image];
    const digest = digests[image] ?? '<required>';
    return tag ? `${repo}:${tag}@${digest}` : `${repo}@${digest}`;
  });
}

/** Tags the chart pins by default; the digest is appended so the reference stays readable and immutable. */
const DEFAULT_TAGS: Readonly<Partial<Record<SpireImage, string>>> = {
  'spire-server': SPIRE_CHARTS.spire.spireVersion,
  'spire-agent': SPIRE_CHARTS.spire.spireVersion,
  'spire-controller-manager': '0.7.0',
  'csi-node-driver-registrar': 'v2.15.0',
};

export type SqlDatabaseType = 'postgres' | 'mysql' | 'gcp_mysql_sa_iam';

/** An external SQL datastore; required before the server may run more than one replica. */
export interface SpireSqlDatastore {
  databaseType: SqlDatabaseType;
  host: string;
  /** Default: the database's standard port. */
  port?: number;
  /** Default `spire`. */
  databaseName?: string;
  /** Default `spire`. */
  username?: string;
  /** Secret in the server namespace holding the password (no password in Pulumi state). */
  passwordSecret: { name: string; key: string };
}

export interface SpireArgs {
  /** SPIFFE trust domain, e.g. `prod.example.com`. Required; `example.org` (the chart's) is rejected. */
  trustDomain: string;
  /** Name of this cluster inside the trust domain. Required. */
  clusterName: string;
  /**
   * sha256 digest of SPIRE images, over the digests published for this release (platform-images.ts
   * SPIRE_RELEASE): `spiffe-csi-driver` has no public pin and must be given.
   */
  imageDigests?: Readonly<Partial<Record<SpireImage, string>>>;
  /** Namespaces for the agent/CSI driver and for the server. Defaults `spire-system`, `spire-server`. */
  systemNamespace?: string;
  serverNamespace?: string;
  /** Default 1. More than 1 requires `sqlDatastore`: replicas sharing the default SQLite file would diverge. */
  serverReplicas?: number;
  sqlDatastore?: SpireSqlDatastore;
  /**
   * Subject of the SPIRE server CA. Defaults: organization and commonName are the trust domain; country
   * unset. The chart's strict mode (on here) refuses its own example subject, so one is always sent.
   */
  caSubject?: { country?: string; organization?: string; commonName?: string };
}

export interface ValidatedSpire {
  systemNamespace: string;
  serverNamespace: string;
  serverReplicas: number;
  /** Every image's digest (given over published). */
  imageDigests: Record<SpireImage, string>;
}

const TRUST_DOMAIN = /^[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?$/;

export function validateSpireArgs(args: SpireArgs): ValidatedSpire {
  const problems = new ArgsProblems();
  problems.rejectFixed(
    args,
    ['values', 'nodeAttestor', 'tolerations', 'recommendations'],
    'Spire (hardened recommendations, PSAT attestation, confidential tolerations)',
  );
  if (!TRUST_DOMAIN.test(args.trustDomain ?? '')) {
    problems.add(
      'trustDomain',
      `expected a lowercase DNS-style trust domain, found ${String(args.trustDomain)}`,
    );
  } else if (args.trustDomain === 'example.org') {
    problems.add('trustDomain', 'expected your own trust domain, found the chart placeholder example.org');
  }
  if (!DNS1123_LABEL.test(args.clusterName ?? ''))
    problems.add('clusterName', `expected a DNS-1123 label, found ${String(args.clusterName)}`);
  const imageDigests = spireImageDigests(args.imageDigests);
  checkImageDigests(problems, 'imageDigests', SPIRE_IMAGES, imageDigests, SPIRE_RELEASE);
  const systemNamespace = args.systemNamespace ?? 'spire-system';
  const serverNamespace = args.serverNamespace ?? 'spire-server';
  for (const [k, ns] of [
    ['systemNamespace', systemNamespace],
    ['serverNamespace', serverNamespace],
  ] as const) {
    if (!DNS1123_LABEL.test(ns)) problems.add(k, `expected a DNS-1123 label, found ${ns}`);
  }
  const serverReplicas = args.serverReplicas ?? 1;
  if (!Number.isInteger(serverReplicas) || serverReplicas < 1) {
    problems.add('serverReplicas', `expected an integer >= 1, found ${serverReplicas}`);
  } else if (serverReplicas > 1 && !args.sqlDatastore) {
    problems.add(
      'serverReplicas',
      `${serverReplicas} server replicas need sqlDatastore (an external SQL database); found none (SQLite cannot be shared)`,
    );
  }
  const country = args.caSubject?.country;
  if (country !== undefined && !/^[A-Z]{2}$/.test(country)) {
    problems.add('caSubject.country', `expected an ISO 3166 two-letter country code, found ${country}`);
  }
  for (const k of ['organization', 'commonName'] as const) {
    const v = args.caSubject?.[k];
    if (v !== undefined && v.trim() === '')
      problems.add(`caSubject.${k}`, 'expected a non-empty value, found an empty string');
  }
  const sql = args.sqlDatastore;
  if (sql) {
    if (!['postgres', 'mysql', 'gcp_mysql_sa_iam'].includes(sql.databaseType)) {
      problems.add(
        'sqlDatastore.databaseType',
        `expected postgres, mysql or gcp_mysql_sa_iam, found ${String(sql.databaseType)}`,
      );
    }
    if (!sql.host) problems.add('sqlDatastore.host', 'expected the database host, found none');
    if (sql.port !== undefined && (!Number.isInteger(sql.port) || sql.port < 1 || sql.port > 65535)) {
      problems.add('sqlDatastore.port', `expected a port 1-65535, found ${sql.port}`);
    }
    if (!sql.passwordSecret?.name || !sql.passwordSecret?.key) {
      problems.add(
        'sqlDatastore.passwordSecret',
        'expected { name, key } of a Secret in the server namespace',
      );
    }
  }
  problems.throwIfAny('Spire');
  return {
    systemNamespace,
    serverNamespace,
    serverReplicas,
    imageDigests: imageDigests as Record<SpireImage, string>,
  };
}

function pinned(v: ValidatedSpire, image: SpireImage): { tag: string } {
  const digest = v.imageDigests[image];
  const tag = DEFAULT_TAGS[image];
  // spire-lib prints `registry/repo:tag`, or `registry/repo@<tag>` when the tag itself is a digest.
  return { tag: tag ? `${tag}@${digest}` : digest };
}

/** Toleration of the confidential node pools' taint, for the DaemonSets that must run on every node. */
export const CONFIDENTIAL_TOLERATION = {
  key: CONFIDENTIAL_TAINT_KEY,
  operator: 'Equal',
  value: 'true',
  effect: 'NoSchedule',
} as const;

/** Values of the `spire` umbrella chart. */
export function spireChartValues(args: SpireArgs, v: ValidatedSpire): Record<string, unknown> {
  const sql = args.sqlDatastore;
  return {
    global: {
      spire: {
        clusterName: args.clusterName,
        trustDomain: args.trustDomain,
        recommendations: { enabled: true },
        strictMode: true,
        caSubject: {
          country: args.caSubject?.country ?? '',
          organization: args.caSubject?.organization ?? args.trustDomain,
          commonName: args.caSubject?.commonName ?? args.trustDomain,
        },
        namespaces: {
          create: true,
          system: { name: v.systemNamespace },
          server: { name: v.serverNamespace },
        },
      },
      // Helm hooks are not run by Pulumi's Chart the way `helm install` runs them.
      installAndUpgradeHooks: { enabled: false },
      deleteHooks: { enabled: false },
    },
    'spire-server': {
      replicaCount: v.serverReplicas,
      image: pinned(v, 'spire-server'),
      ...(sql
        ? {
            dataStore: {
              sql: {
                databaseType: sql.databaseType,
                host: sql.host,
                port: sql.port ?? 0,
                databaseName: sql.databaseName ?? 'spire',
                username: sql.username ?? 'spire',
                externalSecret: { enabled: true, name: sql.passwordSecret.name, key: sql.passwordSecret.key },
              },
            },
          }
        : {}),
      nodeAttestor: { k8sPSAT: { enabled: true, allowedNodeLabelKeys: [CONFIDENTIAL_NODE_LABEL] } },
      controllerManager: {
        enabled: true,
        image: pinned(v, 'spire-controller-manager'),
        className: SPIRE_CONTROLLER_CLASS,
        // The default identity is rendered by this component (renderDefaultClusterSpiffeId) so that it is
        // checked against the CRD schema and excludes system namespaces.
        identities: { clusterSPIFFEIDs: { default: { enabled: false } } },
      },
    },
    'spire-agent': {
      image: pinned(v, 'spire-agent'),
      tolerations: [CONFIDENTIAL_TOLERATION],
      nodeAttestor: { k8sPSAT: { enabled: true } },
    },
    'spiffe-csi-driver': {
      image: pinned(v, 'spiffe-csi-driver'),
      nodeDriverRegistrar: { image: pinned(v, 'csi-node-driver-registrar') },
      tolerations: [CONFIDENTIAL_TOLERATION],
    },
    // Not needed for in-cluster workload identity; fewer images to verify.
    'spiffe-oidc-discovery-provider': { enabled: false },
  };
}

/** Controller class shared by the chart's controller manager and the ClusterSPIFFEIDs this component renders. */
export const SPIRE_CONTROLLER_CLASS = 'trustops-spire';

/**
 * The default identity: every Pod outside the system namespaces gets
 * `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`.
 */
export function renderDefaultClusterSpiffeId(v: ValidatedSpire): {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
} {
  return {
    apiVersion: 'spire.spiffe.io/v1alpha1',
    kind: 'ClusterSPIFFEID',
    metadata: { name: 'trustops-default' },
    spec: {
      className: SPIRE_CONTROLLER_CLASS,
      spiffeIDTemplate:
        'spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}',
      namespaceSelector: {
        matchExpressions: [
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'NotIn',
            values: ['kube-system', 'kube-public', 'kube-node-lease', v.systemNamespace, v.serverNamespace],
          },
        ],
      },
      fallback: true,
    },
  };
}

/** SPIRE: CRDs first, then server, agent, CSI driver and controller manager from spiffe's hardened charts. */
export class Spire extends pulumi.ComponentResource {
  readonly crds: k8s.helm.v4.Chart;
  readonly chart: k8s.helm.v4.Chart;
  readonly defaultIdentity: k8s.apiextensions.CustomResource;
  readonly trustDomain: string;
  /** The CSI driver name workloads mount (`SecureWorkload` uses it). */
  readonly csiDriver = 'csi.spiffe.io';

  constructor(name: string, args: SpireArgs, opts?: pulumi.ComponentResourceOptions) {
    super('trustops:spire:Spire', name, {}, opts);
    const v = validateSpireArgs(args);
    this.trustDomain = args.trustDomain;

    this.crds = new k8s.helm.v4.Chart(
      `${name}-crds`,
      {
        chart: SPIRE_CHARTS.crds.chart,
        version: SPIRE_CHARTS.crds.version,
        repositoryOpts: { repo: SPIRE_CHARTS.repo },
        namespace: v.serverNamespace,
      },
      { parent: this },
    );
    this.chart = new k8s.helm.v4.Chart(
      name,
      {
        chart: SPIRE_CHARTS.spire.chart,
        version: SPIRE_CHARTS.spire.version,
        repositoryOpts: { repo: SPIRE_CHARTS.repo },
        namespace: v.serverNamespace,
        // The CRDs come from spire-crds, so that upgrading SPIRE never deletes ClusterSPIFFEIDs.
        skipCrds: true,
        values: spireChartValues(args, v),
      },
      { parent: this, dependsOn: [this.crds] },
    );
    const identity = renderDefaultClusterSpiffeId(v);
    this.defaultIdentity = new k8s.apiextensions.CustomResource(
      `${name}-default-identity`,
      {
        apiVersion: identity.apiVersion,
        kind: identity.kind,
        metadata: identity.metadata,
        spec: identity.spec,
      },
      { parent: this, dependsOn: [this.crds, this.chart] },
    );
    this.registerOutputs({ trustDomain: args.trustDomain });
  }
}

export function createSpire(name: string, args: SpireArgs, opts?: pulumi.ComponentResourceOptions): Spire {
  return new Spire(name, args, opts);
}
