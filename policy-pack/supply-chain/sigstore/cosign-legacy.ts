import type { CosignLayer } from '../../registry/types';
import { SignatureError } from './errors';

/**
 * Turn a cosign tag-scheme layer (signature in annotations, certificate, chain, Rekor SET bundle, RFC 3161
 * timestamp) into Sigstore bundle JSON that `BundleVerifier.verify` accepts.
 */
export function cosignLayerToBundle(_layer: CosignLayer, _kind: 'signature' | 'attestation'): unknown {
  throw new SignatureError('UNSUPPORTED', 'not implemented');
}
