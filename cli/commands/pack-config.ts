import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { collect, loadPolicyOption, parseMirrors } from '../command-options';
import { EXIT, UsageError } from '../exit-codes';
import { packConfigFor } from '../policy/pack-config';

/**
 * `trustops pack-config --policy FILE`: writes the policy pack config for a trust policy (keys inlined as
 * PEM, the trust policy in both image policies, registry settings, allowed prefixes), for
 * `pulumi up --policy-pack-config` or `pulumi policy enable --config`. No hand-escaped PEM in JSON.
 */
export interface PackConfigCommandOptions {
  policy: string;
  registryMirror?: string[];
  insecureRegistry?: string[];
  allowedPrefix?: string[];
  pinning?: 'mandatory' | 'remediate' | 'advisory';
  out?: string;
}

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('pack-config')
    .description('Write the policy pack config (JSON) for a trust policy: keys inlined, ready to publish.')
    .requiredOption('--policy <file>', 'trust policy file (YAML or JSON)')
    .option(
      '--registry-mirror <host=store>',
      'serve HOST from oci-layout:DIR or https://mirror (repeatable)',
      collect,
    )
    .option('--insecure-registry <host>', 'registry host reachable over plain HTTP (repeatable)', collect)
    .option(
      '--allowed-prefix <prefix>',
      "allowed-registries prefix (repeatable); when none is given, derived from the rules' match globs",
      collect,
    )
    .addOption(
      new Option('--pinning <level>', 'level of images-pinned-by-digest')
        .choices(['mandatory', 'remediate', 'advisory'])
        .default('mandatory'),
    )
    .option('--out <file>', 'write the config to FILE instead of stdout')
    .action((opts: PackConfigCommandOptions) => {
      setExit(
        packConfigCommand(
          opts,
          (s) => process.stdout.write(s),
          (s) => process.stderr.write(s),
        ),
      );
    });
}

export function packConfigCommand(
  opts: PackConfigCommandOptions,
  write: (s: string) => void,
  note: (s: string) => void,
): number {
  const policy = loadPolicyOption(opts.policy);
  const { config, notes } = packConfigFor(policy, {
    mirrors: parseMirrors(opts.registryMirror),
    insecureRegistries: opts.insecureRegistry ?? [],
    allowedPrefixes: opts.allowedPrefix ?? [],
    ...(opts.pinning ? { pinningLevel: opts.pinning } : {}),
  });
  const json = `${JSON.stringify(config, null, 2)}\n`;
  if (opts.out) {
    try {
      writeFileSync(opts.out, json);
    } catch (e) {
      throw new UsageError(`--out ${opts.out}: ${(e as Error).message}`, 'OUT_UNWRITABLE');
    }
  } else {
    write(json);
  }
  for (const n of notes) note(`trustops pack-config: note: ${n}\n`);
  return EXIT.OK;
}
