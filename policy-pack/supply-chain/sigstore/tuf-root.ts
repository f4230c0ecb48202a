import { TrustedRoot } from '@sigstore/protobuf-specs';
import { SignatureError } from './errors';
import type { TrustedRootMaterial } from './index';
import { loadTrustedRoot } from './trusted-root';

export interface TufRootSource {
  mirror: string;
  /** The initial TUF root.json; undefined for the public-good mirror (its seed ships with @sigstore/tuf). */
  rootPath?: string;
  cacheDir: string;
}

export interface TufRootOptions {
  /** Per metadata or target request while refreshing; a refresh is one attempt, no retries. Default 3 s. */
  timeoutMs?: number;
  /** Used when neither a refresh nor the verified cache gives a root (the embedded copy of the same root). */
  offlineFallback?: () => TrustedRootMaterial;
}

/** One lookup per repository and cache per process: a pack verifies many images with one root. */
const lookups = new Map<string, Promise<TrustedRootMaterial>>();

/**
 * The trusted root as the TUF target `trusted_root.json` of `mirror`: refreshed when the network allows
 * (TUF verifies the metadata chain from the initial root, and the target against its signed hash), else
 * read from the TUF cache of an earlier refresh (still verified against the cached, unexpired metadata),
 * else `offlineFallback`, else a TRUST_ROOT_INVALID error: never an unverified root.
 */
export function tufTrustedRoot(
  source: TufRootSource,
  opts: TufRootOptions = {},
): Promise<TrustedRootMaterial> {
  const key = JSON.stringify([source.mirror, source.rootPath ?? null, source.cacheDir]);
  let lookup = lookups.get(key);
  if (!lookup) {
    lookup = lookUp(source, opts);
    lookups.set(key, lookup);
    // a failed lookup is not remembered: a later verifier (a later run in the same process) tries again
    lookup.catch(() => lookups.delete(key));
  }
  return lookup;
}

async function lookUp(source: TufRootSource, opts: TufRootOptions): Promise<TrustedRootMaterial> {
  // loaded only by policies that ask for TUF: the client and its HTTP stack cost start-up time and memory
  const { getTrustedRoot } = await import('@sigstore/tuf');
  const common = {
    mirrorURL: source.mirror,
    cachePath: source.cacheDir,
    ...(source.rootPath ? { rootPath: source.rootPath } : {}),
    retry: false as const,
    timeout: opts.timeoutMs ?? 3000,
  };
  let refreshFailure: unknown;
  try {
    return asMaterial(await getTrustedRoot({ ...common, forceCache: false }), `TUF ${source.mirror}`);
  } catch (e) {
    if (e instanceof SignatureError) throw e; // a verified target that is not a usable root
    refreshFailure = e;
  }
  try {
    return asMaterial(
      await getTrustedRoot({ ...common, forceCache: true }),
      `TUF ${source.mirror} (cached; refresh failed: ${describe(refreshFailure)})`,
    );
  } catch (cacheFailure) {
    if (cacheFailure instanceof SignatureError) throw cacheFailure;
    if (opts.offlineFallback) return opts.offlineFallback();
    throw new SignatureError(
      'TRUST_ROOT_INVALID',
      `no trusted root from TUF mirror ${source.mirror}: refresh failed (${describe(refreshFailure)}) and the cache in ${source.cacheDir} has no verified copy (${describe(cacheFailure)})`,
    );
  }
}

function asMaterial(root: TrustedRoot, source: string): TrustedRootMaterial {
  return loadTrustedRoot(TrustedRoot.toJSON(root), source);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
