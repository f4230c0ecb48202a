import type { Finding, ImageVerdict, VerificationCode } from './types';

/**
 * The one place a verdict becomes words: `trustops verify` prints `verdictText`, the pack's
 * trusted-images policy reports `verdictDiagnostics` (which `trustops preview` shows as they are), and
 * the demo's "verdict by verdict" block uses `findingSummary`. Pure: no I/O.
 *
 * Each finding names the image reference once and its digest once: where the reference already holds
 * the digest it is not repeated beside it, and the finding's own words say "this digest" for it.
 */

/** What a verdict means for a pipeline: allowed, blocked by policy, or not verified (and why). */
export type VerdictOutcome = 'allowed' | 'blocked' | 'unverified' | 'policy-invalid' | 'error';

/** Codes that say verification did not reach a verdict about the image itself. */
const NOT_ABOUT_THE_IMAGE: ReadonlySet<VerificationCode> = new Set([
  'REGISTRY_ERROR',
  'POLICY_INVALID',
  'INTERNAL_ERROR',
]);

export function verdictOutcome(v: ImageVerdict): VerdictOutcome {
  if (v.allowed) return 'allowed';
  const codes = v.findings.map((f) => f.code);
  if (codes.length === 0 || codes.includes('INTERNAL_ERROR')) return 'error';
  if (codes.some((c) => !NOT_ABOUT_THE_IMAGE.has(c))) return 'blocked';
  if (codes.includes('POLICY_INVALID')) return 'policy-invalid';
  return 'unverified';
}

/** `"ref"`, with ` (digest)` only when the reference does not already carry it. */
export function imageLabel(image: string, digest: string | undefined): string {
  return digest === undefined || image.includes(digest) ? `"${image}"` : `"${image}" (${digest})`;
}

/** The digest is named once per finding: inside its text it reads "this digest". */
export function digestOnce(text: string, digest: string | undefined): string {
  return digest === undefined ? text : text.split(digest).join('this digest');
}

/** `WAIVED` when an exemption in force allows the image (the finding stays, to show what is waived). */
export function findingStatus(v: ImageVerdict): 'FAIL' | 'WAIVED' {
  return v.allowed && v.exemption !== undefined ? 'WAIVED' : 'FAIL';
}

export function waiverText(v: ImageVerdict): string | undefined {
  const e = v.exemption;
  return v.allowed && e ? `exemption ${e.ticket}, expires ${e.expires}` : undefined;
}

/** `requirement: CODE: found` on one line, `WAIVED (...)` when an exemption in force covers it. */
export function findingSummary(v: ImageVerdict, f: Finding): string {
  const waived = waiverText(v);
  const where = f.subject ? ` [${f.subject}]` : '';
  const text = `${f.requirement}${where}: ${f.code}: ${digestOnce(f.found, v.digest)}`;
  return waived ? `${text} - WAIVED (${waived})` : text;
}

type Paint = (colour: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string) => string;
const plain: Paint = (_c, t) => t;

export const OUTCOME_LABEL: Readonly<Record<VerdictOutcome, string>> = {
  allowed: 'ALLOWED',
  blocked: 'BLOCKED',
  unverified: 'UNVERIFIED',
  'policy-invalid': 'UNVERIFIED',
  error: 'ERROR',
};

/**
 * The readable report of `trustops verify`: image (and its digest, when the reference does not hold it),
 * rule, exemption, then each met requirement, each unmet one with expected, found and hint (`FAIL`, or
 * `WAIVED (exemption ..., expires ...)` under an exemption in force), then a note per skipped attachment.
 */
export function verdictText(v: ImageVerdict, paint: Paint = plain): string {
  const outcome = verdictOutcome(v);
  const colour = outcome === 'allowed' ? 'green' : outcome === 'blocked' ? 'red' : 'yellow';
  const lines: string[] = [`${paint(colour, OUTCOME_LABEL[outcome].padEnd(8))} ${v.image}`];
  if (v.digest !== undefined && !v.image.includes(v.digest)) lines.push(`  digest: ${v.digest}`);
  lines.push(`  rule:   ${v.rule ?? '(none)'}`);
  const waived = waiverText(v);
  if (waived && v.exemption)
    lines.push(
      `  exemption in force: ${v.exemption.ticket} (${v.exemption.reason}), expires ${v.exemption.expires}`,
    );
  for (const s of v.satisfied) {
    if (s.requirement === 'exemption') continue;
    lines.push(
      `  ${paint('green', 'ok')}   ${s.requirement}${s.subject ? ` [${s.subject}]` : ''}: ${s.by.join(', ')}`,
    );
  }
  for (const f of v.findings) {
    const status = waived ? paint('yellow', 'WAIVED') : paint('red', 'FAIL');
    const tail = waived ? ` (${waived})` : '';
    lines.push(`  ${status} ${f.requirement} ${f.code}${f.subject ? ` [${f.subject}]` : ''}${tail}`);
    lines.push(`       expected: ${digestOnce(f.expected, v.digest)}`);
    lines.push(`       found:    ${digestOnce(f.found, v.digest)}`);
    lines.push(`       hint:     ${f.hint}`);
  }
  // skipped attachments never change the verdict, but someone pushed them: say so
  for (const n of v.notes ?? []) {
    lines.push(`  note ${n.code} ${n.reason}${n.subject ? ` [${n.subject}]` : ''}: ${n.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One pack diagnostic, before the pack adds its resource label. */
export interface VerdictDiagnostic {
  code: string;
  subject: string;
  requirement: string;
  expected: string;
  found: string;
  hint?: string;
  /** `advisory` for what must never block (exemption in force, skipped attachment); else the policy's level. */
  level?: 'advisory';
}

/**
 * The pack's diagnostics for one image at one site (`container "c" (path) image "ref"`): one per unmet
 * requirement; an exemption in force is one advisory diagnostic naming what it waives; a skipped
 * attachment next to an allowed image is advisory.
 */
export function verdictDiagnostics(v: ImageVerdict, site: string, requirement: string): VerdictDiagnostic[] {
  const at = `${site} image ${imageLabel(v.image, v.digest)}`;
  const out: VerdictDiagnostic[] = [];
  if (v.allowed) {
    // A skipped attachment never counts and never blocks, but someone pushed it next to a deployed image:
    // advisory, so it is seen (a blocked verdict's findings already name what was skipped).
    for (const n of v.notes ?? []) {
      out.push({
        code: n.code,
        subject: n.subject ? `${at} [${n.subject}]` : at,
        requirement,
        expected: 'attachments that are well-formed signatures, attestations or bundles',
        found: `${n.message} (${n.reason})`,
        hint: 'Not counted as evidence. Remove it, or find out who pushed it.',
        level: 'advisory',
      });
    }
  }
  if (v.allowed && v.exemption) {
    const ex = v.exemption;
    const waived = v.findings.map((f) => `${f.requirement} (${f.code})`).join(', ') || 'nothing';
    out.push({
      code: 'EXEMPTION_IN_FORCE',
      subject: at,
      requirement: 'exemption',
      expected: 'an image that meets its rule',
      found: `WAIVED (exemption ${ex.ticket}, expires ${ex.expires}): reason "${ex.reason}"; waives ${waived}`,
      hint: 'Allowed until the exemption expires.',
      level: 'advisory',
    });
    return out;
  }
  if (v.allowed) return out;
  if (v.findings.length === 0) {
    // A verdict that blocks without saying why is a verifier defect: block, and say so.
    return [
      {
        code: 'INTERNAL_ERROR',
        subject: at,
        requirement,
        expected: 'a verdict with reasons',
        found: 'a blocked verdict without findings',
      },
    ];
  }
  for (const f of v.findings) {
    out.push({
      code: f.code,
      subject: f.subject ? `${at} [${f.subject}]` : at,
      requirement: f.requirement,
      expected: digestOnce(f.expected, v.digest),
      found: digestOnce(f.found, v.digest),
      hint: f.hint,
    });
  }
  return out;
}
