import type { KeylessSigner } from '../types';
import type { CertificateIdentity } from './certificate-identity';

/** Why one keyless signer did not match; `undefined` when it matched. */
export type IdentityMismatch = { field: 'issuer' | 'subject' | 'claim'; expected: string; found: string };

const EMAIL = /^[^\s:/@]+@[^\s:/@]+$/;

/**
 * Match a verified certificate identity against one keyless signer.
 *
 * - Patterns are always anchored (`^(?:...)$`), so `acme/.*` can never match `evil.com/acme/x`.
 * - The SAN kind matters: an expectation written as an email address only matches an rfc822Name SAN and
 *   anything else only matches a URI SAN. A `subjectRegExp` is a URI expectation when its source names a
 *   scheme (contains `:`), an email expectation otherwise: `.+@acme\.com` must not accept the URI SAN
 *   `https://evil.example/x@acme.com`.
 * - Claims are exact matches on Fulcio extensions; an absent extension never satisfies a claim.
 */
export function matchKeylessSigner(
  signer: KeylessSigner,
  id: CertificateIdentity,
): IdentityMismatch | undefined {
  const issuerOk =
    id.issuer !== undefined &&
    (signer.issuer !== undefined
      ? id.issuer === signer.issuer
      : signer.issuerRegExp !== undefined && anchored(signer.issuerRegExp).test(id.issuer));
  if (!issuerOk) {
    return {
      field: 'issuer',
      expected: signer.issuer ?? `/${signer.issuerRegExp ?? '(none)'}/`,
      found: id.issuer ?? '(none)',
    };
  }
  const subjectMismatch = matchSubject(signer, id);
  if (subjectMismatch) return subjectMismatch;
  for (const [name, expected] of Object.entries(signer.claims ?? {}) as [
    keyof CertificateIdentity['claims'],
    string | undefined,
  ][]) {
    if (expected === undefined) continue;
    const found = id.claims[name];
    if (found !== expected)
      return { field: 'claim', expected: `${name}=${expected}`, found: `${name}=${found ?? '(absent)'}` };
  }
  return undefined;
}

function matchSubject(signer: KeylessSigner, id: CertificateIdentity): IdentityMismatch | undefined {
  const found =
    id.uri !== undefined ? `uri:${id.uri}` : id.email !== undefined ? `email:${id.email}` : '(no SAN)';
  if (signer.subject !== undefined) {
    const wantsEmail = EMAIL.test(signer.subject);
    const san = wantsEmail ? id.email : id.uri;
    if (san === signer.subject) return undefined;
    return { field: 'subject', expected: `${wantsEmail ? 'email' : 'uri'}:${signer.subject}`, found };
  }
  if (signer.subjectRegExp !== undefined) {
    const wantsUri = signer.subjectRegExp.includes(':');
    const san = wantsUri ? id.uri : id.email;
    if (san !== undefined && anchored(signer.subjectRegExp).test(san)) return undefined;
    return {
      field: 'subject',
      expected: `${wantsUri ? 'uri' : 'email'} matching /^(?:${signer.subjectRegExp})$/`,
      found,
    };
  }
  // A keyless signer without any subject constraint would trust every identity of the issuer: refuse.
  return { field: 'subject', expected: 'a subject or subjectRegExp in the signer', found };
}

const compiled = new Map<string, RegExp>();

/** Compile once; an invalid pattern compiles to a RegExp that matches nothing (fail closed). */
export function anchored(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    try {
      re = new RegExp(`^(?:${source})$`);
    } catch {
      re = /(?!)/;
    }
    compiled.set(source, re);
  }
  return re;
}
