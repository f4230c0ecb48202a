import * as path from 'node:path';
import type { Command } from 'commander';
import { runDemo, type DemoReport } from '../demo/run-demo';
import { defaultDemoDir } from '../demo/supply-chain';
import { EXIT, UsageError } from '../exit-codes';
import { paint } from '../preview/colour';
import { PreviewError } from '../preview/errors';
import { renderPreviewText } from '../preview/render-text';
import { DEFAULT_PACK_DIR, progressPrinter } from './preview';

const PROJECT_DIR = path.resolve(__dirname, '..', '..');

export const KEY_BASED_NOTE =
  'Demo signatures are key-based and made offline, with no transparency log (no Rekor): the demo ' +
  "trust policy's key signers opt out of transparency-log evidence (requireTransparencyLog: false). " +
  'Keep the default (required) in a real trust policy.';

export interface DemoCommandOptions {
  dir?: string;
  json?: boolean;
  build: boolean;
  policyPack: string;
}

export function renderDemoText(report: DemoReport, stream: { isTTY?: boolean } = process.stdout): string {
  const lines = [
    paint(
      'bold',
      'trustops demo: the example program under the policy pack, against an embedded supply chain',
      stream,
    ),
    '',
    KEY_BASED_NOTE,
    '',
    `Supply chain: ${report.supplyChain.dir} (${report.supplyChain.created ? 'created on this run' : 'reused'}),`,
    `  images in the OCI layout ${report.supplyChain.layoutDir}, mapped in with --registry-mirror ${report.supplyChain.host}=oci-layout:...`,
    `The same preview by hand: ${report.command.map((a) => (/[\s"'{}[\]]/.test(a) ? `'${a}'` : a)).join(' ')}`,
    '',
    renderPreviewText(report.preview, stream),
    paint('bold', 'Images, verdict by verdict (the trust policy the pack enforced):', stream),
  ];
  for (const image of report.images) {
    const label = image.allowed ? paint('green', 'ALLOWED', stream) : paint('red', 'BLOCKED', stream);
    lines.push(`  ${label} ${image.name.padEnd(13)} ${image.story}`);
    lines.push(`          ${image.image}`);
    for (const line of image.summary) lines.push(`          ${line}`);
  }
  lines.push('', 'The demo is meant to show blocks: it exits 0 once the report is produced.');
  return lines.join('\n') + '\n';
}

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'The main job (npm start): create the embedded demo supply chain on first run (an OCI layout with five ' +
        'images and their keys), then preview the example program with one non-confidential node pool under ' +
        'the policy pack, the layout mapped in with --registry-mirror; print what was allowed and what was blocked and why.',
    )
    .option(
      '--dir <dir>',
      'where the demo supply chain lives (default: TRUSTOPS_DEMO_DIR or ~/.cache/trustops)',
    )
    .option('--policy-pack <dir>', 'the policy pack folder', DEFAULT_PACK_DIR)
    .option('--json', 'print the demo report as JSON (format in docs/cli.md)')
    .option('--no-build', 'fail instead of building the pack when policy-pack/dist is missing or stale')
    .addHelpText(
      'after',
      '\nThe demo exits 0 once the report is produced (blocks included): it is meant to show them.',
    )
    .action(async (opts: DemoCommandOptions) => {
      let report: DemoReport;
      try {
        report = await runDemo({
          projectDir: PROJECT_DIR,
          packDir: path.resolve(opts.policyPack),
          demoDir: path.resolve(opts.dir ?? defaultDemoDir()),
          build: opts.build,
          log: (line) => process.stderr.write(`trustops: ${line}\n`),
          progress: progressPrinter(),
        });
      } catch (e) {
        if (e instanceof PreviewError) throw new UsageError(e.message, e.code);
        throw e;
      }
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : renderDemoText(report));
      setExit(EXIT.OK);
    });
}
