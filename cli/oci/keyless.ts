import { X509Certificate } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import {
  CIContextProvider,
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  TSAWitness,
  type IdentityProvider,
  type Witness,
} from '@sigstore/sign';
import type { TrustedRootMaterial } from '../../policy-pack/supply-chain/sigstore';
import { asLoaded } from '../../policy-pack/supply-chain/sigstore/trusted-root';
import type { BundleSigner } from './publish';

/**
 * Keyless signing (Sigstore): an OIDC identity token is exchanged at Fulcio for a short-lived certificate,
 * every signature is logged in Rekor (and timestamped by a TSA when one is given). Where those services are
 * comes from explicit URLs or from the trusted root the signatures will be verified against.
 */

export const PUBLIC_GOOD_FULCIO = 'https://fulcio.sigstore.dev';
export const PUBLIC_GOOD_REKOR = 'https://rekor.sigstore.dev';

export interface SigstoreServices {
  fulcioUrl?: string;
  rekorUrl?: string;
}

/**
 * The services a trusted root names: the certificate authority still valid (no `validFor.end`; the last
 * one listed otherwise) and the first transparency log still valid. A root can list logs speaking another
 * API than Rekor v1 (Rekor v2 shards): explicit `--rekor-url` overrides what is read here.
 */
export function servicesOf(trustedRoot: TrustedRootMaterial): SigstoreServices {
  const root = asLoaded(trustedRoot).root;
  const cas = root.certificateAuthorities.filter((c) => c.uri);
  const ca = cas.find((c) => !c.validFor?.end) ?? cas[cas.length - 1];
  const tlog = root.tlogs.find((l) => l.baseUrl && !l.publicKey?.validFor?.end);
  return {
    ...(ca ? { fulcioUrl: ca.uri } : {}),
    ...(tlog ? { rekorUrl: tlog.baseUrl } : {}),
  };
}

/**
 * The issuing chain of `leafPem` from the trusted root (intermediates then root, PEM), as cosign writes
 * in `dev.sigstore.cosign/chain`; undefined when no certificate authority of the root issued it.
 */
export function issuingChainPem(trustedRoot: TrustedRootMaterial, leafPem: string): string | undefined {
  const leaf = new X509Certificate(leafPem);
  for (const ca of asLoaded(trustedRoot).root.certificateAuthorities) {
    const chain = (ca.certChain?.certificates ?? []).map((c) => new X509Certificate(c.rawBytes));
    const issuer = chain[0];
    if (issuer && leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey)) {
      return chain.map((c) => c.toString()).join('');
    }
  }
  return undefined;
}

/**
 * Where the OIDC token comes from, first match: the given token, SIGSTORE_ID_TOKEN (as cosign), or the
 * ambient GitHub Actions token (audience `sigstore`) when the workflow has `id-token: write`.
 */
export function identityProvider(
  token: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): IdentityProvider | undefined {
  const given = token ?? env['SIGSTORE_ID_TOKEN'];
  if (given !== undefined && given.trim() !== '') return { getToken: () => Promise.resolve(given.trim()) };
  if (env['ACTIONS_ID_TOKEN_REQUEST_URL'] && env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']) {
    return new CIContextProvider('sigstore');
  }
  return undefined;
}

export interface KeylessOptions {
  identity: IdentityProvider;
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl?: string;
}

/** Keyless bundles: Fulcio certificate, Rekor entry (`intoto` for DSSE, as cosign's tag scheme reads), optional TSA. */
export function keylessBundleSigner(opts: KeylessOptions): BundleSigner {
  const signer = new FulcioSigner({
    fulcioBaseURL: opts.fulcioUrl,
    identityProvider: opts.identity,
    retry: false,
  });
  const witnesses = (entryType?: 'intoto'): Witness[] => [
    new RekorWitness({ rekorBaseURL: opts.rekorUrl, retry: false, ...(entryType ? { entryType } : {}) }),
    ...(opts.tsaUrl ? [new TSAWitness({ tsaBaseURL: opts.tsaUrl, retry: false })] : []),
  ];
  return {
    async signBlob(data) {
      const builder = new MessageSignatureBundleBuilder({ signer, witnesses: witnesses() });
      return bundleToJSON(await builder.create({ data }));
    },
    async signDsse(payload, payloadType) {
      const builder = new DSSEBundleBuilder({ signer, witnesses: witnesses('intoto') });
      return bundleToJSON(await builder.create({ data: payload, type: payloadType }));
    },
  };
}
