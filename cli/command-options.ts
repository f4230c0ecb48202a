import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Option } from 'commander';
import { RegistryError } from '../policy-pack/registry/errors';
import { parseMirrorFlags } from '../policy-pack/registry/mirrors';
import { isPolicyError } from '../policy-pack/supply-chain/policy-error';
import { loadTrustPolicyFile, type ResolvedTrustPolicy } from '../policy-pack/supply-chain/trust-policy';
import { UsageError } from './exit-codes';

/** Option parsing shared by the CLI's commands: each malformed value is a usage error (exit 2). */

/**
 * Commander accumulator for repeatable options. Repeatable options are declared without a default (so
 * help shows no `(default: [])`); commands read them as `opts.x ?? []`.
 */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--output FORMAT`, shared by the commands that report verdicts. */
export const OUTPUT_FORMATS = ['text', 'json', 'sarif', 'junit'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputOption(): Option {
  return new Option('-o, --output <format>', 'report format').choices(OUTPUT_FORMATS).default('text');
}

/** `--json` is kept as a short form of `--output json`; both together must agree. */
export function outputFormat(opts: { output?: string; json?: boolean }): OutputFormat {
  const output = (opts.output ?? 'text') as OutputFormat;
  if (opts.json && output !== 'text' && output !== 'json') {
    throw new UsageError(`--json and --output ${output} ask for two formats; give one`, 'BAD_OUTPUT');
  }
  return opts.json ? 'json' : output;
}

/**
 * `--registry-mirror HOST=STORE` (repeatable) -> the registry client's mirror map. STORE is
 * `oci-layout:DIR` or an `https://` (or loopback `http://`) URL. The grammar is the registry layer's
 * (`parseMirrorFlags`: one entry per host, a bare host); the CLI also wants an OCI layout that exists
 * after `oci-layout:` (a typo there would otherwise read as "image not found" for every image).
 */
export function parseMirrors(values: readonly string[] | undefined): Record<string, string> {
  const flags = values ?? [];
  for (const value of flags) {
    const store = value.slice(value.indexOf('=') + 1).trim();
    if (store.startsWith('oci-layout:') && store.length === 'oci-layout:'.length) {
      throw new UsageError(`--registry-mirror "${value}": oci-layout: needs a directory`, 'BAD_MIRROR');
    }
  }
  let mirrors: Record<string, string>;
  try {
    mirrors = parseMirrorFlags(flags);
  } catch (e) {
    if (e instanceof RegistryError) throw new UsageError(`--registry-mirror: ${e.message}`, 'BAD_MIRROR');
    throw e;
  }
  for (const [host, store] of Object.entries(mirrors)) {
    if (!store.startsWith('oci-layout:')) continue;
    const dir = path.resolve(store.slice('oci-layout:'.length));
    if (!isDirectory(dir)) {
      throw new UsageError(
        `--registry-mirror ${host}: ${dir} does not exist or is not a directory`,
        'BAD_MIRROR',
      );
    }
    if (!existsSync(path.join(dir, 'oci-layout')) || !existsSync(path.join(dir, 'index.json'))) {
      throw new UsageError(
        `--registry-mirror ${host}: ${dir} is not an OCI image layout (no oci-layout or index.json file)`,
        'BAD_MIRROR',
      );
    }
  }
  return mirrors;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `--policy FILE`: the trust policy; an unreadable or invalid file is a usage error carrying its code. */
export function loadPolicyOption(file: string): ResolvedTrustPolicy {
  try {
    return loadTrustPolicyFile(file);
  } catch (e) {
    if (isPolicyError(e)) throw new UsageError(e.message, e.code);
    throw e;
  }
}
