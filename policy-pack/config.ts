/**
 * The pack's config document: what `pulumi up --policy-pack-config FILE` reads, keyed by policy name.
 * Pure data, a builder and the one reader of its trust policy; importing this module starts nothing
 * (unlike ./index.ts), so the CLI, the stacks and tests build and read configs from here.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ResolvedTrustPolicy } from './supply-chain/trust-policy';
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
  /**
   * Directory the trust policy's relative paths (publicKeyFile, trustedRoot.file) resolve against:
   * absolute, or relative to the pack folder (see trustPolicyBaseDir()). Default: the pack folder.
   */
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

/** What the readers of a pack config file can get wrong, coded (DESIGN.md convention 3). */
export type PackConfigErrorCode = 'PACK_CONFIG_UNREADABLE' | 'TRUST_POLICY_MISSING';

export class PackConfigError extends Error {
  constructor(
    readonly code: PackConfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PackConfigError';
  }
}

/**
 * Where the trust policy's relative paths (`publicKeyFile`, `trustedRoot.file`, `trustedRoot.tuf.root`
 * and `cacheDir`) resolve for a pack config entry: its `trustPolicyBaseDir`, itself absolute or relative
 * to the pack folder, else the pack folder. The pack can do nothing else (the engine hands it the config
 * document, not the file's path, and runs it in its own folder), so `trustops deploy` and the stacks,
 * which read the same file, resolve exactly this way too: one key file, wherever it is read.
 */
export function trustPolicyBaseDir(
  entry: { trustPolicyBaseDir?: unknown } | undefined,
  packDir: string,
): string {
  const dir = entry?.trustPolicyBaseDir;
  return path.resolve(packDir, typeof dir === 'string' && dir !== '' ? dir : '.');
}

/** A pack config file as JSON (`--policy-pack-config FILE`). Throws PackConfigError PACK_CONFIG_UNREADABLE. */
export function readPackConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PackConfigError(
      'PACK_CONFIG_UNREADABLE',
      `cannot use ${file} as the policy pack config: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PackConfigError('PACK_CONFIG_UNREADABLE', `${file} is not a JSON object keyed by policy name`);
  }
  return parsed as Record<string, unknown>;
}

/** The `trusted-images` entry of a pack config document, when it is an object. */
export function trustedImagesEntry(
  config: Record<string, unknown>,
): { trustPolicy?: unknown; trustPolicyBaseDir?: unknown; registry?: unknown } | undefined {
  const entry = config['trusted-images'];
  return typeof entry === 'object' && entry !== null && !Array.isArray(entry)
    ? (entry as Record<string, unknown>)
    : undefined;
}

/**
 * The trust policy the pack enforces, read from a pack config file exactly as the pack reads it: the
 * document under `trusted-images.trustPolicy`, relative paths resolved by trustPolicyBaseDir() against
 * `packDir`. Throws PackConfigError (unreadable file, no trust policy) or the loader's PolicyError.
 */
export function readPackTrustPolicy(file: string, packDir: string): ResolvedTrustPolicy {
  const entry = trustedImagesEntry(readPackConfigFile(file));
  const document = entry?.trustPolicy;
  if (typeof document !== 'object' || document === null) {
    throw new PackConfigError(
      'TRUST_POLICY_MISSING',
      `${file} holds no trust policy under trusted-images.trustPolicy: put the trust policy the pack enforces there`,
    );
  }
  // Required here, not at load: the pack imports this module for trustPolicyBaseDir() and must not pay
  // for the trust-policy loader before its first image (cold start, bench:pack).
  const { parseTrustPolicy } =
    require('./supply-chain/trust-policy') as typeof import('./supply-chain/trust-policy');
  return parseTrustPolicy(document, {
    baseDir: trustPolicyBaseDir(entry, packDir),
    source: `${file} (trusted-images.trustPolicy)`,
  });
}
