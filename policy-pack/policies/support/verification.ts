import type { ImageVerdict, ImageVerifier } from '../../supply-chain/types';

/** Registry access settings shared by the image policies (the pack's only network configuration). */
export interface RegistrySettings {
  /** Registry host -> store: `oci-layout:/dir` or `https://mirror` (see the registry layer). */
  mirrors?: Record<string, string>;
  /** Hosts reachable over plain HTTP although not loopback. */
  insecureRegistries?: string[];
}

/** Everything a verifier is built from. Two policies with equal settings share one session. */
export interface VerificationSettings {
  trustPolicy: unknown;
  registry: RegistrySettings;
  /** Directory relative paths in the trust policy resolve against. */
  baseDir: string;
}

/**
 * Builds the verifier for a configuration (convention 2: the side effect behind a one-method interface,
 * injected). Throws when the settings cannot give a verifier (a PolicyError for a bad trust policy).
 */
export type ImageVerifierFactory = (settings: VerificationSettings) => ImageVerifier;

/** One configuration's verifier with every verdict of this run, so each image is verified once. */
export interface VerificationSession {
  verify(image: string): Promise<ImageVerdict>;
  /** A verdict already computed in this run (what images-pinned-by-digest pins to), or undefined. */
  settled(image: string): ImageVerdict | undefined;
}

export type SessionResult = { ok: true; session: VerificationSession } | { ok: false; error: unknown };

/** How many distinct configurations keep their sessions (a run has one; tests reconfigure). */
const MAX_SESSIONS = 4;

/** A key that is equal for equal JSON documents regardless of key order. */
function stableKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function internalVerdict(image: string, error: unknown): ImageVerdict {
  return {
    image,
    allowed: false,
    findings: [
      {
        requirement: 'policy',
        code: 'INTERNAL_ERROR',
        expected: 'verification to complete',
        found: `an internal error: ${error instanceof Error ? error.message : String(error)}`,
        hint: 'This is a defect in the policy pack; report it with this message. The image stays blocked.',
      },
    ],
    satisfied: [],
  };
}

function createSession(verifier: ImageVerifier): VerificationSession {
  const pending = new Map<string, Promise<ImageVerdict>>();
  const settled = new Map<string, ImageVerdict>();
  return {
    verify(image) {
      let p = pending.get(image);
      if (!p) {
        // The verifier promises never to throw; a defect that makes it throw still blocks the image.
        p = Promise.resolve()
          .then(() => verifier.verify(image))
          .catch((e: unknown) => internalVerdict(image, e))
          .then((v) => {
            settled.set(image, v);
            return v;
          });
        pending.set(image, p);
      }
      return p;
    },
    settled: (image) => settled.get(image),
  };
}

/** Sessions by configuration. A factory failure is remembered too (a bad trust policy is parsed once). */
export class VerificationSessions {
  private readonly sessions = new Map<string, SessionResult>();
  /** The last lookup: configs are shared objects (readConfig), so a run mostly hits this. */
  private last: { settings: VerificationSettings; result: SessionResult } | undefined;

  constructor(private readonly factory: ImageVerifierFactory) {}

  sessionFor(settings: VerificationSettings): SessionResult {
    const l = this.last;
    if (
      l &&
      l.settings.trustPolicy === settings.trustPolicy &&
      l.settings.registry === settings.registry &&
      l.settings.baseDir === settings.baseDir
    ) {
      return l.result;
    }
    const result = this.lookup(settings);
    this.last = { settings, result };
    return result;
  }

  private lookup(settings: VerificationSettings): SessionResult {
    const key = stableKey(settings);
    const hit = this.sessions.get(key);
    if (hit) return hit;
    let result: SessionResult;
    try {
      result = { ok: true, session: createSession(this.factory(settings)) };
    } catch (error) {
      result = { ok: false, error };
    }
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.set(key, result);
    return result;
  }
}
