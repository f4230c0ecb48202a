import type { ResolvedSigner } from '../../policy-pack/supply-chain/sigstore';
import type { TrustedRootSource } from '../../policy-pack/supply-chain/trust-policy';
import type { TrustPolicy } from '../../policy-pack/supply-chain/types';

/**
 * The part of `ResolvedTrustPolicy` (policy-pack/supply-chain/trust-policy.ts) that the Kyverno renderer
 * reads: rules and exemptions as written, signers resolved (key files read into PEM, the
 * transparency-log default applied). A loaded policy is assignable to it; tests can pass plain data.
 */
export interface RenderableTrustPolicy {
  images: TrustPolicy['images'];
  exemptions?: TrustPolicy['exemptions'];
  unmatchedImages?: TrustPolicy['unmatchedImages'];
  resolvedSigners: Readonly<Record<string, ResolvedSigner>>;
  /** Where Sigstore trust material comes from. Absent or embedded: the public-good instance. */
  trustedRootSource?: TrustedRootSource;
}

export type RenderableSigner = ResolvedSigner;

/** Signers by name. */
export function signersByName(policy: RenderableTrustPolicy): Map<string, RenderableSigner> {
  return new Map(Object.entries(policy.resolvedSigners).map(([name, s]) => [name, { ...s, name }]));
}
