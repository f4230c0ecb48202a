import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import {
  DSSEBundleBuilder,
  MessageSignatureBundleBuilder,
  RekorWitness,
  TSAWitness,
  type BundleBuilderOptions,
  type Signer,
} from '@sigstore/sign';

/** An ECDSA P-256 key pair as PEM (SPKI public key, PKCS#8 private key). */
export interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface KeySigningOptions {
  /** Bundle `publicKey.hint`; defaults to the hex sha256 of the DER public key. */
  keyHint?: string;
  /**
   * When given, the signature is witnessed by this Rekor (a mock on loopback); else no tlog entry.
   * DSSE bundles use Rekor's `intoto` entry type (see NOTES.md: the mock stores `dsse` entries wrongly).
   */
  rekorUrl?: string;
  /** When given, an RFC 3161 timestamp from this TSA is added too. */
  tsaUrl?: string;
}

export function createKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** The default key hint: hex sha256 of the DER-encoded public key. */
export function keyHintOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex');
}

/** A raw ECDSA-SHA256 (DER) signature over `data`: what cosign's key-based `.sig` annotation holds (base64). */
export function signRawWithKey(data: Buffer, privateKeyPem: string): Buffer {
  return sign('sha256', data, privateKeyPem);
}

/** `@sigstore/sign`'s Signer over a local key: the bundle then names the key by hint. */
function keySigner(key: KeyPair, hint: string): Signer {
  return {
    sign: (data: Buffer) =>
      Promise.resolve({
        signature: signRawWithKey(data, key.privateKeyPem),
        key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint },
      }),
  };
}

function builderOptions(key: KeyPair, opts: KeySigningOptions, entryType?: 'intoto'): BundleBuilderOptions {
  const witnesses = [
    ...(opts.rekorUrl
      ? [new RekorWitness({ rekorBaseURL: opts.rekorUrl, ...(entryType ? { entryType } : {}), retry: false })]
      : []),
    ...(opts.tsaUrl ? [new TSAWitness({ tsaBaseURL: opts.tsaUrl, retry: false })] : []),
  ];
  return { signer: keySigner(key, opts.keyHint ?? keyHintOf(key.publicKeyPem)), witnesses };
}

/** A message-signature Sigstore bundle (v0.3) over `data`, verification material = public key hint. */
export async function signBlobWithKey(
  data: Buffer,
  key: KeyPair,
  opts: KeySigningOptions = {},
): Promise<SerializedBundle> {
  const bundle = await new MessageSignatureBundleBuilder(builderOptions(key, opts)).create({ data });
  return bundleToJSON(bundle);
}

/** A DSSE Sigstore bundle over `payload` of `payloadType` (e.g. application/vnd.in-toto+json). */
export async function signDsseWithKey(
  payload: Buffer,
  payloadType: string,
  key: KeyPair,
  opts: KeySigningOptions = {},
): Promise<SerializedBundle> {
  const builder = new DSSEBundleBuilder(builderOptions(key, opts, 'intoto'));
  const bundle = await builder.create({ data: payload, type: payloadType });
  return bundleToJSON(bundle);
}

/** A `BundleSigner` (cli/oci/publish) over a local key. */
export function keyBundleSigner(
  key: KeyPair,
  opts: KeySigningOptions = {},
): {
  signBlob(data: Buffer): Promise<SerializedBundle>;
  signDsse(payload: Buffer, payloadType: string): Promise<SerializedBundle>;
} {
  return {
    signBlob: (data) => signBlobWithKey(data, key, opts),
    signDsse: (payload, payloadType) => signDsseWithKey(payload, payloadType, key, opts),
  };
}
