import type { SerializedBundle } from '@sigstore/bundle';
import type { Descriptor } from '../../policy-pack/registry/types';
import {
  attachBundleReferrer,
  attachCosignAttestations,
  attachCosignSignatures,
  imageSubject,
  inTotoStatement,
  simpleSigningPayload,
  type CosignAttestationInput,
  type CosignSignatureInput,
} from '../../cli/oci/attach';
import { buildImage, type BuildImageOptions, type OciImage } from '../../cli/oci/image';
import { IN_TOTO_PAYLOAD_TYPE, SIGSTORE_BUNDLE_V03 } from '../../cli/oci/media-types';
import {
  keyHintOf,
  signBlobWithKey,
  signDsseWithKey,
  signRawWithKey,
  type KeyPair,
} from '../../cli/oci/sign-key';
import { pushImage, type OciTarget } from '../../cli/oci/target';
import { cosignRekorBundle, type MockIdentity, type SigstoreMock } from './sigstore-mock';
import { X509Certificate } from 'node:crypto';

/**
 * One call for suites that need "a signed image with attestations": builds and pushes an image, signs
 * it (keyless through the mock, or with a key) and attaches signature and attestations in the chosen
 * format(s). Every part is real; suites change one thing from here to build negative cases.
 */

export interface AttestationSpec {
  predicateType: string;
  predicate: unknown;
  /** Defaults to the image reference and digest. */
  subjects?: { name: string; digest: Record<string, string> }[];
}

export interface SignedImageOptions {
  target: OciTarget;
  /** Registry host part of the reference (`127.0.0.1:5000`), used in payloads and statement subjects. */
  host: string;
  repo: string;
  tag?: string;
  image?: Partial<BuildImageOptions>;
  /** Keyless through this mock (with `identity`), or key-based with `key`. Exactly one. */
  mock?: SigstoreMock;
  identity?: MockIdentity;
  key?: KeyPair;
  /** Which attachment formats to write. Default both. */
  formats?: ('cosign' | 'referrer')[];
  /** Sign the image itself (simple-signing). Default true. */
  sign?: boolean;
  attestations?: AttestationSpec[];
}

export interface SignedImage {
  image: OciImage;
  /** `host/repo@sha256:...` */
  reference: string;
  descriptor: Descriptor;
  /** The Sigstore bundles made: the image signature first (when signed), then one per attestation. */
  bundles: { kind: 'signature' | 'attestation'; predicateType?: string; bundle: SerializedBundle }[];
  /** Public key hint when key-based. */
  keyHint?: string;
}

function certificatePem(bundle: SerializedBundle): string | undefined {
  const m = bundle.verificationMaterial;
  const der = m.certificate?.rawBytes ?? m.x509CertificateChain?.certificates[0]?.rawBytes;
  return der ? new X509Certificate(Buffer.from(der, 'base64')).toString() : undefined;
}

export async function publishSignedImage(opts: SignedImageOptions): Promise<SignedImage> {
  if (Boolean(opts.mock) === Boolean(opts.key))
    throw new Error('publishSignedImage: give exactly one of mock or key');
  const formats = new Set(opts.formats ?? ['cosign', 'referrer']);
  const image = buildImage({ seed: `${opts.repo}:${opts.tag ?? 'latest'}`, ...opts.image });
  const descriptor = await pushImage(opts.target, opts.repo, image, opts.tag ?? 'latest');
  const name = `${opts.host}/${opts.repo}`;
  const result: SignedImage = {
    image,
    reference: `${name}@${image.digest}`,
    descriptor,
    bundles: [],
    ...(opts.key ? { keyHint: keyHintOf(opts.key.publicKeyPem) } : {}),
  };
  const rekorUrl = opts.mock?.rekorUrl;
  const signBlob = (data: Buffer): Promise<SerializedBundle> =>
    opts.key ? signBlobWithKey(data, opts.key) : (opts.mock as SigstoreMock).signBlob(data, opts.identity);
  const signDsse = (payload: Buffer): Promise<SerializedBundle> =>
    opts.key
      ? signDsseWithKey(payload, IN_TOTO_PAYLOAD_TYPE, opts.key, rekorUrl ? { rekorUrl } : {})
      : (opts.mock as SigstoreMock).signDsse(payload, IN_TOTO_PAYLOAD_TYPE, opts.identity);

  if (opts.sign ?? true) {
    const payload = simpleSigningPayload(name, image.digest);
    const bundle = await signBlob(payload);
    result.bundles.push({ kind: 'signature', bundle });
    if (formats.has('cosign')) {
      const sig: CosignSignatureInput = {
        payload,
        signature: opts.key
          ? signRawWithKey(payload, opts.key.privateKeyPem).toString('base64')
          : (bundle.messageSignature?.signature ?? ''),
      };
      const cert = certificatePem(bundle);
      if (cert) sig.certificate = cert;
      if (bundle.verificationMaterial.tlogEntries?.length) sig.bundle = cosignRekorBundle(bundle);
      await attachCosignSignatures(opts.target, opts.repo, image.digest, [sig]);
    }
    if (formats.has('referrer')) {
      await attachBundleReferrer(
        opts.target,
        opts.repo,
        descriptor,
        Buffer.from(JSON.stringify(bundle)),
        SIGSTORE_BUNDLE_V03,
      );
    }
  }

  const cosignAtts: CosignAttestationInput[] = [];
  for (const spec of opts.attestations ?? []) {
    const statement = inTotoStatement({
      subjects: spec.subjects ?? [imageSubject(name, image.digest)],
      predicateType: spec.predicateType,
      predicate: spec.predicate,
    });
    const bundle = await signDsse(statement);
    result.bundles.push({ kind: 'attestation', predicateType: spec.predicateType, bundle });
    if (formats.has('referrer')) {
      await attachBundleReferrer(
        opts.target,
        opts.repo,
        descriptor,
        Buffer.from(JSON.stringify(bundle)),
        SIGSTORE_BUNDLE_V03,
        {
          predicateType: spec.predicateType,
        },
      );
    }
    const att: CosignAttestationInput = {
      envelope: Buffer.from(JSON.stringify(bundle.dsseEnvelope)),
      predicateType: spec.predicateType,
    };
    const cert = certificatePem(bundle);
    if (cert) att.certificate = cert;
    if (bundle.verificationMaterial.tlogEntries?.length) att.bundle = cosignRekorBundle(bundle);
    cosignAtts.push(att);
  }
  if (formats.has('cosign') && cosignAtts.length) {
    await attachCosignAttestations(opts.target, opts.repo, image.digest, cosignAtts);
  }
  return result;
}
