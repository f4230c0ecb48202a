import type { X509Certificate } from '@sigstore/core';

/** Fulcio certificate extension OIDs (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). */
const FULCIO_OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  issuerV2: '1.3.6.1.4.1.57264.1.8',
  buildSignerURI: '1.3.6.1.4.1.57264.1.9',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
} as const;

export type ClaimName =
  'buildSignerURI' | 'runnerEnvironment' | 'sourceRepositoryURI' | 'sourceRepositoryRef';

/** What a Fulcio leaf certificate says about who signed: the SAN (by kind), the issuer and the claims. */
export interface CertificateIdentity {
  /** rfc822Name SAN (email identities). */
  email?: string;
  /** uniformResourceIdentifier SAN (workload identities such as GitHub workflow refs). */
  uri?: string;
  issuer?: string;
  claims: Partial<Record<ClaimName, string>>;
}

/** Read the identity from a leaf certificate. Called only after @sigstore/verify accepted the chain. */
export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  const san = cert.extSubjectAltName;
  const claims: Partial<Record<ClaimName, string>> = {};
  for (const name of [
    'buildSignerURI',
    'runnerEnvironment',
    'sourceRepositoryURI',
    'sourceRepositoryRef',
  ] as const) {
    const value = derStringExtension(cert, FULCIO_OID[name]);
    if (value !== undefined) claims[name] = value;
  }
  return {
    email: san?.rfc822Name,
    uri: san?.uri,
    // The v2 issuer extension is DER-encoded; v1 (still emitted by Fulcio) holds the raw string.
    issuer: derStringExtension(cert, FULCIO_OID.issuerV2) ?? rawStringExtension(cert, FULCIO_OID.issuerV1),
    claims,
  };
}

/** `subject (issuer X)` for messages and for VerifiedSignature.identity. */
export function describeIdentity(id: CertificateIdentity): string {
  const subject = id.uri ?? (id.email !== undefined ? `email:${id.email}` : '(no SAN)');
  return `${subject} (issuer ${id.issuer ?? 'none'})`;
}

function derStringExtension(cert: X509Certificate, oid: string): string | undefined {
  const ext = cert.extension(oid);
  // extnValue is an OCTET STRING wrapping one DER string (UTF8String for every Fulcio v2 claim).
  const inner = ext?.valueObj.subs[0];
  return inner ? inner.value.toString('utf8') : undefined;
}

function rawStringExtension(cert: X509Certificate, oid: string): string | undefined {
  return cert.extension(oid)?.value.toString('ascii');
}
