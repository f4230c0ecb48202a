import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { strict as assert } from 'node:assert';
import { X509Certificate } from '@sigstore/core';
import { toTrustMaterial } from '@sigstore/verify';
import { webcrypto } from 'node:crypto';
import {
  DecodedCertificate,
  withDecodedCertificates,
} from '../../../policy-pack/supply-chain/sigstore/decoded-certificate';

const CRYPTO = webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0];
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const NOW = new Date('2026-11-01T00:00:00Z');
const LATER = new Date('2027-11-01T00:00:00Z');

async function keys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function chain(): Promise<Record<'root' | 'intermediate' | 'leaf' | 'otherRoot', Buffer<ArrayBuffer>>> {
  const [rootKeys, intKeys, leafKeys, otherKeys] = await Promise.all([keys(), keys(), keys(), keys()]);
  const ca = [new x509.BasicConstraintsExtension(true, undefined, true)];
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=root',
      notBefore: NOW,
      notAfter: LATER,
      keys: rootKeys,
      signingAlgorithm: ALG,
      extensions: ca,
    },
    CRYPTO,
  );
  const otherRoot = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '02',
      name: 'CN=root',
      notBefore: NOW,
      notAfter: LATER,
      keys: otherKeys,
      signingAlgorithm: ALG,
      extensions: ca,
    },
    CRYPTO,
  );
  const intermediate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '03',
      subject: 'CN=intermediate',
      issuer: root.subject,
      notBefore: NOW,
      notAfter: LATER,
      publicKey: intKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: ca,
    },
    CRYPTO,
  );
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '04',
      subject: 'CN=leaf',
      issuer: intermediate.subject,
      notBefore: NOW,
      notAfter: LATER,
      publicKey: leafKeys.publicKey,
      signingKey: intKeys.privateKey,
      signingAlgorithm: ALG,
    },
    CRYPTO,
  );
  const der = (c: x509.X509Certificate) => Buffer.from(c.rawData);
  return { root: der(root), intermediate: der(intermediate), leaf: der(leaf), otherRoot: der(otherRoot) };
}

/** The same certificate with one byte of its signature value changed (the last byte of the DER). */
function withBadSignature(der: Buffer<ArrayBuffer>): Buffer<ArrayBuffer> {
  const copy = Buffer.from(der);
  copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x01;
  return copy;
}

describe('DecodedCertificate (cached X509Certificate for chain building)', () => {
  let ders: Record<string, Buffer<ArrayBuffer>>;
  before(async () => {
    const c = await chain();
    ders = { ...c, badLeaf: withBadSignature(c.leaf), badIntermediate: withBadSignature(c.intermediate) };
  });

  it('answers equals, publicKey and verify exactly as the library class does, for every pair, twice', () => {
    const names = Object.keys(ders);
    const base = Object.fromEntries(names.map((n) => [n, X509Certificate.parse(ders[n]!)]));
    const decoded = Object.fromEntries(
      names.map((n) => [n, DecodedCertificate.of(X509Certificate.parse(ders[n]!))]),
    );
    let trueVerifies = 0;
    for (let round = 0; round < 2; round++) {
      for (const a of names) {
        assert.equal(decoded[a]!.publicKey.equals(base[a]!.publicKey), true, `${a} publicKey`);
        assert.equal(decoded[a]!.verify(), base[a]!.verify(), `${a} self`);
        for (const b of names) {
          const expected = base[a]!.verify(base[b]);
          if (expected) trueVerifies++;
          // against a decoded issuer and against a plain library issuer
          assert.equal(decoded[a]!.verify(decoded[b]), expected, `${a} by ${b}`);
          assert.equal(decoded[a]!.verify(base[b]), expected, `${a} by plain ${b}`);
          assert.equal(decoded[a]!.equals(decoded[b]!), base[a]!.equals(base[b]!), `${a} equals ${b}`);
          assert.equal(decoded[a]!.equals(base[b]!), base[a]!.equals(base[b]!), `${a} equals plain ${b}`);
        }
      }
    }
    // the fixture really has valid links: root and other root self-signed, root -> intermediate, and
    // intermediate -> leaf by the intermediate's key, which the copy with a broken signature still carries
    assert.equal(trueVerifies, 2 * 5);
  });

  it('a certificate whose signature was changed never verifies, even after the good one did', () => {
    const issuer = DecodedCertificate.of(X509Certificate.parse(ders.intermediate!));
    const good = DecodedCertificate.of(X509Certificate.parse(ders.leaf!));
    const bad = DecodedCertificate.of(X509Certificate.parse(ders.badLeaf!));
    assert.equal(good.verify(issuer), true);
    assert.equal(bad.verify(issuer), false);
    assert.equal(bad.verify(issuer), false);
    assert.equal(good.equals(bad), false);
  });

  it('wraps every CA and TSA certificate of the trust material and keeps the rest', () => {
    const b64 = (d: Buffer) => d.toString('base64');
    const validFor = { start: '2026-01-01T00:00:00Z' };
    const material = toTrustMaterial({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      ctlogs: [],
      certificateAuthorities: [
        {
          subject: { organization: 'o', commonName: 'c' },
          uri: 'https://ca',
          operator: 'test',
          certChain: { certificates: [{ rawBytes: ders.intermediate! }, { rawBytes: ders.root! }] },
          validFor: { start: new Date(validFor.start) },
        },
      ],
      timestampAuthorities: [
        {
          subject: { organization: 'o', commonName: 't' },
          uri: 'https://tsa',
          operator: 'test',
          certChain: { certificates: [{ rawBytes: ders.otherRoot! }] },
          validFor: { start: new Date(validFor.start) },
        },
      ],
    });
    const wrapped = withDecodedCertificates(material);
    const all = [...wrapped.certificateAuthorities, ...wrapped.timestampAuthorities].flatMap(
      (a) => a.certChain,
    );
    assert.equal(all.length, 3);
    for (const c of all) assert.ok(c instanceof DecodedCertificate);
    assert.deepEqual(
      all.map((c) => b64((c as DecodedCertificate).der)),
      [ders.intermediate, ders.root, ders.otherRoot].map((d) => b64(d!)),
    );
    assert.equal(wrapped.publicKey, material.publicKey);
    assert.deepEqual(
      wrapped.certificateAuthorities[0]!.validFor,
      material.certificateAuthorities[0]!.validFor,
    );
  });
});
