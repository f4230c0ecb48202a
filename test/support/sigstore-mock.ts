import { createHash, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import {
  fulcioHandler,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
  type HandlerFn,
} from '@sigstore/mock';
import {
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  TSAWitness,
  type Witness,
} from '@sigstore/sign';
import { UnsecuredJWT } from 'jose';
import { cosignRekorBundle } from '../../cli/oci/publish';
import { initializeMockCA } from './mock-fulcio-ca';

/**
 * Keyless Sigstore fixtures: @sigstore/mock's Fulcio (with CT log), Rekor and TSA behind one loopback
 * HTTP server, driven by the real @sigstore/sign builders. Handlers are strict (NOTES.md): Fulcio
 * certifies the requested key and subject, Rekor logs the proposed entry.
 */

/** The signer identity certified by the mock Fulcio (claims of the unverified OIDC token). */
export interface MockIdentity {
  /** OIDC issuer (`iss`), e.g. https://token.actions.githubusercontent.com. Default https://oauth2.sigstore.dev/auth. */
  issuer?: string;
  /** Email subject. Mutually exclusive with `uri`. */
  email?: string;
  /** URI subject, e.g. https://github.com/org/repo/.github/workflows/build.yml@refs/heads/main. */
  uri?: string;
  /** GitHub-style claims (repository, ref, workflow_ref, runner_environment, sha, event_name ...). */
  claims?: Record<string, string>;
}

export const DEFAULT_MOCK_IDENTITY: Required<Pick<MockIdentity, 'issuer' | 'email'>> = {
  issuer: 'https://oauth2.sigstore.dev/auth',
  email: 'signer@example.com',
};

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
  /**
   * The name the Rekor log signs its checkpoints as (origin `<name> - <tree id>`, signature line
   * `— <name> ...`). Default: its URL's host. A private Rekor (sigstore scaffolding) names them after its
   * pod, `rekor-00001-deployment-...`, which is not its URL; the trusted root still lists the URL.
   */
  rekorName?: string;
}

/**
 * The token claim the mock Fulcio takes the certificate subject from: one claim serves both email and
 * URI identities (our CA writes an email as rfc822Name and a URI as URI SAN, as Fulcio does).
 */
const SUBJECT_CLAIM = 'trustops_subject';

function pem(der: Buffer | ArrayBufferView): string {
  const bytes = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  return new X509Certificate(bytes).toString();
}

function identityToken(identity: MockIdentity = DEFAULT_MOCK_IDENTITY): string {
  if (identity.email && identity.uri) throw new Error('a mock identity has either an email or a URI subject');
  const subject = identity.uri ?? identity.email ?? DEFAULT_MOCK_IDENTITY.email;
  const claims: Record<string, unknown> = {
    ...identity.claims,
    iss: identity.issuer ?? DEFAULT_MOCK_IDENTITY.issuer,
    sub: subject,
    aud: 'sigstore',
    [SUBJECT_CLAIM]: subject,
  };
  // @sigstore/sign uses a verified email as the proof-of-possession subject; URI identities use `sub`
  if (!identity.uri) Object.assign(claims, { email: subject, email_verified: true });
  return new UnsecuredJWT(claims).setIssuedAt().setExpirationTime('10m').encode();
}

/** An identity token the mock Fulcio accepts (unsigned, as the mock does not verify it): for `--identity-token`. */
export function mockIdentityToken(identity?: MockIdentity): string {
  return identityToken(identity);
}

async function serve(routes: Map<string, HandlerFn>): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const route = req.method === 'POST' ? routes.get((req.url ?? '').split('?')[0] ?? '') : undefined;
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      route(Buffer.concat(chunks).toString())
        .then(({ statusCode, response, contentType }) => {
          res.writeHead(statusCode, { 'content-type': contentType ?? 'text/plain' });
          res.end(
            typeof response === 'string'
              ? response
              : Buffer.from(response.buffer, response.byteOffset, response.byteLength),
          );
        })
        .catch((e: unknown) => res.writeHead(500).end(String(e)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

function ecKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export { cosignRekorBundle } from '../../cli/oci/publish';

export async function startSigstoreMock(opts: SigstoreMockOptions = {}): Promise<SigstoreMock> {
  const routes = new Map<string, HandlerFn>();
  const { url, server } = await serve(routes);
  // One frozen clock for every service, in whole seconds: @sigstore/core rejects the fractional
  // GeneralizedTime the mock TSA writes otherwise, and a shared instant keeps certificate validity,
  // log integration time and timestamps consistent however long a suite runs. The mock TSA dates its
  // certificates with the real time at initialisation, not its clock, so it is initialised first and
  // its clock (the Date object it keeps) is set afterwards; the frozen instant is then never before
  // the TSA certificates' notBefore.
  const tsaClock = new Date();
  const tsa = await initializeTSA(ecKeyPair(), tsaClock);
  const clock = new Date(Math.floor(Date.now() / 1000) * 1000);
  tsaClock.setTime(clock.getTime());
  const notBefore = new Date(clock.getTime() - 60_000).toISOString();

  const ctLog = await initializeCTLog(ecKeyPair(), clock);
  const ca = await initializeMockCA(ctLog, clock);
  const tlog = await initializeTLog(opts.rekorName ? `http://${opts.rekorName}` : url, ecKeyPair(), clock);
  for (const handler of [
    fulcioHandler(ca, { strict: true, subjectClaim: SUBJECT_CLAIM }),
    rekorHandler(tlog, { strict: true }),
    tsaHandler(tsa, { strict: true }),
  ]) {
    routes.set(handler.path, handler.fn);
  }

  const caRoot = Buffer.from(
    ca.rootCertificate.buffer,
    ca.rootCertificate.byteOffset,
    ca.rootCertificate.byteLength,
  );
  const tsaRoot = Buffer.from(
    tsa.rootCertificate.buffer,
    tsa.rootCertificate.byteOffset,
    tsa.rootCertificate.byteLength,
  );
  const tsaInt = Buffer.from(
    tsa.intCertificate.buffer,
    tsa.intCertificate.byteOffset,
    tsa.intCertificate.byteLength,
  );
  const ctLogId = Buffer.from(ctLog.logID.buffer, ctLog.logID.byteOffset, ctLog.logID.byteLength);
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: tlog.publicKey.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: notBefore },
        },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: caRoot.toString('base64') }] },
        validFor: { start: notBefore },
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: ctLog.publicKey.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: notBefore },
        },
        logId: { keyId: ctLogId.toString('base64') },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: url,
        certChain: {
          certificates: [{ rawBytes: tsaInt.toString('base64') }, { rawBytes: tsaRoot.toString('base64') }],
        },
        validFor: { start: notBefore },
      },
    ],
  };

  const signer = (identity?: MockIdentity): FulcioSigner =>
    new FulcioSigner({
      fulcioBaseURL: url,
      identityProvider: { getToken: () => Promise.resolve(identityToken(identity)) },
      retry: false,
    });
  const witnesses = (entryType: 'intoto' | undefined, timestamp: boolean): Witness[] => [
    new RekorWitness({ rekorBaseURL: url, retry: false, ...(entryType ? { entryType } : {}) }),
    ...(timestamp ? [new TSAWitness({ tsaBaseURL: url, retry: false })] : []),
  ];

  const signBlob = async (
    data: Buffer,
    identity?: MockIdentity,
    timestamp = opts.timestamp ?? false,
  ): Promise<SerializedBundle> => {
    const builder = new MessageSignatureBundleBuilder({
      signer: signer(identity),
      witnesses: witnesses(undefined, timestamp),
    });
    return bundleToJSON(await builder.create({ data }));
  };

  return {
    trustedRoot,
    fulcioUrl: url,
    rekorUrl: url,
    tsaUrl: url,
    signBlob: (data, identity) => signBlob(data, identity),
    async signDsse(payload, payloadType, identity) {
      // `intoto` entries: the mock stores `dsse` entries as proposed, which verifiers reject (NOTES.md)
      const builder = new DSSEBundleBuilder({
        signer: signer(identity),
        witnesses: witnesses('intoto', opts.timestamp ?? false),
      });
      return bundleToJSON(await builder.create({ data: payload, type: payloadType }));
    },
    async signCosignLegacy(payload, identity, legacyOpts = {}) {
      const timestamp = legacyOpts.timestamp ?? opts.timestamp ?? false;
      const bundle = await signBlob(payload, identity, timestamp);
      const content = bundle.messageSignature;
      // @sigstore/sign writes message-signature bundles as v0.2 with a one-certificate chain
      const material = bundle.verificationMaterial;
      const leaf = material.certificate?.rawBytes ?? material.x509CertificateChain?.certificates[0]?.rawBytes;
      if (!content || !leaf) throw new Error('expected a message-signature bundle with a certificate');
      const rekorBundle = cosignRekorBundle(bundle);
      if (!rekorBundle) throw new Error('the bundle has no Rekor entry with an inclusion promise');
      const tsr =
        bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps?.[0]?.signedTimestamp;
      return {
        payload,
        signature: content.signature,
        certificate: pem(Buffer.from(leaf, 'base64')),
        chain: pem(caRoot),
        bundle: rekorBundle,
        ...(tsr ? { rfc3161Timestamp: JSON.stringify({ SignedRFC3161Timestamp: tsr }) } : {}),
        sigstoreBundle: bundle,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
