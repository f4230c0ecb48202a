/**
 * What a `kubernetes:` resource type token names. The provider registers built-in kinds as
 * `kubernetes:<group>/<version>:<Kind>` (`kubernetes:apps/v1:Deployment`) and a CustomResource as
 * `kubernetes:<apiVersion>:<Kind>` (`kubernetes:argoproj.io/v1alpha1:Workflow`), so the group tells them
 * apart.
 */

export interface KubernetesKind {
  group: string;
  kind: string;
  /** True when the group is served by Kubernetes itself, false for custom resources (CRDs, aggregated APIs). */
  builtIn: boolean;
}

/**
 * The API groups Kubernetes serves itself that have a dot in their name. A CRD's group must contain a
 * dot (the API server refuses others), so every dotless group (core, apps, batch, autoscaling, policy,
 * extensions) is built in. A group under k8s.io that is not listed here (gateway.networking.k8s.io,
 * snapshot.storage.k8s.io: CRDs approved for the k8s.io namespace) is treated as custom: that only
 * searches it more thoroughly.
 */
const BUILT_IN_DOTTED_GROUPS = new Set([
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'auditregistration.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'settings.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

/**
 * Groups whose resources are Pulumi components or provider-side renderers, not Kubernetes objects:
 * their children (yaml/v2, helm.sh/v4) are resources of their own, or they are opaque (helm.sh/v3).
 */
const COMPONENT_GROUPS = new Set(['helm.sh', 'yaml', 'kustomize']);

/**
 * A Kind is a DNS-1035 label once lower-cased, so it may hold hyphens; a stricter pattern would let a
 * custom resource named `My-Kind` escape every check.
 */
const KUBERNETES_TYPE = /^kubernetes:(?:([^/:]+)\/)?([^/:]+):([A-Za-z0-9][A-Za-z0-9_-]*)$/;
const VERSION = /^v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;

/** The kind behind a `kubernetes:` type token, or undefined for other providers and for components. */
export function kubernetesKind(type: string): KubernetesKind | undefined {
  const m = KUBERNETES_TYPE.exec(type);
  if (!m) return undefined;
  // A CustomResource with apiVersion "v1" registers `kubernetes:v1:<Kind>`: the core group, which the
  // provider creates like the built-in type. Other group-less tokens (yaml:ConfigFile) are components.
  if (m[1] === undefined && !VERSION.test(m[2]!)) return undefined;
  const group = m[1] ?? 'core';
  if (COMPONENT_GROUPS.has(group)) return undefined;
  return {
    group,
    kind: m[3]!.replace(/Patch$/, ''),
    builtIn: !group.includes('.') || BUILT_IN_DOTTED_GROUPS.has(group),
  };
}
