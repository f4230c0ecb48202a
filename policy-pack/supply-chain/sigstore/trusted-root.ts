import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import { withDecodedCertificates } from './decoded-certificate';
import { SignatureError } from './errors';
import type { TrustedRootMaterial } from './index';
// The embedded copy ships inside the pack (resolveJsonModule copies it to dist/) so verification works offline.
import publicGoodRootJson from './trusted_root.public-good.json';

const TRUSTED_ROOT_MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
]);

/** Trusted root plus the library's trust material built from it once (keys parsed, certificates decoded). */
export interface LoadedTrustedRoot extends TrustedRootMaterial {
  readonly root: TrustedRoot;
  /** Built with a key finder that refuses every hint; the verifier swaps in the signer's key. */
  readonly material: TrustMaterial;
}

/** Parse a `trusted_root.json` (Sigstore TrustedRoot). Throws SignatureError TRUST_ROOT_INVALID. */
export function loadTrustedRoot(json: unknown, source = 'trusted root'): TrustedRootMaterial {
  return load(json, source);
}

let embedded: LoadedTrustedRoot | undefined;

/** The Sigstore public-good trusted root shipped inside the pack, for offline use. */
export function embeddedPublicGoodRoot(): TrustedRootMaterial {
  embedded ??= load(publicGoodRootJson, 'embedded public-good trusted root');
  return embedded;
}

/** Narrow the opaque material handed back to callers; anything else is a programming error upstream. */
export function asLoaded(material: TrustedRootMaterial): LoadedTrustedRoot {
  const m = material as Partial<LoadedTrustedRoot>;
  if (!(m.root && m.material)) {
    throw new SignatureError(
      'TRUST_ROOT_INVALID',
      'trusted root material was not produced by loadTrustedRoot()/embeddedPublicGoodRoot()',
    );
  }
  return m as LoadedTrustedRoot;
}

function load(json: unknown, source: string): LoadedTrustedRoot {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid(source, 'expected a JSON object');
  }
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPES.has(mediaType)) {
    throw invalid(source, `unknown mediaType ${JSON.stringify(mediaType)}`);
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
  } catch (e) {
    throw invalid(source, `not a TrustedRoot: ${describe(e)}`, e);
  }
  assertUsableEntries(root, source);
  if (root.certificateAuthorities.length + root.tlogs.length === 0) {
    throw invalid(source, 'it lists neither certificate authorities nor transparency logs');
  }
  let material: TrustMaterial;
  try {
    material = withDecodedCertificates(
      toTrustMaterial(root, () => {
        throw new SignatureError('KEY_MISMATCH', 'no public key configured for this verification');
      }),
    );
  } catch (e) {
    throw invalid(source, `its keys or certificates do not parse: ${describe(e)}`, e);
  }
  return { source, root, material };
}

/**
 * What a trusted root may leave out, read as the reference clients and the protobuf spec read it:
 *
 * - a log key (tlog or CT log) without `validFor` at all: `PublicKey.valid_for` is optional, and a key
 *   without one is valid at any time (sigstore-js; sigstore-js's own test roots and older roots omit it);
 * - a log key whose `validFor` is present but has no `start`: malformed (`TimeRange.start` is REQUIRED;
 *   sigstore-go and sigstore-conformance trust-root-tlog-missing-validity-start refuse it), refused;
 * - a missing `validFor.end`: open-ended;
 * - a certificate or timestamp authority without `validFor` or its `start`: bounded only by its
 *   certificates' own validity, which is always checked (both reference clients);
 * - several certificate authorities, timestamp authorities with intermediate certificates: each chain is
 *   used as listed.
 *
 * What every entry must have: a log key's bytes; an authority's non-empty certificate chain.
 */
function assertUsableEntries(root: TrustedRoot, source: string): void {
  const logs = [
    ...root.tlogs.map((l) => ['tlog', l] as const),
    ...root.ctlogs.map((l) => ['ctlog', l] as const),
  ];
  for (const [kind, log] of logs) {
    const where = `${kind} ${log.baseUrl || '(no baseUrl)'}`;
    if (!log.publicKey?.rawBytes || log.publicKey.rawBytes.length === 0) {
      throw invalid(source, `${where} has no public key`);
    }
    const validFor = log.publicKey.validFor;
    if (validFor !== undefined && !validFor.start) {
      throw invalid(
        source,
        `${where} has a validFor without its required start (omit validFor entirely for a key valid at any time)`,
      );
    }
  }
  const authorities = [
    ...root.certificateAuthorities.map((a) => ['certificate authority', a] as const),
    ...root.timestampAuthorities.map((a) => ['timestamp authority', a] as const),
  ];
  for (const [kind, ca] of authorities) {
    if (!ca.certChain || ca.certChain.certificates.length === 0) {
      throw invalid(source, `${kind} ${ca.uri || '(no uri)'} has no certificate chain`);
    }
  }
}

function invalid(source: string, why: string, cause?: unknown): SignatureError {
  return new SignatureError('TRUST_ROOT_INVALID', `${source} is not a usable Sigstore trusted root: ${why}`, {
    cause,
  });
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
