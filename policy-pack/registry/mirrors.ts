import { RegistryError } from './errors';

/**
 * Parses `--registry-mirror HOST=oci-layout:DIR` / `HOST=https://mirror` flags (and the same strings in
 * config files) into `RegistryClientOptions.mirrors`. A host named twice is an error, not a silent override.
 */
export function parseMirrorFlags(flags: readonly string[]): Record<string, string> {
  const mirrors: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const host = eq < 0 ? '' : flag.slice(0, eq).trim();
    const target = eq < 0 ? '' : flag.slice(eq + 1).trim();
    if (host === '' || target === '' || host.includes('/')) {
      throw new RegistryError(
        'INVALID_CONFIG',
        `Registry mirror "${flag.slice(0, 200)}" must be HOST=oci-layout:DIR or HOST=https://mirror (e.g. ghcr.io=oci-layout:/srv/mirror).`,
      );
    }
    if (!target.startsWith('oci-layout:') && !/^https?:\/\/[^/]/.test(target)) {
      throw new RegistryError(
        'INVALID_CONFIG',
        `Registry mirror for ${host} must be oci-layout:DIR or an http(s):// URL.`,
        { registry: host },
      );
    }
    if (Object.prototype.hasOwnProperty.call(mirrors, host)) {
      throw new RegistryError('INVALID_CONFIG', `Registry mirror for ${host} is given twice.`, {
        registry: host,
      });
    }
    mirrors[host] = target;
  }
  return mirrors;
}
