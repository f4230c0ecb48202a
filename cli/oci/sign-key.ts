import type { SerializedBundle } from '@sigstore/bundle';

/** An ECDSA P-256 key pair as PEM (SPKI public key, PKCS#8 private key). */
export interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface KeySigningOptions {
  /** Bundle `publicKey.hint`; defaults to the hex sha256 of the DER public key. */
  keyHint?: string;
  /** When given, the signature is witnessed by this Rekor (a mock on loopback); else no tlog entry. */
  rekorUrl?: string;
}

export function createKeyPair(): KeyPair {
  throw new Error('not implemented');
}

/** The default key hint: hex sha256 of the DER-encoded public key. */
export function keyHintOf(_publicKeyPem: string): string {
  throw new Error('not implemented');
}

/** A raw ECDSA-SHA256 (DER) signature over `data`: what cosign's key-based `.sig` annotation holds (base64). */
export function signRawWithKey(_data: Buffer, _privateKeyPem: string): Buffer {
  throw new Error('not implemented');
}

/** A message-signature Sigstore bundle (v0.3) over `data`, verification material = public key hint. */
export async function signBlobWithKey(
  _data: Buffer,
  _key: KeyPair,
  _opts?: KeySigningOptions,
): Promise<SerializedBundle> {
  throw new Error('not implemented');
}

/** A DSSE Sigstore bundle over `payload` of `payloadType` (e.g. application/vnd.in-toto+json). */
export async function signDsseWithKey(
  _payload: Buffer,
  _payloadType: string,
  _key: KeyPair,
  _opts?: KeySigningOptions,
): Promise<SerializedBundle> {
  throw new Error('not implemented');
}
