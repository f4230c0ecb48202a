import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { CONFIDENTIAL_NODE_LABEL, CONFIDENTIAL_TAINT_KEY } from '../gke/confidential-technology';
import { ArgsProblems, DIGEST_PINNED_IMAGE, DNS1123_LABEL } from '../validation';

/**
 * Arguments of an app team's workload. The restricted Pod Security settings (non-root, read-only root
 * filesystem, no capabilities, RuntimeDefault seccomp, no privilege escalation) are not arguments.
 */
export interface SecureWorkloadArgs {
  /** Namespace to deploy into (it must exist). System namespaces are rejected. */
  namespace: string;
  /** Image pinned by digest: `registry/repo@sha256:<hex>` (a tag before `@` is tolerated). Tags alone are rejected. */
  image: string;
  /** Default 2. */
  replicas?: number;
  /** Port the container listens on, if any. */
  containerPort?: number;
  /** Default false. When true, Pods schedule only onto ConfidentialNodePools (label + toleration). */
  confidential?: boolean;
  /** Default true: mount the SPIFFE Workload API (SPIRE CSI driver) at /spiffe-workload-api. */
  spiffe?: boolean;
  /** Plain environment variables. */
  env?: Record<string, string>;
  /** Default 65532 (the conventional `nonroot` user). Must not be 0. */
  runAsUser?: number;
  /** Default requests 100m/128Mi, limits 500m/256Mi. */
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Pods kept during voluntary disruptions. Default replicas - 1 (at least 1). */
  minAvailable?: number;
}

export interface ValidatedWorkload {
  replicas: number;
  runAsUser: number;
  minAvailable: number;
  confidential: boolean;
  spiffe: boolean;
}

const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateSecureWorkloadArgs(name: string, args: SecureWorkloadArgs): ValidatedWorkload {
  const problems = new ArgsProblems();
  problems.rejectFixed(
    args,
    [
      'securityContext',
      'privileged',
      'hostNetwork',
      'hostPID',
      'hostIPC',
      'volumes',
      'serviceAccountName',
      'automountServiceAccountToken',
    ],
    'SecureWorkload (restricted Pod Security, own ServiceAccount)',
  );
  if (!DNS1123_LABEL.test(name) || name.length > 53)
    problems.add('name', `expected a DNS-1123 label of at most 53 characters, found ${name}`);
  if (!DNS1123_LABEL.test(args.namespace ?? ''))
    problems.add('namespace', `expected a DNS-1123 label, found ${String(args.namespace)}`);
  else if (SYSTEM_NAMESPACES.includes(args.namespace))
    problems.add('namespace', `${args.namespace} is a system namespace; expected an application namespace`);
  if (typeof args.image !== 'string' || !DIGEST_PINNED_IMAGE.test(args.image)) {
    problems.add(
      'image',
      `expected an image pinned by digest (registry/repository@sha256:<64 hex>), found ${String(args.image)}`,
    );
  }
  const replicas = args.replicas ?? 2;
  if (!Number.isInteger(replicas) || replicas < 1)
    problems.add('replicas', `expected an integer >= 1, found ${replicas}`);
  const minAvailable = args.minAvailable ?? Math.max(1, replicas - 1);
  if (!Number.isInteger(minAvailable) || minAvailable < 0)
    problems.add('minAvailable', `expected an integer >= 0, found ${minAvailable}`);
  else if (replicas > 1 && minAvailable >= replicas) {
    problems.add(
      'minAvailable',
      `expected fewer than replicas (${replicas}) so that nodes can drain, found ${minAvailable}`,
    );
  }
  if (
    args.containerPort !== undefined &&
    (!Number.isInteger(args.containerPort) || args.containerPort < 1024 || args.containerPort > 65535)
  ) {
    problems.add(
      'containerPort',
      `expected an unprivileged port 1024-65535 (the container runs as non-root), found ${args.containerPort}`,
    );
  }
  const runAsUser = args.runAsUser ?? 65532;
  if (!Number.isInteger(runAsUser) || runAsUser < 1)
    problems.add('runAsUser', `expected a non-root user id >= 1, found ${runAsUser}`);
  for (const key of Object.keys(args.env ?? {})) {
    if (!ENV_NAME.test(key))
      problems.add(`env.${key}`, 'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)');
    if (key === 'SPIFFE_ENDPOINT_SOCKET')
      problems.add(`env.${key}`, 'is set by SecureWorkload when spiffe is on');
  }
  problems.throwIfAny('SecureWorkload');
  return {
    replicas,
    runAsUser,
    minAvailable,
    confidential: args.confidential ?? false,
    spiffe: args.spiffe ?? true,
  };
}

const SPIFFE_MOUNT = '/spiffe-workload-api';

/** Label marking a workload that must run on confidential nodes (the pack's default marker). */
export const CONFIDENTIAL_WORKLOAD_MARKER = 'trustops.dev/confidential';

/** A Deployment pinned by digest under restricted Pod Security, with its ServiceAccount and PodDisruptionBudget. */
export class SecureWorkload extends pulumi.ComponentResource {
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;

  constructor(name: string, args: SecureWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super('trustops:workload:SecureWorkload', name, {}, opts);
    const v = validateSecureWorkloadArgs(name, args);
    const selectorLabels = { 'app.kubernetes.io/name': name };
    // The marker tells the pack (confidential-workloads-scheduled) that this workload must land on
    // confidential nodes, so a later edit that drops the nodeSelector or toleration is caught.
    const labels: Record<string, string> = {
      ...selectorLabels,
      'app.kubernetes.io/managed-by': 'trustops',
      ...(v.confidential ? { [CONFIDENTIAL_WORKLOAD_MARKER]: 'true' } : {}),
    };

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      name,
      { metadata: { name, namespace: args.namespace, labels }, automountServiceAccountToken: false },
      { parent: this },
    );

    const volumes: k8s.types.input.core.v1.Volume[] = [
      { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    ];
    const mounts: k8s.types.input.core.v1.VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
    const env = Object.entries(args.env ?? {}).map(([k, value]) => ({ name: k, value }));
    if (v.spiffe) {
      volumes.push({ name: 'spiffe-workload-api', csi: { driver: 'csi.spiffe.io', readOnly: true } });
      mounts.push({ name: 'spiffe-workload-api', mountPath: SPIFFE_MOUNT, readOnly: true });
      env.push({ name: 'SPIFFE_ENDPOINT_SOCKET', value: `unix://${SPIFFE_MOUNT}/spire-agent.sock` });
    }

    this.deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
          replicas: v.replicas,
          selector: { matchLabels: selectorLabels },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: this.serviceAccount.metadata.name,
              automountServiceAccountToken: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: v.runAsUser,
                runAsGroup: v.runAsUser,
                fsGroup: v.runAsUser,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              ...(v.confidential
                ? {
                    nodeSelector: { [CONFIDENTIAL_NODE_LABEL]: 'true' },
                    tolerations: [
                      { key: CONFIDENTIAL_TAINT_KEY, operator: 'Equal', value: 'true', effect: 'NoSchedule' },
                    ],
                  }
                : {}),
              containers: [
                {
                  name,
                  image: args.image,
                  imagePullPolicy: 'IfNotPresent',
                  ...(args.containerPort !== undefined
                    ? { ports: [{ containerPort: args.containerPort }] }
                    : {}),
                  env,
                  resources: {
                    requests: args.resources?.requests ?? { cpu: '100m', memory: '128Mi' },
                    limits: args.resources?.limits ?? { cpu: '500m', memory: '256Mi' },
                  },
                  securityContext: {
                    runAsNonRoot: true,
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ['ALL'] },
                    seccompProfile: { type: 'RuntimeDefault' },
                  },
                  volumeMounts: mounts,
                },
              ],
              volumes,
            },
          },
        },
      },
      { parent: this },
    );

    this.podDisruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
      name,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: { minAvailable: v.minAvailable, selector: { matchLabels: selectorLabels } },
      },
      { parent: this },
    );
    this.registerOutputs({ deployment: this.deployment.metadata.name });
  }
}

export function createSecureWorkload(
  name: string,
  args: SecureWorkloadArgs,
  opts?: pulumi.ComponentResourceOptions,
): SecureWorkload {
  return new SecureWorkload(name, args, opts);
}
