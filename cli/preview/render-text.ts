import { paint } from './colour';
import { diagnosticCode, type PreviewReport, type ReportedDiagnostic, type ReportedResource } from './report';

type Stream = { isTTY?: boolean };

/**
 * The human report: blocked resources first (each reason and its fix, as the pack words them), then
 * resources with advisories, then the workloads that passed with the images they deploy, then what an
 * offline preview cannot know.
 */
export function renderPreviewText(report: PreviewReport, stream: Stream = process.stdout): string {
  const lines: string[] = [];
  const c = (colour: Parameters<typeof paint>[0], text: string): string => paint(colour, text, stream);
  lines.push(
    c('bold', `trustops preview: stack ${report.stack} of project ${report.project}`) +
      ` under policy pack ${report.pack.name}@${report.pack.version} (config ${report.pack.config})`,
    '',
  );
  const blocked = report.resources.filter((r) =>
    r.diagnostics.some((d) => d.enforcementLevel === 'mandatory'),
  );
  const advised = report.resources.filter(
    (r) => !blocked.includes(r) && r.diagnostics.some((d) => d.enforcementLevel === 'advisory'),
  );
  const allowedWorkloads = report.resources.filter((r) => r.diagnostics.length === 0 && r.images.length > 0);

  for (const r of blocked) {
    // blocked only because a registry could not be read: the pack fails closed, the CLI exits 3
    const unverified = r.diagnostics
      .filter((d) => d.enforcementLevel === 'mandatory')
      .every((d) => diagnosticCode(d) === 'REGISTRY_ERROR');
    lines.push(...resourceBlock(unverified ? c('yellow', 'UNVERIFIED') : c('red', 'BLOCKED '), r, c));
  }
  for (const r of advised) lines.push(...resourceBlock(c('yellow', 'ADVISORY'), r, c));
  for (const r of allowedWorkloads) lines.push(...resourceBlock(c('green', 'ALLOWED '), r, c));
  if (report.stackDiagnostics.length > 0) {
    lines.push(`${c('bold', 'STACK')}    ${report.stack}`);
    for (const d of report.stackDiagnostics) lines.push(...diagnosticLines(d, c));
    lines.push('');
  }
  const uncheckedUrns = new Set(report.unchecked.map((u) => u.urn));
  for (const u of report.unchecked) {
    lines.push(`${c('yellow', 'UNCHECKED')} ${u.type} ${c('bold', u.name)}`, `         ${c('dim', u.urn)}`);
    lines.push(`  - ${c('yellow', 'not checked')} ${c('bold', 'WORKLOADS_UNCHECKED')}: ${u.reason}`, '');
  }
  const others =
    report.resources.length -
    blocked.length -
    advised.length -
    allowedWorkloads.length -
    report.resources.filter((r) => uncheckedUrns.has(r.urn) && !blocked.includes(r) && !advised.includes(r))
      .length;
  lines.push(
    c('bold', 'Summary: ') +
      `${report.summary.resources} resources analyzed; ` +
      `${report.summary.blockedResources} blocked by ${report.summary.mandatory} mandatory violation(s); ` +
      `${report.summary.advisory} advisory; ${allowedWorkloads.length} workload(s) allowed; ` +
      `${others} other resource(s) passed every policy` +
      (report.unchecked.length > 0 ? `; ${report.unchecked.length} resource(s) not checked.` : '.'),
  );
  if (report.unchecked.length > 0) {
    lines.push(
      c('yellow', 'INCOMPLETE: ') +
        `the workloads of ${report.unchecked.length} resource(s) were not checked (UNCHECKED above), so this preview cannot pass; ` +
        '`pulumi preview --policy-pack` checks them (`trustops explain WORKLOADS_UNCHECKED`).',
    );
  }
  lines.push('', ...offlineNote(report));
  return lines.join('\n') + '\n';
}

function resourceBlock(
  label: string,
  r: ReportedResource,
  c: (colour: Parameters<typeof paint>[0], text: string) => string,
): string[] {
  const lines = [`${label} ${r.type} ${c('bold', r.name)}`, `         ${c('dim', r.urn)}`];
  for (const image of r.images) lines.push(`         image ${image}`);
  for (const d of r.diagnostics) lines.push(...diagnosticLines(d, c));
  lines.push('');
  return lines;
}

function diagnosticLines(
  d: ReportedDiagnostic,
  c: (colour: Parameters<typeof paint>[0], text: string) => string,
): string[] {
  const level = d.enforcementLevel === 'mandatory' ? c('red', 'mandatory') : c('yellow', d.enforcementLevel);
  const [first = '', ...rest] = d.message.split('\n');
  return [`  - ${level} ${c('bold', d.policy)}: ${first}`, ...rest.map((l) => `      ${l}`)];
}

function offlineNote(report: PreviewReport): string[] {
  const o = report.offline;
  const lines = [
    'This preview ran the program offline under a recording engine (no cloud account, no Pulumi CLI).',
    'A real `pulumi preview` would also:',
    `  - know provider-computed values: ${o.unknownValues} input value(s) were unknown here; the pack checks them again at update`,
    "  - run each provider's Check (input defaults and normalisation) and use your credentials for default providers",
  ];
  if (o.providerCalls.length > 0) {
    lines.push(
      `  - answer provider function calls (${o.providerCalls.join(', ')}), which returned nothing here`,
    );
  }
  if (o.reads.length > 0) lines.push(`  - read existing state (${o.reads.join(', ')}), unknown here`);
  if (o.encryptedConfig.length > 0) {
    lines.push(`  - decrypt secret config (${o.encryptedConfig.join(', ')}), left unset here`);
  }
  return lines;
}
