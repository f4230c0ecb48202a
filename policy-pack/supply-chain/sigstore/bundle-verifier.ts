import type { BundleVerifier, ResolvedSigner, TrustedRootMaterial } from './index';
import { SignatureError } from './errors';

export function createBundleVerifier(_opts: {
  trustedRoot: TrustedRootMaterial;
  signers: ResolvedSigner[];
}): BundleVerifier {
  throw new SignatureError('UNSUPPORTED', 'not implemented');
}
