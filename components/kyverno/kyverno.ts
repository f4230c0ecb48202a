import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { checkImageDigests, KYVERNO_RELEASE, withPublishedDigests } from '../platform-images';
import { ArgsProblems, DNS1123_LABEL } from '../validation';
import { KyvernoRenderError } from './errors';
import {
  renderKyvernoPolicies,
  SYSTEM_NAMESPACES,
  type KubernetesObject,
  type KyvernoPolicyKind,
} from './render-policies';
import type { RenderableTrustPolicy } from './renderable-policy';

/** The official chart, pinned. Kyverno v1.19.1. */
export const KYVERNO_CHART = {
  repo: 'https://kyverno.github.io/kyverno/',
  chart: 'kyverno',
  version: '3.9.1',
  appVersion: 'v1.19.1',
} as const;

/**
 * The registry every Kyverno image is pulled from (the chart's `global.image.registry`): ghcr.io, where
 * Kyverno publishes and signs them (reg.kyverno.io, the chart's default, mirrors it) and where the
 * published digests were read (platform-images.ts).
 */
export const KYVERNO_REGISTRY = 'ghcr.io';

/** Every image the chart runs; each needs a digest. */
export const KYVERNO_IMAGES = [
  'kyverno',
  'kyvernopre',
  'background-controller',
  'cleanup-controller',
  'reports-controller',
  'kyverno-cli',
  'readiness-checker',
] as const;
export type KyvernoImage = (typeof KYVERNO_IMAGES)[number];

/**
 * Where the chart pulls each image from (its repositories, on KYVERNO_REGISTRY). The example trust
 * policy's Kyverno rule covers them and requires what Kyverno publishes: its release workflow's
 * signature (in ghcr.io/kyverno/signatures) and SLSA provenance, so the pack verifies the platform too.
 */
export const KYVERNO_IMAGE_REPOSITORIES: Readonly<Record<KyvernoImage, string>> = {
  kyverno: `${KYVERNO_REGISTRY}/kyverno/kyverno`,
  kyvernopre: `${KYVERNO_REGISTRY}/kyverno/kyvernopre`,
  'background-controller': `${KYVERNO_REGISTRY}/kyverno/background-controller`,
  'cleanup-controller': `${KYVERNO_REGISTRY}/kyverno/cleanup-controller`,
  'reports-controller': `${KYVERNO_REGISTRY}/kyverno/reports-controller`,
  'kyverno-cli': `${KYVERNO_REGISTRY}/kyverno/kyverno-cli`,
  'readiness-checker': `${KYVERNO_REGISTRY}/kyverno/readiness-checker`,
};

/** The digest of every image: those given over the ones Kyverno published for this release. */
export function kyvernoImageDigests(
  given: KyvernoArgs['imageDigests'],
): Partial<Record<KyvernoImage, string>> {
  return withPublishedDigests(KYVERNO_RELEASE, given);
}

/** The digest-pinned references the chart deploys with these arguments. */
export function kyvernoImageReferences(
  args: Pick<KyvernoArgs, 'imageDigests' | 'readinessCheckerTag'>,
): string[] {
  const digests = kyvernoImageDigests(args.imageDigests);
  return KYVERNO_IMAGES.map((image) => {
    const tag = image === 'readiness-checker' ? args.readinessCheckerTag : KYVERNO_CHART.appVersion;
    return `${KYVERNO_IMAGE_REPOSITORIES[image]}:${tag}@${digests[image] ?? '<required>'}`;
  });
}

/**
 * Webhook configurations the Kyverno admission controller creates at run time (Kyverno's
 * pkg/config names). The chart does not own them, so a plain uninstall leaves them behind: with
 * failurePolicy Fail they would then block every Pod in the cluster. The component adopts them.
 */
export const KYVERNO_WEBHOOK_CONFIGURATIONS = {
  validating: [
    'kyverno-policy-validating-webhook-cfg',
    'kyverno-resource-validating-webhook-cfg',
    'kyverno-exception-validating-webhook-cfg',
    'kyverno-cel-exception-validating-webhook-cfg',
    'kyverno-global-context-validating-webhook-cfg',
    'kyverno-cleanup-validating-webhook-cfg',
    'kyverno-ttl-validating-webhook-cfg',
  ],
  mutating: [
    'kyverno-policy-mutating-webhook-cfg',
    'kyverno-resource-mutating-webhook-cfg',
    'kyverno-verify-mutating-webhook-cfg',
  ],
} as const;

/**
 * Arguments of Kyverno. HA replica counts, failurePolicy Fail, Enforce/Deny and the system-namespace
 * exclusions are fixed: there is no argument to weaken them.
 */
export interface KyvernoArgs {
  /** The trust policy the pack enforces (loaded with `loadTrustPolicyFile`); the admission policy is rendered from it. */
  trustPolicy: RenderableTrustPolicy;
  /**
   * sha256 digest of Kyverno images, over the digests Kyverno published for this release
   * (platform-images.ts KYVERNO_RELEASE): `readiness-checker` has no public pin and must be given.
   */
  imageDigests?: Readonly<Partial<Record<KyvernoImage, string>>>;
  /** Tag shown next to the digest for the readiness-checker image (the chart has no default). Required. */
  readinessCheckerTag: string;
  /** Namespace for Kyverno. Default `kyverno`. */
  namespace?: string;
  /** Namespaces excluded from admission checks in addition to the system ones and Kyverno's own. Default none. */
  additionalExcludedNamespaces?: string[];
  /** Policy types to apply. Default `['ImageValidatingPolicy']` (exact); `ClusterPolicy` is stricter. */
  policyKinds?: KyvernoPolicyKind[];
}

export interface ValidatedKyverno {
  namespace: string;
  excludedNamespaces: string[];
  policies: KubernetesObject[];
  /** Every image's digest (given over published). */
  imageDigests: Record<KyvernoImage, string>;
}

const NEVER_EXCLUDED = ['default'];

/** Namespaces the admission policy skips: the system ones, Kyverno's own, then any the caller adds. */
export function kyvernoExcludedNamespaces(
  namespace = 'kyverno',
  additional: readonly string[] = [],
): string[] {
  return [...new Set([...SYSTEM_NAMESPACES, namespace, ...additional])];
}

export function validateKyvernoArgs(args: KyvernoArgs): ValidatedKyverno {
  const problems = new ArgsProblems();
  problems.rejectFixed(
    args,
    [
      'failurePolicy',
      'replicas',
      'validationFailureAction',
      'failureAction',
      'values',
      'forceFailurePolicyIgnore',
    ],
    'Kyverno (HA, failurePolicy Fail, Enforce)',
  );
  const imageDigests = kyvernoImageDigests(args.imageDigests);
  checkImageDigests(problems, 'imageDigests', KYVERNO_IMAGES, imageDigests, KYVERNO_RELEASE);
  if (!/^[\w][\w.-]{0,127}$/.test(args.readinessCheckerTag ?? '')) {
    problems.add('readinessCheckerTag', `expected an image tag, found ${String(args.readinessCheckerTag)}`);
  }
  const namespace = args.namespace ?? 'kyverno';
  if (!DNS1123_LABEL.test(namespace))
    problems.add('namespace', `expected a DNS-1123 label, found ${namespace}`);
  for (const [i, ns] of (args.additionalExcludedNamespaces ?? []).entries()) {
    if (!DNS1123_LABEL.test(ns))
      problems.add(`additionalExcludedNamespaces[${i}]`, `expected a DNS-1123 label, found ${ns}`);
    else if (NEVER_EXCLUDED.includes(ns))
      problems.add(`additionalExcludedNamespaces[${i}]`, `${ns} holds workloads and cannot be excluded`);
  }
  const excludedNamespaces = [
    ...new Set([...SYSTEM_NAMESPACES, namespace, ...(args.additionalExcludedNamespaces ?? [])]),
  ];
  let policies: KubernetesObject[] = [];
  try {
    policies = renderKyvernoPolicies(args.trustPolicy, { kinds: args.policyKinds, excludedNamespaces });
  } catch (e) {
    if (!(e instanceof KyvernoRenderError)) throw e;
    problems.add('trustPolicy', `${e.code}: ${e.message}`);
  }
  problems.throwIfAny('Kyverno');
  return {
    namespace,
    excludedNamespaces,
    policies,
    imageDigests: imageDigests as Record<KyvernoImage, string>,
  };
}

function imageTag(tag: string, digest: string): { tag: string } {
  // The chart prints `registry/repository:tag`; `tag@digest` makes that a digest-pinned reference.
  return { tag: `${tag}@${digest}` };
}

/** Chart values: HA, fail closed, system namespaces excluded, every image pinned by digest. */
export function kyvernoChartValues(args: KyvernoArgs, v: ValidatedKyverno): Record<string, unknown> {
  const d = v.imageDigests;
  const app = KYVERNO_CHART.appVersion;
  return {
    global: { image: { registry: KYVERNO_REGISTRY } },
    crds: { migration: { image: imageTag(app, d['kyverno-cli']) } },
    config: {
      webhooks: {
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: v.excludedNamespaces },
          ],
        },
      },
      excludeKyvernoNamespace: true,
    },
    features: { forceFailurePolicyIgnore: { enabled: false } },
    webhooksCleanup: { enabled: true, image: imageTag(args.readinessCheckerTag, d['readiness-checker']) },
    test: { image: imageTag(args.readinessCheckerTag, d['readiness-checker']) },
    admissionController: {
      replicas: 3,
      initContainer: { image: imageTag(app, d.kyvernopre) },
      container: { image: imageTag(app, d.kyverno) },
    },
    backgroundController: { replicas: 2, image: imageTag(app, d['background-controller']) },
    cleanupController: { replicas: 2, image: imageTag(app, d['cleanup-controller']) },
    reportsController: { replicas: 2, image: imageTag(app, d['reports-controller']) },
  };
}

/** Kyverno in HA with the trust policy's image verification applied as admission policy. */
export class Kyverno extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  readonly chart: k8s.helm.v4.Chart;
  readonly policies: k8s.apiextensions.CustomResource[];
  readonly webhookGuards: pulumi.CustomResource[];

  constructor(name: string, args: KyvernoArgs, opts?: pulumi.ComponentResourceOptions) {
    super('trustops:kyverno:Kyverno', name, {}, opts);
    const v = validateKyvernoArgs(args);

    this.namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: v.namespace, labels: { 'app.kubernetes.io/part-of': 'kyverno' } } },
      { parent: this },
    );

    // Adopted before the chart exists, deleted after it is gone: Pulumi deletes dependents first, so on
    // destroy the chart (and the controller that recreates webhooks) goes, then these configurations.
    this.webhookGuards = [
      ...KYVERNO_WEBHOOK_CONFIGURATIONS.validating.map(
        (n) =>
          new k8s.admissionregistration.v1.ValidatingWebhookConfiguration(
            `${name}-${n}`,
            { metadata: { name: n, annotations: { 'pulumi.com/patchForce': 'true' } } },
            { parent: this },
          ),
      ),
      ...KYVERNO_WEBHOOK_CONFIGURATIONS.mutating.map(
        (n) =>
          new k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            `${name}-${n}`,
            { metadata: { name: n, annotations: { 'pulumi.com/patchForce': 'true' } } },
            { parent: this },
          ),
      ),
    ];

    this.chart = new k8s.helm.v4.Chart(
      name,
      {
        chart: KYVERNO_CHART.chart,
        version: KYVERNO_CHART.version,
        repositoryOpts: { repo: KYVERNO_CHART.repo },
        namespace: this.namespace.metadata.name,
        values: kyvernoChartValues(args, v),
      },
      { parent: this, dependsOn: [this.namespace, ...this.webhookGuards] },
    );

    this.policies = v.policies.map(
      (p) =>
        new k8s.apiextensions.CustomResource(
          `${name}-${p.kind.toLowerCase()}`,
          { apiVersion: p.apiVersion, kind: p.kind, metadata: p.metadata, spec: p.spec },
          { parent: this, dependsOn: [this.chart] },
        ),
    );
    this.registerOutputs({
      namespace: this.namespace.metadata.name,
      policies: this.policies.map((p) => p.id),
    });
  }
}

export function createKyverno(
  name: string,
  args: KyvernoArgs,
  opts?: pulumi.ComponentResourceOptions,
): Kyverno {
  return new Kyverno(name, args, opts);
}
