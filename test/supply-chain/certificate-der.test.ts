import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  certificateDerProblem,
  certificatesFromBundle,
  certificatesFromPem,
} from '../../policy-pack/supply-chain/certificate-der';

/** Real certificates: the CA chains of the Sigstore public-good trusted root the pack embeds. */
function realCertificates(): Buffer[] {
  const file = path.join(
    __dirname,
    '..',
    '..',
    'policy-pack',
    'supply-chain',
    'sigstore',
    'trusted_root.public-good.json',
  );
  const root = JSON.parse(readFileSync(file, 'utf8')) as {
    certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
  };
  return root.certificateAuthorities.flatMap((ca) =>
    ca.certChain.certificates.map((c) => Buffer.from(c.rawBytes, 'base64')),
  );
}

/** Offsets of the bytes after tbsCertificate (outer algorithm, BIT STRING tag, length, unused bits). */
function bytesOutsideTbs(der: Buffer): number[] {
  const outerHeader = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  const tbsLenOctets = der[outerHeader + 1]! & 0x80 ? der[outerHeader + 1]! & 0x7f : 0;
  let tbsLen = der[outerHeader + 1]! & 0x7f;
  if (tbsLenOctets) {
    tbsLen = 0;
    for (let i = 0; i < tbsLenOctets; i++) tbsLen = tbsLen * 256 + der[outerHeader + 2 + i]!;
  }
  const tbsEnd = outerHeader + 2 + tbsLenOctets + tbsLen;
  // the algorithm identifier, then the BIT STRING header and its unused-bits octet
  const algLen = der[tbsEnd + 1]! + 2;
  return Array.from({ length: algLen + 3 }, (_, i) => tbsEnd + i);
}

describe('strict certificate DER', function () {
  const certs = realCertificates();

  it('accepts real certificates, from DER, PEM and bundle JSON', function () {
    assert.ok(certs.length >= 2);
    for (const der of certs) assert.equal(certificateDerProblem(der), undefined);
    const pem = `-----BEGIN CERTIFICATE-----\n${certs[0]!.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    assert.deepEqual(certificatesFromPem(pem + pem), [certs[0], certs[0]]);
    const bundle = { verificationMaterial: { certificate: { rawBytes: certs[0]!.toString('base64') } } };
    assert.deepEqual(certificatesFromBundle(bundle), [certs[0]]);
  });

  it('rejects a changed outer tag, outer signatureAlgorithm, BIT STRING tag or unused-bits octet', function () {
    for (const der of certs) {
      const offsets = [0, ...bytesOutsideTbs(der)];
      for (const offset of offsets) {
        for (const bit of [0x01, 0x02, 0x80]) {
          const mutated = Buffer.from(der);
          mutated[offset] = mutated[offset]! ^ bit;
          assert.notEqual(certificateDerProblem(mutated), undefined, `offset ${offset} bit ${bit} accepted`);
        }
      }
    }
  });

  it('rejects truncation, trailing bytes, non-minimal lengths and empty input', function () {
    const der = certs[0]!;
    assert.notEqual(certificateDerProblem(der.subarray(0, der.length - 1)), undefined);
    assert.notEqual(certificateDerProblem(Buffer.concat([der, Buffer.from([0])])), undefined);
    assert.notEqual(certificateDerProblem(Buffer.alloc(0)), undefined);
    // 0x30 0x81 0x05 ... is a long-form length below 128: not DER
    assert.notEqual(certificateDerProblem(Buffer.from([0x30, 0x81, 0x03, 0x02, 0x01, 0x00])), undefined);
    assert.deepEqual(
      certificatesFromBundle({ verificationMaterial: { certificate: { rawBytes: 42 } } }).map(
        (b) => b.length,
      ),
      [0],
    );
  });
});
