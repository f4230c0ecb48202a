import * as path from 'node:path';
import type { AnalyzeResult, Diagnostic } from '../../../cli/analyzer';

/** The pack under test: the compiled policy-pack/ folder (npm test builds it first). */
export const PACK_DIR = path.resolve(__dirname, '../../../policy-pack');

/** The stable code a diagnostic message starts with (`[SIGNATURE_MISSING] ...`). */
export function codeOf(d: Diagnostic): string {
  const m = /^\[([A-Z_]+)\]/.exec(d.message);
  if (!m) throw new Error(`diagnostic without a code: ${d.message}`);
  return m[1]!;
}

/** `policy level CODE`, sorted: what tests compare exactly (messages are for people). */
export function summary(r: AnalyzeResult, only?: string[]): string[] {
  return r.diagnostics
    .filter((d) => !only || only.includes(d.policyName))
    .map((d) => `${d.policyName} ${d.enforcementLevel} ${codeOf(d)}`)
    .sort();
}

export function messages(r: AnalyzeResult, policyName: string): string[] {
  return r.diagnostics.filter((d) => d.policyName === policyName).map((d) => d.message);
}

export const DIGEST = `sha256:${'a'.repeat(64)}`;

export function deployment(
  images: string[],
  opts: { labels?: Record<string, string>; spec?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      template: {
        metadata: { labels: { app: 'web', ...opts.labels } },
        spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })), ...opts.spec },
      },
    },
  };
}
