/**
 * The pack's config document: what `pulumi up --policy-pack-config FILE` reads, keyed by policy name.
 * Pure data and a builder; importing this module starts nothing (unlike ./index.ts), so the CLI and
 * tests build configs from here.
 */
import type { AdmissionControlEnforcedConfig } from './policies/admission-control-enforced';
import type { AllowedRegistriesConfig } from './policies/allowed-registries';
import type { ConfidentialWorkloadsScheduledConfig } from './policies/confidential-workloads-scheduled';
import type { GkeClusterHardenedConfig } from './policies/gke-cluster-hardened';
import type { GkeConfidentialNodesConfig } from './policies/gke-confidential-nodes';
import type { ImagesPinnedByDigestConfig } from './policies/images-pinned-by-digest';
import type { TrustedImagesConfig } from './policies/trusted-images';
import type { RegistrySettings } from './policies/support/verification';
import type { TrustPolicy } from './supply-chain/types';
import type { NotImageProperty } from './workloads';

export type EnforcementLevel = 'advisory' | 'mandatory' | 'remediate' | 'disabled';

type Entry<T> = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Partial<T>);

// A type literal (not an interface) so it is assignable to index-signature types such as the harness's.
export type PackConfig = {
  all?: EnforcementLevel;
  'trusted-images'?: Entry<TrustedImagesConfig>;
  'images-pinned-by-digest'?: Entry<ImagesPinnedByDigestConfig>;
  'allowed-registries'?: Entry<AllowedRegistriesConfig>;
  'gke-confidential-nodes'?: Entry<GkeConfidentialNodesConfig>;
  'gke-cluster-hardened'?: Entry<GkeClusterHardenedConfig>;
  'admission-control-enforced'?: Entry<AdmissionControlEnforcedConfig>;
  'confidential-workloads-scheduled'?: Entry<ConfidentialWorkloadsScheduledConfig>;
};

export interface PackConfigInput {
  /** The trust policy document (already parsed: JSON or YAML object). */
  trustPolicy: TrustPolicy;
  /** Directory the trust policy's relative paths resolve against (the policy file's folder). */
  trustPolicyBaseDir?: string;
  registry?: RegistrySettings;
  /** Registry prefixes images may come from. Default: none (every image blocked by allowed-registries). */
  allowedPrefixes?: string[];
  /** Custom-resource `image` properties that are not container images (see workloads/not-image.ts). */
  notImageProperties?: NotImageProperty[];
  /** `remediate` pins tags to verified digests; default mandatory. */
  pinningLevel?: 'mandatory' | 'remediate' | 'advisory';
  /** Extra per-policy entries merged over the generated ones. */
  overrides?: PackConfig;
}

/**
 * The config document for one trust policy. The trust policy goes to both trusted-images and
 * images-pinned-by-digest (its remediation verifies before it pins, and @pulumi/policy gives each policy
 * only its own config); equal settings make the two share one verification session.
 */
export function buildPackConfig(input: PackConfigInput): PackConfig {
  const verification = {
    trustPolicy: input.trustPolicy,
    ...(input.trustPolicyBaseDir ? { trustPolicyBaseDir: input.trustPolicyBaseDir } : {}),
    ...(input.registry ? { registry: input.registry } : {}),
  };
  // every policy that reads workload images must agree on what is not an image
  const notImages = input.notImageProperties ? { notImageProperties: input.notImageProperties } : {};
  const config: PackConfig = {
    'trusted-images': { ...verification, ...notImages },
    'images-pinned-by-digest': {
      enforcementLevel: input.pinningLevel ?? 'mandatory',
      ...verification,
      ...notImages,
    },
    'allowed-registries': { allowedPrefixes: input.allowedPrefixes ?? [], ...notImages },
  };
  for (const [name, entry] of Object.entries(input.overrides ?? {})) {
    const base = (config as Record<string, unknown>)[name];
    // A bare level keeps the generated settings (a remediate level still needs the trust policy).
    const merge = typeof entry === 'string' ? { enforcementLevel: entry } : (entry as object);
    (config as Record<string, unknown>)[name] =
      typeof base === 'object' ? { ...(base as object), ...merge } : entry;
  }
  return config;
}
