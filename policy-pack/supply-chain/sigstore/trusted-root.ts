import type { TrustedRootMaterial } from './index';
import { SignatureError } from './errors';

/** Parse a `trusted_root.json` (Sigstore TrustedRoot, any v0.1 media type). Throws TRUST_ROOT_INVALID. */
export function loadTrustedRoot(_json: unknown, _source = 'trusted root'): TrustedRootMaterial {
  throw new SignatureError('UNSUPPORTED', 'not implemented');
}

/** The Sigstore public-good trusted root shipped inside the pack, for offline use. */
export function embeddedPublicGoodRoot(): TrustedRootMaterial {
  throw new SignatureError('UNSUPPORTED', 'not implemented');
}
