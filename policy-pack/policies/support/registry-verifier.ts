import type { ResolvedTrustPolicy } from '../../supply-chain/trust-policy';
import type { ImageVerifierFactory, VerificationSettings } from './verification';

/** The trust policy of a configuration, its relative paths resolved against `settings.baseDir`. */
export function trustPolicyFromSettings(settings: VerificationSettings): ResolvedTrustPolicy {
  const { parseTrustPolicy } =
    require('../../supply-chain/trust-policy') as typeof import('../../supply-chain/trust-policy');
  return parseTrustPolicy(settings.trustPolicy as object, {
    baseDir: settings.baseDir,
    source: 'trusted-images.trustPolicy',
  });
}

/**
 * The production verifier: the trust policy parsed and resolved (a PolicyError when it is bad), a
 * registry client with the configured mirrors, and the supply-chain core. Required on first use, not at
 * load: the pack answers GetAnalyzerInfo before it pays for the Sigstore libraries (cold start).
 */
export const registryVerifierFactory: ImageVerifierFactory = (settings) => {
  const { createImageVerifier } = require('../../image-verifier') as typeof import('../../image-verifier');
  const policy = trustPolicyFromSettings(settings);
  return createImageVerifier({
    policy,
    registry: {
      ...(settings.registry.mirrors ? { mirrors: settings.registry.mirrors } : {}),
      ...(settings.registry.insecureRegistries
        ? { insecureRegistries: settings.registry.insecureRegistries }
        : {}),
    },
  });
};
