import { createPublicKey, X509Certificate } from 'node:crypto';
import { PUBLIC_GOOD_TUF_MIRROR, type TrustedRootSource } from '../../policy-pack/supply-chain/trust-policy';
import { KyvernoRenderError } from './errors';

/**
 * Kyverno verifies against the Sigstore public-good instance unless told otherwise. When the trust
 * policy names its own trusted_root.json, the admission policy must carry the same trust material, or
 * Kyverno would accept signatures the pack rejects (and the other way round).
 */
export interface CustomTrustMaterial {
  /** The trusted_root.json itself, for ImageValidatingPolicy `cosign.trustedRoot.value`. */
  trustedRootJson: string;
  /** For ClusterPolicy, which takes PEM: every Fulcio CA certificate (keyless `roots`). */
  fulcioRootsPem: string;
  /** The active transparency log: its key and URL (ClusterPolicy `rekor`). */
  rekor: { pubkeyPem: string; url: string };
  /** The active CT log key (ClusterPolicy `ctlog.pubkey`), when the root has one. */
  ctLogPubKeyPem?: string;
}

interface RootJson {
  tlogs?: { baseUrl?: string; publicKey?: { rawBytes?: string; validFor?: { end?: string } } }[];
  ctlogs?: { publicKey?: { rawBytes?: string; validFor?: { end?: string } } }[];
  certificateAuthorities?: { certChain?: { certificates?: { rawBytes?: string }[] } }[];
}

function spkiPem(rawBase64: string): string {
  return createPublicKey({ key: Buffer.from(rawBase64, 'base64'), format: 'der', type: 'spki' })
    .export({ format: 'pem', type: 'spki' })
    .toString();
}

/** The log without an end of validity is the one in use; a single-key field can name only one. */
function active<T extends { publicKey?: { validFor?: { end?: string } } }>(logs: T[]): T | undefined {
  return logs.find((l) => l.publicKey?.validFor?.end === undefined) ?? logs[logs.length - 1];
}

/**
 * Undefined for the public-good root, embedded or over its TUF repository (Kyverno's default); the policy's
 * own material for a trusted_root.json file; a TUF repository of its own cannot be rendered.
 */
export function customTrustMaterial(source: TrustedRootSource | undefined): CustomTrustMaterial | undefined {
  if (!source || source.kind === 'embedded') return undefined;
  if (source.kind === 'tuf') {
    // Kyverno's default trust is the public-good root, which it keeps current over TUF itself
    if (source.mirror === PUBLIC_GOOD_TUF_MIRROR && !source.rootPath) return undefined;
    throw new KyvernoRenderError(
      'NOT_EXPRESSIBLE',
      `trusted root from TUF mirror ${source.mirror}: the rendered policy cannot fetch it; give Kyverno the same material as trustedRoot.file`,
    );
  }
  const root = source.json as RootJson;
  try {
    const rekor = active(root.tlogs ?? []);
    if (!rekor?.publicKey?.rawBytes || !rekor.baseUrl) {
      throw new Error('it has no transparency log with a public key and base URL');
    }
    const ct = active(root.ctlogs ?? []);
    const certs = (root.certificateAuthorities ?? []).flatMap((ca) => ca.certChain?.certificates ?? []);
    return {
      trustedRootJson: JSON.stringify(source.json),
      fulcioRootsPem: certs
        .filter((c) => c.rawBytes)
        .map((c) => new X509Certificate(Buffer.from(c.rawBytes!, 'base64')).toString())
        .join(''),
      rekor: { pubkeyPem: spkiPem(rekor.publicKey.rawBytes), url: rekor.baseUrl },
      ...(ct?.publicKey?.rawBytes ? { ctLogPubKeyPem: spkiPem(ct.publicKey.rawBytes) } : {}),
    };
  } catch (e) {
    throw new KyvernoRenderError(
      'NOT_EXPRESSIBLE',
      `trusted root ${source.path}: ${(e as Error).message}; Kyverno cannot be given the same trust material`,
    );
  }
}
