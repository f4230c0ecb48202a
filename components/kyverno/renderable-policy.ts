import type { ImageRule, KeylessSigner, TrustPolicy } from '../../policy-pack/supply-chain/types';

/**
 * A signer after the trust-policy loader resolved it: key files read into PEM, the transparency-log
 * default applied. This is the part of `ResolvedTrustPolicy` (policy-pack/supply-chain/trust-policy.ts)
 * that the Kyverno renderer needs; any resolved policy is assignable to it.
 */
export interface RenderableSigner {
  name: string;
  keyless?: KeylessSigner;
  key?: { publicKeyPem: string; requireTransparencyLog: boolean };
}

/** The trust policy as the renderer reads it: rules and exemptions as written, signers resolved. */
export interface RenderableTrustPolicy {
  images: ImageRule[];
  exemptions?: TrustPolicy['exemptions'];
  unmatchedImages?: TrustPolicy['unmatchedImages'];
  /** Resolved signers, either as a list or keyed by name. */
  signers: readonly RenderableSigner[] | Readonly<Record<string, Omit<RenderableSigner, 'name'>>>;
}

/** Signers by name, whichever of the two shapes the loader produced. */
export function signersByName(policy: RenderableTrustPolicy): Map<string, RenderableSigner> {
  const byName = new Map<string, RenderableSigner>();
  if (Array.isArray(policy.signers)) {
    for (const s of policy.signers as readonly RenderableSigner[]) byName.set(s.name, s);
  } else {
    for (const [name, s] of Object.entries(
      policy.signers as Record<string, Omit<RenderableSigner, 'name'>>,
    )) {
      byName.set(name, { name, ...s });
    }
  }
  return byName;
}
