import type { Finding } from '../../policy-pack/supply-chain/types';

/** A policy diagnostic the engine reported for a resource. */
export interface RecordedViolation {
  policyPack: string;
  policy: string;
  /** `mandatory` stops the operation; `warning` is advisory. */
  enforcementLevel: 'mandatory' | 'warning';
  urn?: string;
  message: string;
}

/** One image found in the stack's resources, with the verdict of the trust policy the pack enforced. */
export interface RecordedImage {
  image: string;
  digest?: string;
  allowed: boolean;
  /** Resources (URNs) that deploy this image. */
  resources: string[];
  findings: Pick<Finding, 'requirement' | 'code' | 'found'>[];
}

export type StackStatus = 'deployed' | 'previewed' | 'blocked' | 'failed' | 'skipped';

export interface StackRecord {
  name: string;
  layer: string;
  status: StackStatus;
  /** Resources the engine stepped through (URN, type, operation). */
  resources: { urn: string; type: string; op: string }[];
  /** Counts by operation, from the engine's summary. */
  changes: Record<string, number>;
  violations: RecordedViolation[];
  images: RecordedImage[];
  /** Why the stack failed or was skipped. */
  error?: string;
}

/**
 * The deployment record `trustops deploy` writes (documented in docs/cli.md): what ran, where, by
 * whom, under which pack, and what each image's verdict was.
 */
export interface DeploymentRecord {
  apiVersion: 'trustops.dev/v1alpha1';
  kind: 'DeploymentRecord';
  mode: 'deploy' | 'preview-only';
  /** `succeeded` when every stack ran; `blocked` on a mandatory violation; `failed` on any other failure. */
  outcome: 'succeeded' | 'blocked' | 'failed';
  startedAt: string;
  finishedAt: string;
  who: { user: string; host: string; ciActor?: string };
  pack: { name: string; version: string; dir: string; config: string; configSha256: string };
  stacks: StackRecord[];
}
