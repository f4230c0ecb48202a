import type { ReportViolation } from '@pulumi/policy';

/**
 * One shape for every diagnostic the pack emits, so people and tools read the same fields in the same
 * place: `[CODE] <resource>: <subject>: <requirement>: expected <...>; found <...>. <hint>`.
 * The code in brackets is stable (tests and the CLI branch on it); the words are for people.
 */
export interface DiagnosticFields {
  code: string;
  /** `name (type)` of the resource. */
  resource: string;
  /** What inside the resource: `container "app" image "ghcr.io/acme/app:1"`, `nodeConfig`, ... */
  subject?: string;
  requirement: string;
  expected: string;
  found: string;
  hint?: string;
}

export type Level = 'advisory' | 'mandatory';

export function formatDiagnostic(f: DiagnosticFields): string {
  const where = f.subject ? `${f.resource}: ${f.subject}` : f.resource;
  const hint = f.hint ? ` ${f.hint}` : '';
  return `[${f.code}] ${where}: ${f.requirement}: expected ${f.expected}; found ${f.found}.${hint}`;
}

export function resourceLabel(name: string, type: string): string {
  return `${name} (${type})`;
}

/** The object form @pulumi/policy's reportViolation accepts at runtime (1.21 server.js) but does not declare. */
interface ViolationDetails {
  message: string;
  enforcementLevel?: Level;
  urn?: string;
}

/**
 * Reports with an explicit level. `undefined` keeps the policy's configured level (so `advisory` in the
 * pack config downgrades the policy); advisory is forced for things that must never block (exemptions
 * in force, values unknown during preview). The object form keeps the message exactly as formatted
 * (the string form would prefix the policy description).
 */
export function report(
  reportViolation: ReportViolation,
  fields: DiagnosticFields,
  level?: Level,
  urn?: string,
): void {
  const details: ViolationDetails = { message: formatDiagnostic(fields) };
  if (level !== undefined) details.enforcementLevel = level;
  if (urn !== undefined) details.urn = urn;
  (reportViolation as unknown as (d: ViolationDetails) => void)(details);
}
