import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { KyvernoRenderError } from '../../components/kyverno/errors';
import { kyvernoExcludedNamespaces } from '../../components/kyverno/kyverno';
import { renderKyvernoPolicies, type KyvernoPolicyKind } from '../../components/kyverno/render-policies';
import { collect, loadPolicyOption } from '../command-options';
import { EXIT, UsageError } from '../exit-codes';

/**
 * `trustops kyverno render --policy FILE`: prints the admission policy the Kyverno component applies,
 * rendered from the same trust policy the pack enforces, as multi-document YAML. Exit 0, or 2 when the
 * policy file is invalid or cannot be rendered faithfully.
 */
export interface KyvernoRenderCommandOptions {
  policy: string;
  kind?: string[];
  namespace: string;
  excludeNamespace?: string[];
  /** Write the YAML to this file instead of stdout. */
  out?: string;
}

const KINDS: Record<string, KyvernoPolicyKind> = {
  ImageValidatingPolicy: 'ImageValidatingPolicy',
  ivpol: 'ImageValidatingPolicy',
  ClusterPolicy: 'ClusterPolicy',
  cpol: 'ClusterPolicy',
};

export function register(program: Command, setExit: (code: number) => void): void {
  const kyverno = program
    .command('kyverno')
    .description('Kyverno admission policies derived from the trust policy.');
  kyverno
    .command('render')
    .description('Print the admission policy YAML the Kyverno component applies.')
    .requiredOption('--policy <file>', 'trust policy file (YAML or JSON)')
    .option(
      '--kind <kind>',
      'ImageValidatingPolicy and/or ClusterPolicy (repeatable; default: ImageValidatingPolicy)',
      collect,
    )
    .option('--namespace <ns>', "Kyverno's namespace (excluded from checks)", 'kyverno')
    .option('--exclude-namespace <ns>', 'another namespace to exclude (repeatable)', collect)
    .option('-o, --out <file>', 'write the YAML to FILE (for review in a pull request) instead of stdout')
    .action((opts: KyvernoRenderCommandOptions) => {
      setExit(kyvernoRenderCommand(opts, (s) => process.stdout.write(s)));
    });
}

export function kyvernoRenderCommand(
  opts: KyvernoRenderCommandOptions,
  write: (s: string) => void,
  now = new Date(),
): number {
  const kinds = ((opts.kind ?? []).length > 0 ? (opts.kind as string[]) : ['ImageValidatingPolicy']).map(
    (k) => {
      const kind = KINDS[k];
      if (!kind)
        throw new UsageError(`--kind "${k}" must be ImageValidatingPolicy or ClusterPolicy`, 'BAD_KIND');
      return kind;
    },
  );
  const policy = loadPolicyOption(opts.policy);
  try {
    const objects = renderKyvernoPolicies(policy, {
      kinds: [...new Set(kinds)],
      excludedNamespaces: kyvernoExcludedNamespaces(opts.namespace, opts.excludeNamespace ?? []),
      now,
    });
    const yaml = objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
    if (opts.out === undefined) {
      write(yaml);
      return EXIT.OK;
    }
    try {
      writeFileSync(opts.out, yaml);
    } catch (e) {
      throw new UsageError(`--out ${opts.out}: ${(e as Error).message}`, 'OUT_UNWRITABLE');
    }
    return EXIT.OK;
  } catch (e) {
    if (e instanceof KyvernoRenderError) throw new UsageError(e.message, e.code);
    throw e;
  }
}
