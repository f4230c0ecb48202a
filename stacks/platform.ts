import * as pulumi from '@pulumi/pulumi';
import { ConfidentialCluster } from '../components/gke/confidential-cluster';
import { ConfidentialNodePool } from '../components/gke/confidential-node-pool';
import { Kyverno } from '../components/kyverno/kyverno';
import { Spire } from '../components/spire/spire';
import type { PlatformConfig } from './config';
import { trustPolicyFromPackConfig } from './trust-policy';

/**
 * The platform layer: a hardened GKE cluster, its confidential node pools, SPIRE for workload
 * identity and Kyverno enforcing the same trust policy as the pack. Exports the kubeconfig the apps
 * layer deploys with.
 */
export function platformProgram(config: PlatformConfig): Record<string, pulumi.Input<unknown>> {
  const cluster = new ConfidentialCluster(config.cluster.name, {
    project: config.project,
    location: config.cluster.location,
    ipEndpoint: config.cluster.ipEndpoint,
    authorizedNetworks: config.cluster.authorizedNetworks,
    releaseChannel: config.cluster.releaseChannel,
    binaryAuthorization: config.cluster.binaryAuthorization,
    useApplicationDefaultCredentials: config.cluster.useApplicationDefaultCredentials,
  });
  const pools = config.nodePools.map(
    (pool) =>
      new ConfidentialNodePool(pool.name, {
        project: config.project,
        cluster: cluster.cluster.name,
        location: config.cluster.location,
        technology: pool.technology,
        machineType: pool.machineType,
        nodeLocations: pool.nodeLocations,
        machineTable: pool.machineTable,
        minNodeCount: pool.minNodeCount,
        maxNodeCount: pool.maxNodeCount,
        networkTags: [cluster.nodeNetworkTag],
      }),
  );
  const onCluster = { provider: cluster.provider, dependsOn: pools };
  new Spire('spire', config.spire, onCluster);
  new Kyverno(
    'kyverno',
    {
      trustPolicy: trustPolicyFromPackConfig(config.policyPackConfig, config.policyPack),
      imageDigests: config.kyverno.imageDigests,
      readinessCheckerTag: config.kyverno.readinessCheckerTag,
    },
    onCluster,
  );
  return {
    clusterName: cluster.cluster.name,
    kubeconfig: pulumi.secret(cluster.kubeconfig),
    nodePools: pools.map((p) => p.nodePool.name),
  };
}
