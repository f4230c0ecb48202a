import { anchoredSource, matchesAnchored } from '../anchored-regexp';
import type { KeylessSigner } from '../types';
import type { CertificateIdentity } from './certificate-identity';

/** Why one keyless signer did not match; `undefined` when it matched. */
export type IdentityMismatch = { field: 'issuer' | 'subject' | 'claim'; expected: string; found: string };

const EMAIL = /^[^\s:/@]+@[^\s:/@]+$/;

/**
 * Match a verified certificate identity against one keyless signer.
 *
 * - Patterns are RE2 and always anchored (`^(?:...)$`, see anchored-regexp.ts), so `acme/.*` can never
 *   match `evil.com/acme/x`, and matching is linear in the (attacker-chosen) subject.
 * - The SAN kind matters: an expectation written as an email address only matches an rfc822Name SAN and
 *   anything else only matches a URI SAN. A `subjectRegExp` is a URI expectation when its source names a
 *   scheme (a literal `:`), an email expectation otherwise: `.+@acme\.com` must not accept the URI SAN
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
      : signer.issuerRegExp !== undefined && matchesAnchored(signer.issuerRegExp, id.issuer));
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
    const wantsUri = namesScheme(signer.subjectRegExp);
    const san = wantsUri ? id.uri : id.email;
    if (san !== undefined && matchesAnchored(signer.subjectRegExp, san)) return undefined;
    return {
      field: 'subject',
      expected: `${wantsUri ? 'uri' : 'email'} matching /${anchoredSource(signer.subjectRegExp)}/`,
      found,
    };
  }
  // A keyless signer without any subject constraint would trust every identity of the issuer: refuse.
  return { field: 'subject', expected: 'a subject or subjectRegExp in the signer', found };
}

/**
 * RE2 syntax that contains a colon without matching one: group openers with flags, `(?:` `(?i:` `(?is-m:`,
 * and POSIX classes, `[:alpha:]` `[:^space:]`, each unless its first character is escaped (`\(?:` is an
 * optional literal `(` then a literal `:`).
 */
const SYNTAX_COLONS = /(?<!\\)((?:\\\\)*)(?:\(\?[A-Za-z-]*:|\[:\^?[a-z]+:\])/g;

/**
 * Whether a subject pattern names a URI scheme, i.e. holds a literal colon. RE2's own colons do not
 * count: `(?i:.+@acme\.com)` is an email expectation and must not be tried against the URI SAN
 * `https://evil.example/x@acme.com`.
 */
export function namesScheme(pattern: string): boolean {
  return pattern.replace(SYNTAX_COLONS, '$1').includes(':');
}
