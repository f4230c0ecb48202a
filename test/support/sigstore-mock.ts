import type { SerializedBundle } from '@sigstore/bundle';

/** The signer identity certified by the mock Fulcio (claims of the unverified OIDC token). */
export interface MockIdentity {
  /** OIDC issuer (`iss`), e.g. https://token.actions.githubusercontent.com. Default https://oauth2.sigstore.dev/auth. */
  issuer?: string;
  /** Email subject (SAN rfc822Name). Mutually exclusive with `uri`. */
  email?: string;
  /** URI subject (SAN URI), e.g. https://github.com/org/repo/.github/workflows/build.yml@refs/heads/main. */
  uri?: string;
  /** GitHub-style claims (repository, ref, workflow_ref, runner_environment, sha, event_name ...). */
  claims?: Record<string, string>;
}

/** What cosign's tag scheme needs for one keyless signature layer. */
export interface CosignLegacySignature {
  payload: Buffer;
  /** Base64 signature. */
  signature: string;
  certificate: string;
  chain: string;
  /** Rekor SET bundle JSON (cosign's `dev.sigstore.cosign/bundle` annotation). */
  bundle: string;
  /** `{"SignedRFC3161Timestamp": "<base64>"}` when a TSA was asked. */
  rfc3161Timestamp?: string;
  /** The full Sigstore bundle the values were taken from. */
  sigstoreBundle: SerializedBundle;
}

export interface SigstoreMock {
  /** The trusted root (JSON of dev.sigstore.trustroot.v1.TrustedRoot) with the mock's CA, tlog, CT log and TSA. */
  trustedRoot: Record<string, unknown>;
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  signBlob(data: Buffer, identity?: MockIdentity): Promise<SerializedBundle>;
  signDsse(payload: Buffer, payloadType: string, identity?: MockIdentity): Promise<SerializedBundle>;
  signCosignLegacy(
    payload: Buffer,
    identity?: MockIdentity,
    opts?: { timestamp?: boolean },
  ): Promise<CosignLegacySignature>;
  close(): Promise<void>;
}

export interface SigstoreMockOptions {
  /** Also add an RFC 3161 timestamp from the mock TSA to each bundle. Default false. */
  timestamp?: boolean;
}

export async function startSigstoreMock(_opts: SigstoreMockOptions = {}): Promise<SigstoreMock> {
  throw new Error('not implemented');
}
