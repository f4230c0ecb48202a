import type { SerializedBundle } from '@sigstore/bundle';
import { createHash } from 'node:crypto';
import { createKeyPair, signBlobWithKey, signDsseWithKey, type KeyPair } from '../../../cli/oci/sign-key';
import {
  createBundleVerifier,
  loadTrustedRoot,
  type BundleVerifier,
  type ResolvedSigner,
} from '../../../policy-pack/supply-chain/sigstore';
import { startSigstoreMock, type SigstoreMock } from '../../support/sigstore-mock';

/** Identities the mock Fulcio certifies in these suites. */
export const RELEASE_ISSUER = 'https://token.actions.githubusercontent.com';
export const RELEASE_URI = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3';
export const EVIL_URI = 'https://evil.example/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3';
export const EMAIL_ISSUER = 'https://accounts.example.com';
export const EMAIL = 'alice@acme.com';

export const ARTIFACT = Buffer.from('trustops test artifact\n');
export const STATEMENT = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'artifact', digest: { sha256: createHash('sha256').update(ARTIFACT).digest('hex') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'test' } },
  }),
);
export const INTOTO = 'application/vnd.in-toto+json';

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export interface Fixtures {
  mock: SigstoreMock;
  opsKey: KeyPair;
  otherKey: KeyPair;
  /** Keyless message signature over ARTIFACT, URI SAN RELEASE_URI, GitHub claims. */
  keylessBlob: SerializedBundle;
  /** Keyless message signature over ARTIFACT, email SAN EMAIL. */
  emailBlob: SerializedBundle;
  /** Keyless DSSE (in-toto statement, Rekor intoto v0.0.2). */
  keylessDsse: SerializedBundle;
  /** Key message signature with a Rekor entry. */
  keyBlob: SerializedBundle;
  /** Key message signature without any tlog entry or timestamp. */
  keyBlobNoLog: SerializedBundle;
  /** Key DSSE with a Rekor entry (intoto v0.0.2). */
  keyDsse: SerializedBundle;
  verifier(signers?: ResolvedSigner[]): BundleVerifier;
}

/** The suites' standard signers: a keyless release identity, the ops key, an email identity. */
export function standardSigners(f: Pick<Fixtures, 'opsKey' | 'otherKey'>): ResolvedSigner[] {
  return [
    { name: 'release', keyless: { issuer: RELEASE_ISSUER, subject: RELEASE_URI } },
    { name: 'ops', key: { publicKeyPem: f.opsKey.publicKeyPem, requireTransparencyLog: true } },
    { name: 'ops-unlogged', key: { publicKeyPem: f.opsKey.publicKeyPem, requireTransparencyLog: false } },
    { name: 'other', key: { publicKeyPem: f.otherKey.publicKeyPem, requireTransparencyLog: true } },
    { name: 'alice', keyless: { issuer: EMAIL_ISSUER, subject: EMAIL } },
  ];
}

export async function createFixtures(): Promise<Fixtures> {
  const mock = await startSigstoreMock();
  const opsKey = createKeyPair();
  const otherKey = createKeyPair();
  const release = {
    issuer: RELEASE_ISSUER,
    uri: RELEASE_URI,
    claims: { repository: 'acme/app', ref: 'refs/tags/v1.2.3', runner_environment: 'github-hosted' },
  };
  const [keylessBlob, emailBlob, keylessDsse, keyBlob, keyBlobNoLog, keyDsse] = await Promise.all([
    mock.signBlob(ARTIFACT, release),
    mock.signBlob(ARTIFACT, { issuer: EMAIL_ISSUER, email: EMAIL }),
    mock.signDsse(STATEMENT, INTOTO, release),
    signBlobWithKey(ARTIFACT, opsKey, { rekorUrl: mock.rekorUrl }),
    signBlobWithKey(ARTIFACT, opsKey),
    signDsseWithKey(STATEMENT, INTOTO, opsKey, { rekorUrl: mock.rekorUrl }),
  ]);
  const trustedRoot = loadTrustedRoot(mock.trustedRoot, 'mock trusted root');
  const f = { mock, opsKey, otherKey, keylessBlob, emailBlob, keylessDsse, keyBlob, keyBlobNoLog, keyDsse };
  return {
    ...f,
    verifier: (signers = standardSigners(f)) => createBundleVerifier({ trustedRoot, signers }),
  };
}
