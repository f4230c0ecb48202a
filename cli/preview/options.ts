import { UsageError } from '../exit-codes';

/** Commander accumulator for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--registry-mirror HOST=STORE` (repeatable) -> the registry client's mirror map. STORE is
 * `oci-layout:DIR` or an `https://` (or loopback `http://`) URL.
 */
export function parseMirrors(values: string[]): Record<string, string> {
  const mirrors: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const host = value.slice(0, eq);
    const store = value.slice(eq + 1);
    if (eq <= 0 || !/^(oci-layout:.+|https?:\/\/.+)$/.test(store)) {
      throw new UsageError(
        `--registry-mirror ${value}: expected HOST=oci-layout:DIR or HOST=https://MIRROR`,
        'BAD_MIRROR',
      );
    }
    mirrors[host] = store;
  }
  return mirrors;
}
