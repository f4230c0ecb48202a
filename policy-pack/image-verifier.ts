import { createRegistryClient } from './registry/client';
import type { RegistryClient, RegistryClientOptions } from './registry/types';
import type { TrustedRootMaterial } from './supply-chain/sigstore';
import type { ResolvedTrustPolicy } from './supply-chain/trust-policy';
import type { ImageVerifier } from './supply-chain/types';

/**
 * The edge wiring of image verification: a registry client fetches manifests and attachments, the pure
 * supply-chain core decides. `verify` never throws: every failure is a blocked verdict whose finding
 * names the code, what was expected, what was found and a hint. Verdicts are cached per digest for the
 * life of the verifier (one process), so a program with many references to one image pays once.
 */
export interface ImageVerifierOptions {
  policy: ResolvedTrustPolicy;
  /** A client, or options to create one (mirrors, insecure registries, credentials...). */
  registry: RegistryClient | RegistryClientOptions;
  /** Clock for exemption expiry. Default `() => new Date()`. */
  now?: () => Date;
  /** Overrides the policy's trust material (a private Sigstore, or test fixtures). */
  trustedRoot?: TrustedRootMaterial;
}

export function isRegistryClient(r: RegistryClient | RegistryClientOptions): r is RegistryClient {
  return typeof (r as Partial<RegistryClient>).resolve === 'function';
}

export function createImageVerifier(opts: ImageVerifierOptions): ImageVerifier {
  const registry = isRegistryClient(opts.registry) ? opts.registry : createRegistryClient(opts.registry);
  void registry;
  throw new Error('not implemented');
}
