import type { EnforcementLevel } from '../analyzer/types';
import { EXIT, type ExitCode } from '../exit-codes';
import type { UncheckedResource } from './unchecked';

/** One diagnostic of the pack, as the report shows it. */
export interface ReportedDiagnostic {
  policy: string;
  enforcementLevel: EnforcementLevel;
  severity: string;
  /** The pack's message: the image or setting, the rule, what was expected and found, and the fix. */
  message: string;
}

export interface ReportedResource {
  urn: string;
  type: string;
  name: string;
  /** Container images the resource deploys (known references only). */
  images: string[];
  diagnostics: ReportedDiagnostic[];
}

/**
 * The `trustops preview --json` document (documented in docs/cli.md). Resources appear in the order
 * the program registered them; diagnostics of the stack analysis are attached to the resource they
 * name, or listed under `stackDiagnostics`.
 */
export interface PreviewReport {
  apiVersion: 'trustops.dev/v1alpha1';
  kind: 'PreviewReport';
  project: string;
  stack: string;
  pack: { name: string; version: string; config: string };
  /** The stack's config file (Pulumi.<stack>.yaml): SARIF and annotations point at it. */
  stackFile: string;
  resources: ReportedResource[];
  stackDiagnostics: ReportedDiagnostic[];
  /** Resources whose workloads this preview could not see (Helm charts, YAML, kustomizations): not checked. */
  unchecked: UncheckedResource[];
  summary: {
    resources: number;
    /** Resources with at least one mandatory diagnostic. */
    blockedResources: number;
    mandatory: number;
    advisory: number;
    /** Resources not checked (see `unchecked`). */
    unchecked: number;
    /** False when something was not checked: the preview cannot pass. */
    complete: boolean;
  };
  /** What this offline preview could not know and a real `pulumi preview` would. */
  offline: {
    unknownValues: number;
    providerCalls: string[];
    reads: string[];
    encryptedConfig: string[];
  };
}

export function hasMandatoryViolation(report: PreviewReport): boolean {
  return report.summary.mandatory > 0;
}

/** The code a pack diagnostic starts with (`[SIGNATURE_MISSING] ...`), as the pack documents. */
export function diagnosticCode(d: ReportedDiagnostic): string {
  return /^\[([A-Z][A-Z0-9_]*)\]/.exec(d.message)?.[1] ?? 'UNKNOWN';
}

/** Codes that say the pack could not reach a verdict about the image (not a block by policy). */
const COULD_NOT_VERIFY = new Set(['REGISTRY_ERROR']);

/**
 * 1 when a mandatory policy blocks; 3 when the only mandatory diagnostics say a registry could not be
 * read, or when resources were not checked (incomplete); else 0.
 */
export function previewExitCode(report: PreviewReport): ExitCode {
  const mandatory = [...report.resources.flatMap((r) => r.diagnostics), ...report.stackDiagnostics].filter(
    (d) => d.enforcementLevel === 'mandatory',
  );
  if (mandatory.some((d) => !COULD_NOT_VERIFY.has(diagnosticCode(d)))) return EXIT.BLOCKED;
  if (mandatory.length > 0 || report.unchecked.length > 0) return EXIT.UNVERIFIED;
  return EXIT.OK;
}
