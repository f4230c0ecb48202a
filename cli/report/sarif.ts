import { explain } from '../explain/catalog';
import { artifactUri, type CheckRun } from './check-run';

/**
 * SARIF 2.1.0 (OASIS) for code scanning: one run, a rule per code met (its help is `trustops explain`'s
 * text), a result per finding located at the checked file, the image or resource as a logical location.
 * A waived finding carries an external suppression naming the exemption. Tests validate the output
 * against the SARIF 2.1.0 JSON schema.
 */
export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export function renderSarif(run: CheckRun, version: string): string {
  const codes = [...new Set(run.items.flatMap((i) => i.findings.map((f) => f.code)))].sort();
  const rules = codes.map((code) => {
    const e = explain(code);
    return {
      id: code,
      name: code
        .toLowerCase()
        .split('_')
        .map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1)))
        .join(''),
      shortDescription: { text: e?.title ?? code },
      ...(e ? { fullDescription: { text: e.meaning } } : {}),
      help: {
        text: e ? `${e.meaning}\nFix: ${e.fix}\n(trustops explain ${code})` : `trustops explain ${code}`,
      },
      defaultConfiguration: {
        level: e?.effect === 'advisory' ? 'note' : e?.effect === 'blocks' ? 'error' : 'warning',
      },
    };
  });
  const uri = artifactUri(run.artifact);
  const results = run.items.flatMap((item) =>
    item.findings.map((f) => ({
      ruleId: f.code,
      ruleIndex: codes.indexOf(f.code),
      level: f.level,
      message: { text: `${item.kind === 'image' ? item.id : `${item.name} (${item.id})`}: ${f.message}` },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } },
          logicalLocations: [{ name: item.name, fullyQualifiedName: item.id, kind: 'resource' }],
        },
      ],
      partialFingerprints: { 'trustopsFinding/v1': `${item.id}|${f.code}` },
      ...(f.waived
        ? { suppressions: [{ kind: 'external', status: 'accepted', justification: f.waived }] }
        : {}),
    })),
  );
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'trustops', version, semanticVersion: version, rules } },
        automationDetails: { id: `trustops/${run.command}/` },
        invocations: [{ executionSuccessful: run.exitCode !== 4, exitCode: run.exitCode }],
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
