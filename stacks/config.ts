import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import type { BinaryAuthorizationArgs } from '../components/gke/confidential-cluster';
import type { AdditionalMachine, ConfidentialTechnology } from '../components/gke/confidential-technology';
import type { KyvernoImage } from '../components/kyverno/kyverno';
import type { SpireImage } from '../components/spire/spire';

/** The project root (Pulumi.yaml): relative paths in stack config resolve against it. */
export const PROJECT_DIR = path.resolve(__dirname, '..');

export interface NodePoolConfig {
  name: string;
  technology?: ConfidentialTechnology;
  machineType?: string;
  nodeLocations?: string[];
  /** Zones (or shapes) you verified, added to the machine table (see components/README.md). */
  machineTable?: AdditionalMachine[];
  minNodeCount?: number;
  maxNodeCount?: number;
}

/** `trustops:*` settings of a platform stack (see Pulumi.platform-example.yaml). */
export interface PlatformConfig {
  project: string;
  policyPackConfig: string;
  /**
   * The policy pack folder (`trustops:policyPack`, default `policy-pack`): the trust policy's relative
   * paths resolve against it, as the pack resolves them (policy-pack/config.ts trustPolicyBaseDir()).
   */
  policyPack: string;
  cluster: {
    name: string;
    location: string;
    /** Control-plane IP endpoints; default none (the IAM-guarded DNS endpoint only). */
    ipEndpoint?: 'none' | 'private' | 'public';
    authorizedNetworks?: { cidrBlock: string; displayName: string }[];
    releaseChannel?: 'RAPID' | 'REGULAR' | 'STABLE';
    binaryAuthorization: BinaryAuthorizationArgs;
    /** Kubeconfig runs gke-gcloud-auth-plugin with --use_application_default_credentials (CI with ADC only). */
    useApplicationDefaultCredentials?: boolean;
  };
  nodePools: NodePoolConfig[];
  /** `imageDigests`: over the published ones the components default to (components/platform-images.ts). */
  spire: { trustDomain: string; clusterName: string; imageDigests?: Partial<Record<SpireImage, string>> };
  kyverno: { imageDigests?: Partial<Record<KyvernoImage, string>>; readinessCheckerTag: string };
}

export interface WorkloadConfig {
  name: string;
  image: string;
  replicas?: number;
  containerPort?: number;
  confidential?: boolean;
}

/** `trustops:*` settings of an apps stack (see Pulumi.apps-example.yaml). */
export interface AppsConfig {
  /** `org/project/stack` of the platform stack whose `kubeconfig` output the apps deploy to; default: ambient kubeconfig. */
  platformStack?: string;
  namespace: string;
  workloads: WorkloadConfig[];
}

export function readPlatformConfig(): PlatformConfig {
  const config = new pulumi.Config('trustops');
  return {
    project: new pulumi.Config('gcp').require('project'),
    policyPackConfig: path.resolve(PROJECT_DIR, config.require('policyPackConfig')),
    policyPack: path.resolve(PROJECT_DIR, config.get('policyPack') ?? 'policy-pack'),
    cluster: config.requireObject('cluster'),
    nodePools: config.requireObject('nodePools'),
    spire: config.requireObject('spire'),
    kyverno: config.requireObject('kyverno'),
  };
}

export function readAppsConfig(): AppsConfig {
  const config = new pulumi.Config('trustops');
  return {
    platformStack: config.get('platformStack'),
    namespace: config.require('namespace'),
    workloads: config.requireObject('workloads'),
  };
}
