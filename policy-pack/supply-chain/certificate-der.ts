/**
 * Strict shape check of the X.509 certificates that come with evidence, before any of it is believed.
 *
 * Why: the certificate parser under @sigstore/verify reads only what the CA signature covers. Bytes
 * outside `tbsCertificate` (the outer SEQUENCE tag, the outer `signatureAlgorithm`, the BIT STRING's
 * tag and unused-bits octet) can be changed and the certificate still verifies. That changes nothing
 * certified, but a certificate is evidence and evidence must be exactly what was issued (RFC 5280
 * 4.1.1.2: `signatureAlgorithm` MUST equal `tbsCertificate.signature`; X.690 DER: one encoding only).
 * This is structure, not cryptography: the signatures themselves are the Sigstore layer's job.
 */

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** One DER TLV at `offset`, or undefined when the encoding is not minimal DER or overruns the buffer. */
function readTlv(der: Buffer, offset: number): Tlv | undefined {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined) return undefined;
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 3) return undefined;
    length = 0;
    for (let i = 0; i < octets; i++) {
      const b = der[offset + 2 + i];
      if (b === undefined || (i === 0 && b === 0)) return undefined; // no leading zero octets
      length = length * 256 + b;
    }
    if (length < 0x80) return undefined; // DER uses the short form below 128
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > der.length) return undefined;
  return { tag, start: offset, contentStart, end };
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const VERSION_TAG = 0xa0;

/** Why `der` is not a strictly encoded certificate, or undefined when it is. */
export function certificateDerProblem(der: Buffer): string | undefined {
  const outer = readTlv(der, 0);
  if (outer?.tag !== SEQUENCE || outer.end !== der.length) return 'the certificate is not one DER SEQUENCE';
  const tbs = readTlv(der, outer.contentStart);
  if (tbs?.tag !== SEQUENCE) return 'tbsCertificate is not a SEQUENCE';
  const algorithm = readTlv(der, tbs.end);
  if (algorithm?.tag !== SEQUENCE) return 'signatureAlgorithm is not a SEQUENCE';
  const signature = readTlv(der, algorithm.end);
  if (signature?.tag !== BIT_STRING || signature.end !== outer.end)
    return 'signatureValue is not the final BIT STRING';
  if (der[signature.contentStart] !== 0) return 'signatureValue has unused bits';

  let field = readTlv(der, tbs.contentStart);
  if (field?.tag === VERSION_TAG) field = readTlv(der, field.end);
  if (field?.tag !== INTEGER) return 'tbsCertificate has no serialNumber';
  const tbsAlgorithm = readTlv(der, field.end);
  if (tbsAlgorithm?.tag !== SEQUENCE) return 'tbsCertificate has no signature AlgorithmIdentifier';
  const outerBytes = der.subarray(algorithm.start, algorithm.end);
  const innerBytes = der.subarray(tbsAlgorithm.start, tbsAlgorithm.end);
  if (!outerBytes.equals(innerBytes))
    return 'signatureAlgorithm differs from tbsCertificate.signature (RFC 5280 4.1.1.2)';
  return undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** The DER certificates in PEM text (cosign's certificate and chain annotations). */
export function certificatesFromPem(pem: string): Buffer[] {
  return [...pem.matchAll(PEM_CERTIFICATE)].map((m) =>
    Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'),
  );
}

/** The DER certificates a Sigstore bundle JSON carries (v0.3 `certificate`, or an x509 chain). */
export function certificatesFromBundle(bundle: unknown): Buffer[] {
  const vm = (bundle as { verificationMaterial?: Record<string, unknown> } | null)?.verificationMaterial;
  if (typeof vm !== 'object' || vm === null) return [];
  const raw: unknown[] = [];
  const single = vm.certificate as { rawBytes?: unknown } | undefined;
  if (single !== undefined) raw.push(single.rawBytes);
  const chain = (vm.x509CertificateChain as { certificates?: { rawBytes?: unknown }[] } | undefined)
    ?.certificates;
  if (Array.isArray(chain)) raw.push(...chain.map((c) => c?.rawBytes));
  return raw.map((r) => Buffer.from(typeof r === 'string' ? r : '', 'base64'));
}

/** The first problem among the certificates, or undefined when every one is strict DER. */
export function firstCertificateProblem(certificates: Buffer[]): string | undefined {
  for (const der of certificates) {
    const problem = certificateDerProblem(der);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
