/**
 * Values unknown during preview. The engine sends a computed value as a sentinel string, and
 * @pulumi/policy keeps these sentinels in the raw properties (its proxy throws on access instead). The
 * pack reads raw properties so it can report every unknown image at once, with its path.
 */
const UNKNOWN_SENTINELS = new Set([
  '1c4a061d-8072-4f0a-a4cb-0ff528b18fe7', // boolean
  '3eeb2bf0-c639-47a8-9e75-3b44932eb421', // number
  '04da6b54-80e4-46f7-96ec-b56ff0331ba9', // string (what the engine sends for any computed value)
  '6a19a0b0-7e62-4c92-b797-7f8e31da9cc2', // array
  '030794c1-ac77-496b-92df-f27374a8bd58', // asset
  'e48ece36-62e2-4504-bad9-02848725956a', // archive
  'dd056dcd-154b-4c76-9bd3-c8f88648b5ff', // object
]);

export function isUnknownValue(value: unknown): boolean {
  return typeof value === 'string' && UNKNOWN_SENTINELS.has(value);
}

/** @pulumi/policy hands policies a proxy over the properties; this key returns the plain object under it. */
const PROXY_TARGET_KEY = '__getSpecialProxyTarget';

/**
 * The plain properties under @pulumi/policy's proxies (or the value itself). Remediate stacks a
 * secrets-preserving proxy under the unknown-checking one; under both, secrets are @pulumi/policy
 * `Secret` objects, which a remediation must hand back untouched so they stay secret.
 */
export function rawProperties(props: unknown): unknown {
  let cur = props;
  for (let i = 0; i < 4 && cur !== null && typeof cur === 'object'; i++) {
    const target = (cur as Record<string, unknown>)[PROXY_TARGET_KEY];
    if (target === undefined || target === cur) break;
    cur = target;
  }
  return cur;
}
