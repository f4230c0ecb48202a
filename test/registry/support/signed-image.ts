import {
  attachBundleReferrer,
  attachCosignAttestations,
  attachCosignSignatures,
  imageSubject,
  inTotoStatement,
  simpleSigningPayload,
  type CosignAttestationInput,
  type CosignSignatureInput,
} from '../../../cli/oci/attach';
import { buildImage, type OciImage } from '../../../cli/oci/image';
import { IN_TOTO_PAYLOAD_TYPE } from '../../../cli/oci/media-types';
import { cosignAttestationLayer, cosignSignatureLayer } from '../../../cli/oci/publish';
import { createKeyPair, keyBundleSigner, signDsseWithKey, type KeyPair } from '../../../cli/oci/sign-key';
import { pushImage, type OciTarget } from '../../../cli/oci/target';
import type { Descriptor } from '../../../policy-pack/registry/types';

/**
 * Real fixtures for the registry tests and bench: an image, a key-signed cosign `.sig`, a `.att` with
 * DSSE envelopes and the same evidence as Sigstore bundles attached as OCI 1.1 referrers. Signatures come
 * from node crypto and @sigstore/sign (through the test bed), never written by hand.
 */

export const PREDICATE_TYPES = [
  'https://slsa.dev/provenance/v1',
  'https://spdx.dev/Document',
  'https://cyclonedx.org/bom',
  'https://trustops.dev/rebuild/v1',
  'https://in-toto.io/attestation/vulns/v0.2',
];

export interface SignedImage {
  repo: string;
  image: OciImage;
  descriptor: Descriptor;
  /** Blob bytes in the order pushed. */
  signaturePayloads: Buffer[];
  attestationEnvelopes: Buffer[];
  bundles: Buffer[];
  bundleReferrers: Descriptor[];
}

export interface SignedImageOptions {
  repo: string;
  seed: string;
  /** Host/repository written into the signed payloads. */
  name: string;
  tag?: string;
  cosignSignatures?: number;
  cosignAttestations?: number;
  bundles?: number;
  key?: KeyPair;
}

/** An in-toto statement signed by `key` (no Rekor): the cosign `.att` layer and the bundle JSON. */
async function signedStatement(
  statement: Buffer,
  predicateType: string,
  key: KeyPair,
): Promise<{ layer: CosignAttestationInput; bundle: Buffer }> {
  const bundle = await signDsseWithKey(statement, IN_TOTO_PAYLOAD_TYPE, key);
  return {
    layer: cosignAttestationLayer(bundle, predicateType),
    bundle: Buffer.from(JSON.stringify(bundle)),
  };
}

export async function pushSignedImage(target: OciTarget, opts: SignedImageOptions): Promise<SignedImage> {
  const key = opts.key ?? createKeyPair();
  const image = buildImage({ seed: opts.seed });
  const descriptor = await pushImage(target, opts.repo, image, opts.tag ?? 'latest');
  const result: SignedImage = {
    repo: opts.repo,
    image,
    descriptor,
    signaturePayloads: [],
    attestationEnvelopes: [],
    bundles: [],
    bundleReferrers: [],
  };
  const sigCount = opts.cosignSignatures ?? 0;
  if (sigCount > 0) {
    const sigs: CosignSignatureInput[] = [];
    for (let i = 0; i < sigCount; i++) {
      // distinct payloads (trailing spaces) so that each layer is a distinct blob
      const payload = Buffer.concat([
        simpleSigningPayload(opts.name, descriptor.digest),
        Buffer.from(' '.repeat(i)),
      ]);
      sigs.push((await cosignSignatureLayer(keyBundleSigner(key), payload)).layer);
    }
    result.signaturePayloads = sigs.map((s) => s.payload);
    await attachCosignSignatures(target, opts.repo, descriptor.digest, sigs);
  }
  const statement = (predicateType: string): Buffer =>
    inTotoStatement({
      subjects: [imageSubject(opts.name, descriptor.digest)],
      predicateType,
      predicate: { seed: opts.seed },
    });
  const attCount = opts.cosignAttestations ?? 0;
  if (attCount > 0) {
    const atts: CosignAttestationInput[] = [];
    for (let i = 0; i < attCount; i++) {
      const predicateType = PREDICATE_TYPES[i % PREDICATE_TYPES.length] ?? 'https://example/unknown';
      atts.push((await signedStatement(statement(predicateType), predicateType, key)).layer);
    }
    result.attestationEnvelopes = atts.map((a) => a.envelope);
    await attachCosignAttestations(target, opts.repo, descriptor.digest, atts);
  }
  for (let i = 0; i < (opts.bundles ?? 0); i++) {
    const predicateType = PREDICATE_TYPES[i % PREDICATE_TYPES.length] ?? 'https://example/unknown';
    const { bundle } = await signedStatement(statement(predicateType), predicateType, key);
    result.bundles.push(bundle);
    result.bundleReferrers.push(await attachBundleReferrer(target, opts.repo, descriptor, bundle));
  }
  return result;
}
