import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { appsProgram } from './apps';
import type { AppsConfig, PlatformConfig } from './config';
import { platformProgram } from './platform';

/**
 * The demo (`npm start`): both layers in one program, plus a node pool someone added by hand,
 * outside the components, without confidential nodes: the pack must catch it.
 */
export function demoProgram(
  platform: PlatformConfig,
  apps: AppsConfig,
): Record<string, pulumi.Input<unknown>> {
  const platformOutputs = platformProgram(platform);
  new gcp.container.NodePool('batch-standard', {
    project: platform.project,
    cluster: platformOutputs['clusterName'] as pulumi.Output<string>,
    location: platform.cluster.location,
    nodeCount: 1,
    nodeConfig: { machineType: 'e2-standard-4', imageType: 'COS_CONTAINERD' },
  });
  return { ...platformOutputs, ...appsProgram(apps) };
}
