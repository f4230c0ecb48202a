import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  PackConfigError,
  readPackConfigFile,
  readPackTrustPolicy,
  trustedImagesEntry,
} from '../../policy-pack/config';
import { IMAGES_PINNED_BY_DIGEST } from '../../policy-pack/policies/images-pinned-by-digest';
import { TRUSTED_IMAGES } from '../../policy-pack/policies/trusted-images';
import type { ResolvedTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import { DeployError } from './errors';

/**
 * The pack config as `trustops deploy` reads it: with the pack's own reader (policy-pack/config.ts), so
 * a relative `publicKeyFile` names the same file for the deployment record as for the pack the engine
 * runs (`trustPolicyBaseDir`, relative to the pack folder). Undefined when the config holds no trust
 * policy (the record then lists no verdicts); an unreadable file is DeployError PACK_CONFIG_REQUIRED.
 */
export function deployTrustPolicy(
  configFile: string,
  packDir: string,
):
  | {
      policy: ResolvedTrustPolicy;
      registry: { mirrors?: Record<string, string>; insecureRegistries?: string[] };
    }
  | undefined {
  try {
    const entry = trustedImagesEntry(readPackConfigFile(configFile));
    if (!entry?.trustPolicy) return undefined;
    const registry = (entry.registry ?? {}) as {
      mirrors?: Record<string, string>;
      insecureRegistries?: string[];
    };
    return { policy: readPackTrustPolicy(configFile, packDir), registry };
  } catch (e) {
    if (e instanceof PackConfigError) {
      throw new DeployError('PACK_CONFIG_REQUIRED', e.message, { cause: e });
    }
    throw e;
  }
}

/** The pack's policies that read registries (their config has `registry`). */
const IMAGE_POLICIES = [TRUSTED_IMAGES, IMAGES_PINNED_BY_DIGEST];

/**
 * `--registry-mirror` / `--insecure-registry` must reach the pack the engine runs, not only the
 * record: they are merged into a copy of the pack config written next to the record, and that copy
 * is what the stacks run with. Returns the original file when there is nothing to add.
 */
export function packConfigWithRegistry(
  configFile: string,
  registry: { mirrors: Record<string, string>; insecureRegistries: string[] },
  outFile: string,
): string {
  if (Object.keys(registry.mirrors).length === 0 && registry.insecureRegistries.length === 0)
    return configFile;
  let config: Record<string, unknown>;
  try {
    config = readPackConfigFile(configFile);
  } catch (e) {
    if (!(e instanceof PackConfigError)) throw e;
    throw new DeployError('PACK_CONFIG_REQUIRED', e.message, { cause: e });
  }
  for (const policy of IMAGE_POLICIES) {
    const entry = config[policy];
    const object: Record<string, unknown> =
      typeof entry === 'string'
        ? { enforcementLevel: entry }
        : { ...((entry as Record<string, unknown>) ?? {}) };
    const current = (object['registry'] ?? {}) as {
      mirrors?: Record<string, string>;
      insecureRegistries?: string[];
    };
    object['registry'] = {
      ...current,
      mirrors: { ...current.mirrors, ...registry.mirrors },
      insecureRegistries: [
        ...new Set([...(current.insecureRegistries ?? []), ...registry.insecureRegistries]),
      ],
    };
    config[policy] = object;
  }
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(config, null, 2) + '\n');
  return outFile;
}
