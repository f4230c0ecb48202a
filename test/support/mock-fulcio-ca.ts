// @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill loaded first
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { CA } from '@sigstore/mock/dist/fulcio/ca';
import type { CTLog } from '@sigstore/mock/dist/fulcio/ctlog';

/**
 * A Fulcio-like CA for the mock, implementing @sigstore/mock's CA interface. It exists because the
 * mock's own CA writes every subject as a URI SAN, while real Fulcio writes email identities as an
 * rfc822Name SAN; verifiers that tell the two apart (ours does) need the real shape. Everything else
 * follows Fulcio: empty subject, codeSigning EKU, 10-minute validity, Fulcio OID extensions, and an
 * embedded SCT from the CT log over the precertificate.
 */

/** Passed explicitly: setting @peculiar/x509's global provider would change the mock TSA's crypto too. */
const CRYPTO = webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0];
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';
const ISSUER = 'CN=sigstore-mock-fulcio, O=trustops-test';

/** DER length octets. */
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derTagged(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/**
 * RFC 6962 SignedCertificateTimestampList with one SCT, as the extension's inner OCTET STRING. The mock
 * CT log returns the SCT already serialized with its own u16 length prefix (pkijs `toStream`).
 */
function sctListExtensionValue(serializedSct: Buffer): Buffer {
  if (serializedSct.readUInt16BE(0) !== serializedSct.length - 2) {
    throw new Error('expected a length-prefixed SerializedSCT from the CT log');
  }
  return derTagged(0x04, Buffer.concat([u16(serializedSct.length), serializedSct]));
}

function toBuffer(view: ArrayBufferView | ArrayBuffer): Buffer {
  return view instanceof ArrayBuffer
    ? Buffer.from(view)
    : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** `http(s)://...` or `scheme:` URIs become URI SANs; anything with an @ otherwise is an email. */
function sanFor(subject: string): x509.JsonGeneralName {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(subject)) return { type: 'url', value: subject };
  if (subject.includes('@')) return { type: 'email', value: subject };
  return { type: 'url', value: subject };
}

export async function initializeMockCA(ctLog: CTLog, clock: Date): Promise<CA> {
  const subtle = webcrypto.subtle;
  const keys = (await subtle.generateKey(KEY, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: ISSUER,
      notBefore: new Date(clock.getTime() - 3600_000),
      notAfter: new Date(clock.getTime() + 30 * 24 * 3600_000),
      keys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, CRYPTO),
      ],
    },
    CRYPTO,
  );
  const issuerKeyId = createHash('sha256')
    .update(Buffer.from(await subtle.exportKey('spki', keys.publicKey)))
    .digest();
  let serial = 0x1000;

  return {
    rootCertificate: new Uint8Array(root.rawData),
    async issueCertificate(req) {
      const publicKey = await subtle.importKey('spki', toBuffer(req.publicKey), KEY, true, ['verify']);
      const fulcioExtensions = (req.extensions ?? []).map(
        (e) =>
          new x509.Extension(
            e.oid,
            false,
            e.legacy ? Buffer.from(e.value) : derTagged(0x0c, Buffer.from(e.value, 'utf8')),
          ),
      );
      const base = {
        serialNumber: (serial++).toString(16),
        issuer: ISSUER,
        notBefore: clock,
        notAfter: new Date(clock.getTime() + 10 * 60_000),
        publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: SIGNING,
      };
      const extensions = [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
        new x509.SubjectAlternativeNameExtension([sanFor(req.subjectAltName)], true),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, CRYPTO),
        await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey, false, CRYPTO),
        ...fulcioExtensions,
      ];
      // The CT log signs the precertificate's TBS; the final certificate is the same TBS plus the SCT.
      const precert = await x509.X509CertificateGenerator.create({ ...base, extensions }, CRYPTO);
      const sct = toBuffer(await ctLog.log(precert.rawData, new Uint8Array(issuerKeyId).buffer));
      const cert = await x509.X509CertificateGenerator.create(
        {
          ...base,
          extensions: [...extensions, new x509.Extension(OID_SCT_LIST, false, sctListExtensionValue(sct))],
        },
        CRYPTO,
      );
      return new Uint8Array(cert.rawData);
    },
  };
}
