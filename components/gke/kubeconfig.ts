import * as pulumi from '@pulumi/pulumi';

/**
 * A kubeconfig for a GKE cluster that authenticates through `gke-gcloud-auth-plugin` (the exec flow GKE
 * requires since 1.26): no static credential is ever written into state.
 */
export function gkeKubeconfig(args: {
  name: pulumi.Input<string>;
  endpoint: pulumi.Input<string>;
  clusterCaCertificate: pulumi.Input<string>;
}): pulumi.Output<string> {
  return pulumi.all([args.name, args.endpoint, args.clusterCaCertificate]).apply(([name, endpoint, ca]) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server: `https://${endpoint}`, 'certificate-authority-data': ca } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      'current-context': name,
      users: [
        {
          name,
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: 'gke-gcloud-auth-plugin',
              installHint: 'Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin',
              provideClusterInfo: true,
              interactiveMode: 'Never',
            },
          },
        },
      ],
    }),
  );
}
