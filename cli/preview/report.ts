import type { EnforcementLevel } from '../analyzer/types';

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
  resources: ReportedResource[];
  stackDiagnostics: ReportedDiagnostic[];
  summary: {
    resources: number;
    /** Resources with at least one mandatory diagnostic. */
    blockedResources: number;
    mandatory: number;
    advisory: number;
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
