import { crypto, X509Certificate } from '@sigstore/core';
import type { KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';

/**
 * @sigstore/core's X509Certificate keeps only the parsed ASN.1 tree and re-encodes it to DER whenever
 * it is compared (`equals`), asked for its key (`publicKey`, then a fresh KeyObject) or checked against
 * an issuer (`verify`). Chain building does all three many times per bundle, mostly on the SAME trusted
 * CA certificates: in the 1,000-image bench that re-encoding and key parsing was about half of all
 * Sigstore CPU time.
 *
 * A certificate never changes once parsed, so this subclass computes each encoding and the KeyObject
 * once, and remembers the outcome of checking its signature against a given issuer object. Results are
 * identical to the base class: the same encodings compared, the same `crypto.verify` call made the first
 * time. Instances are handed to the library through its public interfaces (TrustMaterial, SignedEntity);
 * nothing of the library is modified.
 */
export class DecodedCertificate extends X509Certificate {
  #der?: Buffer;
  #spki?: Buffer;
  #tbs?: Buffer;
  #key?: KeyObject;
  /** issuer object (this for self-signed) -> did its key verify this certificate's signature */
  readonly #verified = new WeakMap<X509Certificate, boolean>();

  static of(cert: X509Certificate): DecodedCertificate {
    return cert instanceof DecodedCertificate ? cert : new DecodedCertificate(cert.root);
  }

  /** The certificate re-encoded from its parsed form, as the base class compares it. */
  get der(): Buffer {
    return (this.#der ??= this.root.toDER());
  }

  override get publicKey(): Buffer {
    return (this.#spki ??= super.publicKey);
  }

  get publicKeyObject(): KeyObject {
    return (this.#key ??= crypto.createPublicKey(this.publicKey));
  }

  override equals(other: X509Certificate): boolean {
    return this.der.equals(other instanceof DecodedCertificate ? other.der : other.root.toDER());
  }

  override verify(issuerCertificate?: X509Certificate): boolean {
    const issuer = issuerCertificate ?? this;
    let ok = this.#verified.get(issuer);
    if (ok === undefined) {
      const key =
        issuer instanceof DecodedCertificate
          ? issuer.publicKeyObject
          : crypto.createPublicKey(issuer.publicKey);
      this.#tbs ??= this.tbsCertificate.toDER();
      ok = crypto.verify(this.#tbs, key, this.signatureValue, this.signatureAlgorithm);
      this.#verified.set(issuer, ok);
    }
    return ok;
  }
}

/** The same trust material with every CA and TSA certificate as a DecodedCertificate. */
export function withDecodedCertificates(material: TrustMaterial): TrustMaterial {
  return {
    ...material,
    certificateAuthorities: material.certificateAuthorities.map((ca) => ({
      ...ca,
      certChain: ca.certChain.map((c) => DecodedCertificate.of(c)),
    })),
    timestampAuthorities: material.timestampAuthorities.map((ca) => ({
      ...ca,
      certChain: ca.certChain.map((c) => DecodedCertificate.of(c)),
    })),
  };
}
