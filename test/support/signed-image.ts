import {
  publishSignedImage as publish,
  type BundleSigner,
  type PublishOptions,
  type PublishedImage,
} from '../../cli/oci/publish';
import { keyBundleSigner, keyHintOf, type KeyPair } from '../../cli/oci/sign-key';
import type { MockIdentity, SigstoreMock } from './sigstore-mock';

export type { AttestationSpec } from '../../cli/oci/publish';

/**
 * The test bed's "signed image with attestations": cli/oci/publish with either keyless signing through
 * the Sigstore mock or a key (witnessed by the mock's Rekor when `mock` is given too). Suites start from
 * this real happy path and change one thing.
 */

export function mockBundleSigner(mock: SigstoreMock, identity?: MockIdentity): BundleSigner {
  return {
    signBlob: (data) => mock.signBlob(data, identity),
    signDsse: (payload, payloadType) => mock.signDsse(payload, payloadType, identity),
  };
}

export interface SignedImageOptions extends Omit<PublishOptions, 'signer'> {
  /** Keyless through this mock (with `identity`), unless `key` is given. */
  mock?: SigstoreMock;
  identity?: MockIdentity;
  /** Key-based; with `mock` too, bundles also get a tlog entry from the mock's Rekor. */
  key?: KeyPair;
}

export interface SignedImage extends PublishedImage {
  /** Public key hint when key-based. */
  keyHint?: string;
}

export async function publishSignedImage(opts: SignedImageOptions): Promise<SignedImage> {
  const { mock, identity, key, ...rest } = opts;
  let signer: BundleSigner;
  if (key) signer = keyBundleSigner(key, mock ? { rekorUrl: mock.rekorUrl } : {});
  else if (mock) signer = mockBundleSigner(mock, identity);
  else throw new Error('publishSignedImage: give a mock (keyless) or a key');
  const published = await publish({ ...rest, signer });
  return key ? { ...published, keyHint: keyHintOf(key.publicKeyPem) } : published;
}
