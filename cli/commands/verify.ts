import type { Command } from 'commander';
import { createImageVerifier } from '../../policy-pack/image-verifier';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { RegistryError } from '../../policy-pack/registry/errors';
import type { RegistryClient } from '../../policy-pack/registry/types';
import type { ImageVerdict } from '../../policy-pack/supply-chain/types';
import { EXIT, UsageError } from '../exit-codes';
import { collect, loadPolicyOption, parseMirrors } from '../command-options';

/**
 * `trustops verify IMAGE --policy FILE`: checks one image against the trust policy, as the policy pack
 * does at deploy time. Exit 0 allowed, 1 blocked, 2 usage or configuration error (a bad policy file
 * exits 2 with every coded problem listed).
 */
export interface VerifyCommandOptions {
  policy: string;
  json?: boolean;
  insecureRegistry: string[];
  registryMirror: string[];
}

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('verify')
    .description('Verify an image against the trust policy (signature, SBOM, provenance, rebuilds).')
    .argument('<IMAGE>', 'image reference, e.g. registry.example.com/acme/app@sha256:<digest>')
    .requiredOption('--policy <file>', 'trust policy file (YAML or JSON)')
    .option('--json', 'print the verdict as JSON (see policy-pack/supply-chain/VERDICT.md)')
    .option('--insecure-registry <host>', 'registry host reachable over plain HTTP (repeatable)', collect, [])
    .option(
      '--registry-mirror <host=store>',
      'serve HOST from oci-layout:DIR or https://mirror (repeatable)',
      collect,
      [],
    )
    .action(async (image: string, opts: VerifyCommandOptions) => {
      setExit(await verifyCommand(image, opts, (s) => process.stdout.write(s)));
    });
}

function createClient(opts: VerifyCommandOptions): RegistryClient {
  try {
    return createRegistryClient({
      mirrors: parseMirrors(opts.registryMirror),
      insecureRegistries: opts.insecureRegistry,
    });
  } catch (e) {
    if (e instanceof RegistryError) throw new UsageError(e.message, e.code);
    throw e;
  }
}

/** Runs the command; returns the exit code. Usage and configuration errors throw UsageError (exit 2). */
export async function verifyCommand(
  image: string,
  opts: VerifyCommandOptions,
  write: (s: string) => void,
): Promise<number> {
  const policy = loadPolicyOption(opts.policy);
  const registry = createClient(opts);
  const verdict = await createImageVerifier({ policy, registry }).verify(image);
  write(opts.json ? `${JSON.stringify(verdict, null, 2)}\n` : renderVerdict(verdict));
  return verdict.allowed ? EXIT.OK : EXIT.BLOCKED;
}

/**
 * The readable report: image, digest, rule, then each unmet requirement with expected, found and hint,
 * then a note per skipped (malformed) attachment.
 */
export function renderVerdict(v: ImageVerdict): string {
  const lines: string[] = [];
  lines.push(`${v.allowed ? 'ALLOWED' : 'BLOCKED'}  ${v.image}`);
  if (v.digest !== undefined) lines.push(`  digest: ${v.digest}`);
  lines.push(`  rule:   ${v.rule ?? '(none)'}`);
  if (v.exemption !== undefined) {
    const e = v.exemption;
    lines.push(`  exemption in force: ${e.ticket} (${e.reason}), expires ${e.expires}`);
  }
  for (const s of v.satisfied) {
    lines.push(`  ok   ${s.requirement}${s.subject ? ` [${s.subject}]` : ''}: ${s.by.join(', ')}`);
  }
  for (const f of v.findings) {
    lines.push(`  FAIL ${f.requirement} ${f.code}${f.subject ? ` [${f.subject}]` : ''}`);
    lines.push(`       expected: ${f.expected}`);
    lines.push(`       found:    ${f.found}`);
    lines.push(`       hint:     ${f.hint}`);
  }
  // skipped attachments never change the verdict, but someone pushed them: say so
  for (const n of v.notes ?? []) {
    lines.push(`  note ${n.code} ${n.reason}${n.subject ? ` [${n.subject}]` : ''}: ${n.message}`);
  }
  return `${lines.join('\n')}\n`;
}
