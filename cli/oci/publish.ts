import { X509Certificate } from 'node:crypto';
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
} from './attach';
import { OciWriteError } from './errors';
import { buildImage, type BuildImageOptions, type OciImage } from './image';
import { IN_TOTO_PAYLOAD_TYPE, SIGSTORE_BUNDLE_V03 } from './media-types';
import { pushImage, type OciTarget } from './target';

/**
 * Publishes "a signed image with attestations" in one call: builds and pushes an image, signs it and
 * attaches the signature and attestations in cosign's tag scheme and/or as OCI 1.1 bundle referrers.
 * Used by the CLI's offline demo (key-based, into an OCI layout) and by test suites (keyless through the
 * Sigstore mock too); signing is injected so both share this code.
 */

/** Makes Sigstore bundles: a key (`keyBundleSigner`) or Fulcio+Rekor (the test bed's mock signer). */
export interface BundleSigner {
  signBlob(data: Buffer): Promise<SerializedBundle>;
  signDsse(payload: Buffer, payloadType: string): Promise<SerializedBundle>;
}

export interface AttestationSpec {
  predicateType: string;
  predicate: unknown;
  /** Defaults to the image reference and digest. */
  subjects?: { name: string; digest: Record<string, string> }[];
}

export interface PublishOptions {
  target: OciTarget;
  /** Registry host part of the reference (`127.0.0.1:5000`), used in payloads and statement subjects. */
  host: string;
  repo: string;
  tag?: string;
  image?: Partial<BuildImageOptions>;
  signer: BundleSigner;
  /** Which attachment formats to write. Default both. */
  formats?: ('cosign' | 'referrer')[];
  /** Sign the image itself (simple-signing payload). Default true. */
  sign?: boolean;
  attestations?: AttestationSpec[];
}

export interface PublishedImage {
  image: OciImage;
  /** `host/repo@sha256:...` */
  reference: string;
  descriptor: Descriptor;
  /**
   * The bundles made: the image signatures first (when signed, one per format: cosign's signs the
   * simple-signing payload, the referrer's the manifest bytes), then one per attestation.
   */
  bundles: { kind: 'signature' | 'attestation'; predicateType?: string; bundle: SerializedBundle }[];
}

function certificatePem(bundle: SerializedBundle): string | undefined {
  const m = bundle.verificationMaterial;
  const der = m.certificate?.rawBytes ?? m.x509CertificateChain?.certificates[0]?.rawBytes;
  return der ? new X509Certificate(Buffer.from(der, 'base64')).toString() : undefined;
}

/** Cosign's Rekor "bundle" annotation: the SET and the entry fields it signs, from a bundle's tlog entry. */
export function cosignRekorBundle(bundle: SerializedBundle): string | undefined {
  const entry = bundle.verificationMaterial.tlogEntries?.[0];
  if (!entry?.inclusionPromise) return undefined;
  return JSON.stringify({
    SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
    Payload: {
      body: entry.canonicalizedBody,
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
    },
  });
}

/**
 * The cosign layer annotations a Sigstore bundle can supply: certificate, Rekor bundle, and the RFC 3161
 * timestamp as cosign writes it (`{"SignedRFC3161Timestamp": "<base64 DER>"}`).
 */
export function cosignMaterial(bundle: SerializedBundle): {
  certificate?: string;
  bundle?: string;
  rfc3161Timestamp?: string;
} {
  const certificate = certificatePem(bundle);
  const rekor = cosignRekorBundle(bundle);
  const tsr = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.[0]?.signedTimestamp;
  return {
    ...(certificate ? { certificate } : {}),
    ...(rekor ? { bundle: rekor } : {}),
    ...(tsr ? { rfc3161Timestamp: JSON.stringify({ SignedRFC3161Timestamp: tsr }) } : {}),
  };
}

/** One cosign `.sig` layer: `payload` signed by `signer`, with the Sigstore bundle it was taken from. */
export async function cosignSignatureLayer(
  signer: BundleSigner,
  payload: Buffer,
): Promise<{ layer: CosignSignatureInput; bundle: SerializedBundle }> {
  // a message-signature bundle signs the payload bytes, exactly what cosign's annotation holds
  const bundle = await signer.signBlob(payload);
  const signature = bundle.messageSignature?.signature;
  if (!signature)
    throw new OciWriteError('INVALID_INPUT', 'the signer returned a bundle without a message signature');
  return { layer: { payload, signature, ...cosignMaterial(bundle) }, bundle };
}

/** One cosign `.att` layer from a DSSE bundle: its envelope, with the bundle's certificate and Rekor SET. */
export function cosignAttestationLayer(
  bundle: SerializedBundle,
  predicateType: string,
): CosignAttestationInput {
  return {
    envelope: Buffer.from(JSON.stringify(bundle.dsseEnvelope)),
    predicateType,
    ...cosignMaterial(bundle),
  };
}

export async function publishSignedImage(opts: PublishOptions): Promise<PublishedImage> {
  const formats = new Set(opts.formats ?? ['cosign', 'referrer']);
  const image = buildImage({ seed: `${opts.repo}:${opts.tag ?? 'latest'}`, ...opts.image });
  const descriptor = await pushImage(opts.target, opts.repo, image, opts.tag ?? 'latest');
  const name = `${opts.host}/${opts.repo}`;
  const result: PublishedImage = { image, reference: `${name}@${image.digest}`, descriptor, bundles: [] };
  const attachReferrer = (bundle: SerializedBundle, predicateType?: string): Promise<Descriptor> =>
    attachBundleReferrer(
      opts.target,
      opts.repo,
      descriptor,
      Buffer.from(JSON.stringify(bundle)),
      SIGSTORE_BUNDLE_V03,
      predicateType === undefined ? {} : { predicateType },
    );

  if (opts.sign ?? true) {
    if (formats.has('cosign')) {
      const { layer, bundle } = await cosignSignatureLayer(
        opts.signer,
        simpleSigningPayload(name, image.digest),
      );
      result.bundles.push({ kind: 'signature', bundle });
      await attachCosignSignatures(opts.target, opts.repo, image.digest, [layer]);
    }
    if (formats.has('referrer')) {
      // A referrer bundle's message signature is over the manifest bytes, so the digest it signs is the
      // image digest itself (what the pack verifies); a simple-signing payload would sign another digest.
      const bundle = await opts.signer.signBlob(image.manifest);
      result.bundles.push({ kind: 'signature', bundle });
      await attachReferrer(bundle);
    }
  }

  const cosignAtts: CosignAttestationInput[] = [];
  for (const spec of opts.attestations ?? []) {
    const statement = inTotoStatement({
      subjects: spec.subjects ?? [imageSubject(name, image.digest)],
      predicateType: spec.predicateType,
      predicate: spec.predicate,
    });
    const bundle = await opts.signer.signDsse(statement, IN_TOTO_PAYLOAD_TYPE);
    result.bundles.push({ kind: 'attestation', predicateType: spec.predicateType, bundle });
    if (formats.has('referrer')) {
      await attachReferrer(bundle, spec.predicateType);
    }
    cosignAtts.push(cosignAttestationLayer(bundle, spec.predicateType));
  }
  if (formats.has('cosign') && cosignAtts.length) {
    await attachCosignAttestations(opts.target, opts.repo, image.digest, cosignAtts);
  }
  return result;
}
