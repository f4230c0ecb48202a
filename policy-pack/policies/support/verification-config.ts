import { trustPolicyBaseDir } from '../../config';
import type { TrustPolicy } from '../../supply-chain/types';
import trustPolicySchema from '../../supply-chain/trust-policy.schema.json';
import { inlineDefinitions } from './inline-schema';
import type { RegistrySettings, VerificationSettings } from './verification';

/** Config keys shared by the policies that verify images (trusted-images, images-pinned-by-digest). */
export interface VerificationConfig {
  /** The trust policy document (the same one `trustops verify --policy` reads), as an object. */
  trustPolicy?: TrustPolicy;
  registry: RegistrySettings;
  /**
   * Directory relative paths in the trust policy (publicKeyFile, trustedRoot.file) resolve against:
   * absolute, or relative to the pack's folder. Default: the pack's folder.
   */
  trustPolicyBaseDir?: string;
}

let inlined: Record<string, unknown> | undefined;
/** The trust policy's JSON schema, self-contained so the engine can validate it at Configure. */
export function trustPolicyConfigSchema(): Record<string, unknown> {
  inlined ??= inlineDefinitions(trustPolicySchema as Record<string, unknown>);
  return inlined;
}

export function verificationConfigProperties(): Record<string, Record<string, unknown>> {
  return {
    trustPolicy: trustPolicyConfigSchema(),
    registry: {
      type: 'object',
      description: 'How the pack reaches registries.',
      additionalProperties: false,
      default: {},
      properties: {
        mirrors: {
          type: 'object',
          description: 'Registry host -> store: oci-layout:/dir or https://mirror.',
          maxProperties: 64,
          additionalProperties: { type: 'string', minLength: 1, maxLength: 4096 },
        },
        insecureRegistries: {
          type: 'array',
          description: 'Hosts that may be reached over plain HTTP although not loopback.',
          maxItems: 64,
          items: { type: 'string', minLength: 1, maxLength: 255 },
        },
      },
    },
    trustPolicyBaseDir: {
      type: 'string',
      minLength: 1,
      maxLength: 4096,
      description:
        "Directory relative paths in the trust policy resolve against: absolute, or relative to the pack's folder (default: the pack's folder).",
    },
  };
}

/**
 * `packDir`: the pack's folder, which is its working directory when Pulumi runs it; relative paths
 * resolve as every reader of a pack config resolves them (trustPolicyBaseDir() in ../../config.ts).
 */
export function settingsFrom(
  config: VerificationConfig & { trustPolicy: TrustPolicy },
  packDir: string = process.cwd(),
): VerificationSettings {
  return {
    trustPolicy: config.trustPolicy,
    registry: config.registry,
    baseDir: trustPolicyBaseDir(config, packDir),
  };
}
