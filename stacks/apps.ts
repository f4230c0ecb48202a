import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { SecureWorkload } from '../components/workload/secure-workload';
import type { AppsConfig } from './config';

/**
 * The apps layer: app teams' SecureWorkloads in their namespace, on the cluster the platform stack
 * exported (through a StackReference), or the ambient kubeconfig when no platform stack is named.
 */
export function appsProgram(config: AppsConfig): Record<string, pulumi.Input<unknown>> {
  const provider = config.platformStack
    ? new k8s.Provider('platform', {
        kubeconfig: new pulumi.StackReference(config.platformStack).requireOutput(
          'kubeconfig',
        ) as pulumi.Output<string>,
      })
    : undefined;
  const namespace = new k8s.core.v1.Namespace(
    config.namespace,
    { metadata: { name: config.namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    { provider },
  );
  const workloads = config.workloads.map(
    (w) =>
      new SecureWorkload(
        w.name,
        {
          namespace: config.namespace,
          image: w.image,
          replicas: w.replicas,
          containerPort: w.containerPort,
          confidential: w.confidential,
        },
        { provider, dependsOn: [namespace] },
      ),
  );
  return {
    namespace: namespace.metadata.name,
    deployments: workloads.map((w) => w.deployment.metadata.name),
  };
}
