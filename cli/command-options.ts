import { RegistryError } from '../policy-pack/registry/errors';
import { parseMirrorFlags } from '../policy-pack/registry/mirrors';
import { isPolicyError } from '../policy-pack/supply-chain/policy-error';
import { loadTrustPolicyFile, type ResolvedTrustPolicy } from '../policy-pack/supply-chain/trust-policy';
import { UsageError } from './exit-codes';

/** Option parsing shared by the CLI's commands: each malformed value is a usage error (exit 2). */

/** Commander accumulator for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--registry-mirror HOST=STORE` (repeatable) -> the registry client's mirror map. STORE is
 * `oci-layout:DIR` or an `https://` (or loopback `http://`) URL. The grammar is the registry layer's
 * (`parseMirrorFlags`: one entry per host, a bare host); the CLI also wants a directory after
 * `oci-layout:`. Every malformed flag is a usage error (exit 2).
 */
export function parseMirrors(values: string[]): Record<string, string> {
  for (const value of values) {
    const store = value.slice(value.indexOf('=') + 1).trim();
    if (store.startsWith('oci-layout:') && store.length === 'oci-layout:'.length) {
      throw new UsageError(`--registry-mirror "${value}": oci-layout: needs a directory`, 'BAD_MIRROR');
    }
  }
  try {
    return parseMirrorFlags(values);
  } catch (e) {
    if (e instanceof RegistryError) throw new UsageError(`--registry-mirror: ${e.message}`, 'BAD_MIRROR');
    throw e;
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
