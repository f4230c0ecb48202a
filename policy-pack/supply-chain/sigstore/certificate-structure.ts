import { ASN1Obj } from '@sigstore/core';
import { SignatureError } from './errors';

const SEQUENCE = 0x30;
const BIT_STRING = 0x03;

/**
 * The bytes of an X.509 certificate that its issuer's signature does not cover: the outer SEQUENCE
 * header, the outer signatureAlgorithm and the signatureValue's BIT STRING header. @sigstore/verify 3.1 ignores both (its parser does not check
 * the outer tag, and it never compares the two algorithm identifiers), so editing them left a leaf
 * certificate "valid" (found by the mutation property test). RFC 5280 §4.1.1.2 requires the outer
 * signatureAlgorithm to equal the TBS `signature` field; DER requires one encoding. Enforce both.
 */
export function assertCertificateStructure(der: Buffer): void {
  let root: ASN1Obj;
  try {
    root = ASN1Obj.parseBuffer(Buffer.from(der));
  } catch (e) {
    throw invalid(`certificate is not DER: ${(e as Error).message}`);
  }
  const [tbs, outerAlgorithm, signature] = root.subs;
  if (root.tag.toDER() !== SEQUENCE || root.subs.length !== 3 || !tbs || !outerAlgorithm || !signature) {
    throw invalid('certificate is not a SEQUENCE of tbsCertificate, signatureAlgorithm, signatureValue');
  }
  // tbsCertificate: [0] version (optional, explicit), serialNumber, signature AlgorithmIdentifier, ...
  const innerAlgorithm = tbs.subs[tbs.subs[0]?.tag.isContextSpecific(0) ? 2 : 1];
  if (!innerAlgorithm || !innerAlgorithm.toDER().equals(outerAlgorithm.toDER())) {
    throw invalid(
      'certificate signatureAlgorithm differs from the algorithm its issuer signed (RFC 5280 4.1.1.2)',
    );
  }
  // The library reads the signature after the BIT STRING's first byte whatever its tag and unused-bit count.
  if (signature.tag.toDER() !== BIT_STRING || signature.value[0] !== 0) {
    throw invalid('certificate signatureValue is not a BIT STRING without unused bits');
  }
  if (!root.toDER().equals(der)) throw invalid('certificate is not in canonical DER');
}

function invalid(message: string): SignatureError {
  return new SignatureError('CERTIFICATE_INVALID', message);
}
