import * as pulumi from '@pulumi/pulumi';

/**
 * A kubeconfig for a GKE cluster's DNS-based control-plane endpoint (`gke-….<region>.gke.goog`),
 * authenticating through `gke-gcloud-auth-plugin` (the exec flow GKE requires since 1.26): no static
 * credential is ever written into state. The DNS endpoint serves a publicly trusted certificate, so no
 * cluster CA is embedded; access is decided by IAM (`container.clusters.connect`, in the GKE roles) and
 * then Kubernetes RBAC.
 *
 * CI with only application default credentials (a workload identity federation or service account key
 * file in GOOGLE_APPLICATION_CREDENTIALS, no `gcloud auth login`): set
 * `USE_GKE_GCLOUD_AUTH_PLUGIN=True`, install the plugin (`gcloud components install
 * gke-gcloud-auth-plugin`, or the `google-cloud-cli-gke-gcloud-auth-plugin` package) and run it with
 * `--use_application_default_credentials`: pass `{ useApplicationDefaultCredentials: true }`, which
 * adds that flag to the exec command.
 */
export function gkeKubeconfig(args: {
  name: pulumi.Input<string>;
  dnsEndpoint: pulumi.Input<string>;
  useApplicationDefaultCredentials?: boolean;
}): pulumi.Output<string> {
  return pulumi.all([args.name, args.dnsEndpoint]).apply(([name, endpoint]) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server: `https://${endpoint}` } }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      'current-context': name,
      users: [
        {
          name,
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: 'gke-gcloud-auth-plugin',
              ...(args.useApplicationDefaultCredentials
                ? { args: ['--use_application_default_credentials'] }
                : {}),
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
