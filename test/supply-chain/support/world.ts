import type { SerializedBundle } from '@sigstore/bundle';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  addToReferrersFallback,
  attachBundleReferrer,
  attachCosignAttestations,
  attachCosignSignatures,
  imageSubject,
  inTotoStatement,
  simpleSigningPayload,
  type CosignAttestationInput,
  type CosignSignatureInput,
} from '../../../cli/oci/attach';
import { blobOf } from '../../../cli/oci/digest';
import {
  buildArtifactManifest,
  buildImage,
  buildIndex,
  type OciImage,
  type OciIndex,
} from '../../../cli/oci/image';
import { RegistryPusher } from '../../../cli/oci/push';
import { cosignAttestationLayer, cosignSignatureLayer, type BundleSigner } from '../../../cli/oci/publish';
import { createKeyPair, keyBundleSigner, type KeyPair } from '../../../cli/oci/sign-key';
import { pushImage } from '../../../cli/oci/target';
import type { Descriptor } from '../../../policy-pack/registry/types';
import { createImageVerifier } from '../../../policy-pack/image-verifier';
import { createRegistryClient } from '../../../policy-pack/registry/client';
import { loadTrustedRoot } from '../../../policy-pack/supply-chain/sigstore';
import { parseTrustPolicy, type ResolvedTrustPolicy } from '../../../policy-pack/supply-chain/trust-policy';
import type { ImageVerdict } from '../../../policy-pack/supply-chain/types';
import { startRegistry, type RunningRegistry } from '../../support/registry';
import { mockBundleSigner } from '../../support/signed-image';
import { startSigstoreMock, type MockIdentity, type SigstoreMock } from '../../support/sigstore-mock';

/**
 * The end-to-end test world: a real registry, a loopback Sigstore (Fulcio/Rekor/TSA mock), real keys,
 * and a happy-path image publisher whose every piece of evidence a negative test can change or drop
 * (one thing per test). Evidence is signed by the real libraries and attached in either format:
 * cosign's tag scheme (`.sig`/`.att`) or OCI 1.1 Sigstore-bundle referrers.
 */

export type AttachmentFormat = 'cosign' | 'referrer';

export const IN_TOTO = 'application/vnd.in-toto+json';
export const SPDX_PREDICATE = 'https://spdx.dev/Document';
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
export const VSA_V1 = 'https://slsa.dev/verification_summary/v1';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const RELEASE_IDENTITY: MockIdentity = {
  issuer: GITHUB_ISSUER,
  uri: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3',
};
export const SOURCE_REPO = 'git+https://github.com/acme/app@refs/tags/v1.2.3';
export const SOURCE_COMMIT = 'a'.repeat(40);
export const BUILDER_ID = 'https://github.com/actions/runner/github-hosted';

/** Who signs a piece of evidence: a keyless identity through the mock, or one of the world's keys. */
export type Signer = { keyless: MockIdentity } | { key: KeyName; /** no Rekor entry */ noTlog?: boolean };
export type KeyName = 'ops' | 'rebuilderA' | 'rebuilderB' | 'rebuilderC' | 'stranger';

export const RELEASE: Signer = { keyless: RELEASE_IDENTITY };

export interface World {
  registry: RunningRegistry;
  mock: SigstoreMock;
  pusher: RegistryPusher;
  keys: Record<KeyName, KeyPair>;
  dir: string;
  /** The policy text written for these keys (YAML). */
  policyYaml(overrides?: { images?: string; extra?: string }): string;
  policy(overrides?: { images?: string; extra?: string }): ResolvedTrustPolicy;
  verify(image: string, policy?: ResolvedTrustPolicy, now?: Date): Promise<ImageVerdict>;
  stop(): Promise<void>;
}

export function defaultRules(host: string): string {
  return `images:
  - name: acme
    match: ["${host}/acme/**"]
    signature: { signers: [release, ops] }
    sbom: { signers: [release], formats: [spdx, cyclonedx] }
    provenance: { signers: [release] }
    reproducible: { rebuilders: [rebuilder-a, rebuilder-b, rebuilder-c], threshold: 2 }
`;
}

export async function startWorld(): Promise<World> {
  const registry = await startRegistry();
  const mock = await startSigstoreMock();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-verify-'));
  const keys: Record<KeyName, KeyPair> = {
    ops: createKeyPair(),
    rebuilderA: createKeyPair(),
    rebuilderB: createKeyPair(),
    rebuilderC: createKeyPair(),
    stranger: createKeyPair(),
  };
  fs.mkdirSync(path.join(dir, 'keys'));
  for (const [name, k] of Object.entries(keys))
    fs.writeFileSync(path.join(dir, 'keys', `${name}.pub`), k.publicKeyPem);
  fs.writeFileSync(path.join(dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
  const trustedRoot = loadTrustedRoot(mock.trustedRoot, 'sigstore mock');

  const policyYaml = (
    o: { images?: string; extra?: string } = {},
  ): string => `apiVersion: trustops.dev/v1alpha1
kind: TrustPolicy
signers:
  release:
    keyless:
      issuer: ${GITHUB_ISSUER}
      subjectRegExp: ^https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v.+$
  ops:
    key: { publicKeyFile: ./keys/ops.pub }
  rebuilder-a:
    key: { publicKeyFile: ./keys/rebuilderA.pub }
  rebuilder-b:
    key: { publicKeyFile: ./keys/rebuilderB.pub }
  rebuilder-c:
    key: { publicKeyFile: ./keys/rebuilderC.pub }
${o.images ?? defaultRules(registry.host)}${o.extra ?? ''}`;

  const policy = (o: { images?: string; extra?: string } = {}): ResolvedTrustPolicy =>
    parseTrustPolicy(policyYaml(o), { baseDir: dir });

  return {
    registry,
    mock,
    pusher: new RegistryPusher(registry.url),
    keys,
    dir,
    policyYaml,
    policy,
    verify: (image, p, now) =>
      createImageVerifier({
        policy: p ?? policy(),
        // a fresh client per call, like a fresh deploy: tags are resolved again
        registry: createRegistryClient({}),
        trustedRoot,
        ...(now ? { now: () => now } : {}),
      }).verify(image),
    async stop() {
      await mock.close();
      await registry.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- predicates

export function spdxDocument(packages = 2): Record<string, unknown> {
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'acme/app',
    documentNamespace: 'https://acme.example/spdx/app-1.2.3',
    creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: trustops-test'] },
    packages: Array.from({ length: packages }, (_, i) => ({
      name: `pkg-${i}`,
      SPDXID: `SPDXRef-Package-${i}`,
      versionInfo: `1.${i}.0`,
      downloadLocation: 'NOASSERTION',
    })),
  };
}

export function cyclonedxDocument(specVersion = '1.5', components = 2): Record<string, unknown> {
  return {
    bomFormat: 'CycloneDX',
    specVersion,
    version: 1,
    components: Array.from({ length: components }, (_, i) => ({
      type: 'library',
      name: `pkg-${i}`,
      version: `1.${i}.0`,
    })),
  };
}

export function slsaV1(
  opts: { builderId?: string; repo?: string; commit?: string } = {},
): Record<string, unknown> {
  return {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {
        workflow: { ref: 'refs/tags/v1.2.3', repository: 'https://github.com/acme/app' },
      },
      resolvedDependencies: [
        { uri: opts.repo ?? SOURCE_REPO, digest: { gitCommit: opts.commit ?? SOURCE_COMMIT } },
      ],
    },
    runDetails: { builder: { id: opts.builderId ?? BUILDER_ID }, metadata: { invocationId: 'run-1' } },
  };
}

export function slsaV02(
  opts: { builderId?: string; repo?: string; commit?: string } = {},
): Record<string, unknown> {
  return {
    builder: { id: opts.builderId ?? BUILDER_ID },
    buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1',
    invocation: {
      configSource: {
        uri: opts.repo ?? SOURCE_REPO,
        digest: { sha1: opts.commit ?? SOURCE_COMMIT },
        entryPoint: 'release.yml',
      },
    },
    materials: [{ uri: opts.repo ?? SOURCE_REPO, digest: { sha1: opts.commit ?? SOURCE_COMMIT } }],
  };
}

export function vsa(result = 'PASSED'): Record<string, unknown> {
  return {
    verifier: { id: 'https://rebuilder.example/verifier' },
    timeVerified: '2026-01-01T00:00:00Z',
    resourceUri: 'oci://acme/app',
    policy: { uri: 'https://rebuilder.example/policy' },
    verificationResult: result,
    verifiedLevels: ['SLSA_BUILD_LEVEL_3'],
  };
}

// ---------------------------------------------------------------- evidence

/** One in-toto attestation to attach: a statement (made from parts, or given raw) and who signs it. */
export interface AttestationSpec {
  predicateType: string;
  predicate: unknown;
  signer: Signer;
  /** The digest the statement's subject names. Default: the image's. */
  subjectDigest?: string;
  statementVersion?: 'v1' | 'v0.1';
  /** Raw DSSE payload bytes instead of a statement made from the parts. */
  rawPayload?: Buffer;
  /** DSSE payload type. Default application/vnd.in-toto+json. */
  payloadType?: string;
  /** cosign only: these bytes as the `.att` layer instead of the signed envelope (malformed cases). */
  rawEnvelope?: Buffer;
}

export interface SignatureSpec {
  signer: Signer;
  /** Sign another image instead (replay): its digest (cosign payload) and manifest bytes (referrer). */
  forImage?: { digest: string; manifest: Buffer };
  /** Raw simple-signing payload instead of a well-formed one (cosign only). */
  rawPayload?: Buffer;
}

export interface Evidence {
  signatures: SignatureSpec[];
  attestations: AttestationSpec[];
  /** Replace the referrer bundle JSON bytes with these (malformed-bundle tests), one per index. */
  corruptBundles?: Record<number, Buffer>;
}

export function happyEvidence(): Evidence {
  return {
    signatures: [{ signer: RELEASE }],
    attestations: [
      { predicateType: SPDX_PREDICATE, predicate: spdxDocument(), signer: RELEASE },
      { predicateType: SLSA_V1, predicate: slsaV1(), signer: RELEASE },
      {
        predicateType: SLSA_V1,
        predicate: slsaV1({ builderId: 'https://rebuilder-a.example' }),
        signer: { key: 'rebuilderA' },
      },
      { predicateType: VSA_V1, predicate: vsa(), signer: { key: 'rebuilderB' } },
    ],
  };
}

function pemOf(rawBase64: string): string {
  return new X509Certificate(Buffer.from(rawBase64, 'base64')).toString();
}

/**
 * The CA chain annotation cosign adds beside a keyless layer's certificate (from the mock's trusted
 * root); the certificate and Rekor SET come from cli/oci/publish, as for every published image.
 */
function caChain(world: World, bundle: SerializedBundle): { chain?: string } {
  const vm = bundle.verificationMaterial;
  const leaf = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes;
  if (leaf === undefined) return {};
  const cas =
    (world.mock.trustedRoot.certificateAuthorities as {
      certChain: { certificates: { rawBytes: string }[] };
    }[]) ?? [];
  return { chain: (cas[0]?.certChain.certificates ?? []).map((c) => pemOf(c.rawBytes)).join('') };
}

/** The test bed's signers (keyless through the mock, or a world key witnessed by its Rekor) for a `Signer`. */
function bundleSigner(world: World, signer: Signer): BundleSigner {
  if ('keyless' in signer) return mockBundleSigner(world.mock, signer.keyless);
  return keyBundleSigner(world.keys[signer.key], signer.noTlog ? {} : { rekorUrl: world.mock.rekorUrl });
}

function statementOf(a: AttestationSpec, repoName: string, digest: string): Buffer {
  if (a.rawPayload) return a.rawPayload;
  return inTotoStatement({
    subjects: [imageSubject(repoName, a.subjectDigest ?? digest)],
    predicateType: a.predicateType,
    predicate: a.predicate,
    statementVersion: a.statementVersion ?? 'v1',
  });
}

/** Signs and attaches `evidence` to the manifest `subject` of `repo`, in `format`. */
export async function attachEvidence(
  world: World,
  format: AttachmentFormat,
  repo: string,
  subject: Descriptor & { manifest: Buffer },
  evidence: Evidence,
): Promise<void> {
  const repoName = `${world.registry.host}/${repo}`;
  if (format === 'cosign') {
    const sigs: CosignSignatureInput[] = [];
    for (const s of evidence.signatures) {
      const payload = s.rawPayload ?? simpleSigningPayload(repoName, s.forImage?.digest ?? subject.digest);
      const { layer, bundle } = await cosignSignatureLayer(bundleSigner(world, s.signer), payload);
      sigs.push({ ...layer, ...caChain(world, bundle) });
    }
    if (sigs.length > 0) await attachCosignSignatures(world.pusher, repo, subject.digest, sigs);
    const atts: CosignAttestationInput[] = [];
    for (const a of evidence.attestations) {
      const bundle = await bundleSigner(world, a.signer).signDsse(
        statementOf(a, repoName, subject.digest),
        a.payloadType ?? IN_TOTO,
      );
      atts.push({
        ...cosignAttestationLayer(bundle, a.predicateType),
        ...(a.rawEnvelope ? { envelope: a.rawEnvelope } : {}),
        ...caChain(world, bundle),
      });
    }
    if (atts.length > 0) await attachCosignAttestations(world.pusher, repo, subject.digest, atts);
    return;
  }
  const bundles: Buffer[] = [];
  for (const s of evidence.signatures) {
    // A message signature over the manifest bytes: the signed digest is the image digest.
    const signed = s.forImage?.manifest ?? subject.manifest;
    bundles.push(Buffer.from(JSON.stringify(await bundleSigner(world, s.signer).signBlob(signed))));
  }
  for (const a of evidence.attestations) {
    const bundle = await bundleSigner(world, a.signer).signDsse(
      statementOf(a, repoName, subject.digest),
      a.payloadType ?? IN_TOTO,
    );
    bundles.push(Buffer.from(JSON.stringify(bundle)));
  }
  const announced = [
    ...evidence.signatures.map(() => undefined),
    ...evidence.attestations.map((a) => a.predicateType),
  ];
  for (const [i, b] of bundles.entries()) {
    const corrupt = evidence.corruptBundles?.[i];
    if (corrupt) await attachRawBundleReferrer(world, repo, subject, corrupt);
    else
      await attachBundleReferrer(world.pusher, repo, subject, b, undefined, { predicateType: announced[i] });
  }
}

/**
 * A referrer whose bundle layer holds arbitrary bytes (the test bed's attach refuses non-JSON bundles,
 * as it should): for malformed-bundle cases.
 */
async function attachRawBundleReferrer(
  world: World,
  repo: string,
  subject: Descriptor,
  bytes: Buffer,
): Promise<void> {
  const artifactType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const referrer = buildArtifactManifest({
    artifactType,
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    layers: [blobOf(artifactType, bytes)],
  });
  const d = await pushImage(world.pusher, repo, referrer);
  await addToReferrersFallback(world.pusher, repo, subject.digest, { ...d, artifactType });
}

export interface Published {
  /** `host/repo@digest` */
  ref: string;
  /** `host/repo:tag` */
  tagRef: string;
  digest: string;
  image: OciImage | OciIndex;
}

let counter = 0;

/** Pushes a fresh single-platform image (unique content) and attaches `evidence` in `format`. */
export async function publish(
  world: World,
  format: AttachmentFormat,
  evidence: Evidence = happyEvidence(),
  opts: { repo?: string; tag?: string; seed?: string } = {},
): Promise<Published> {
  const repo = opts.repo ?? 'acme/app';
  const tag = opts.tag ?? `t${++counter}`;
  const image = buildImage({ seed: opts.seed ?? `${format}-${tag}-${Date.now()}-${Math.random()}` });
  const descriptor = await pushImage(world.pusher, repo, image, tag);
  await attachEvidence(world, format, repo, { ...descriptor, manifest: image.manifest }, evidence);
  return {
    ref: `${world.registry.host}/${repo}@${image.digest}`,
    tagRef: `${world.registry.host}/${repo}:${tag}`,
    digest: image.digest,
    image,
  };
}

/** Pushes a two-platform index; `evidenceFor` decides what each manifest (index first) carries. */
export async function publishIndex(
  world: World,
  format: AttachmentFormat,
  evidenceFor: (which: 'index' | 'amd64' | 'arm64') => Evidence | undefined,
  opts: { repo?: string; tag?: string } = {},
): Promise<Published & { platforms: OciImage[] }> {
  const repo = opts.repo ?? 'acme/multi';
  const tag = opts.tag ?? `m${++counter}`;
  const seed = `${tag}-${Date.now()}-${Math.random()}`;
  const amd64 = buildImage({ seed, platform: { os: 'linux', architecture: 'amd64' } });
  const arm64 = buildImage({ seed, platform: { os: 'linux', architecture: 'arm64' } });
  const index = buildIndex([amd64, arm64]);
  const descriptor = await pushImage(world.pusher, repo, index, tag);
  const targets: ['index' | 'amd64' | 'arm64', Descriptor & { manifest: Buffer }][] = [
    ['index', { ...descriptor, manifest: index.manifest }],
    [
      'amd64',
      {
        mediaType: amd64.mediaType,
        digest: amd64.digest,
        size: amd64.manifest.length,
        manifest: amd64.manifest,
      },
    ],
    [
      'arm64',
      {
        mediaType: arm64.mediaType,
        digest: arm64.digest,
        size: arm64.manifest.length,
        manifest: arm64.manifest,
      },
    ],
  ];
  for (const [which, d] of targets) {
    const ev = evidenceFor(which);
    if (ev) await attachEvidence(world, format, repo, d, ev);
  }
  return {
    ref: `${world.registry.host}/${repo}@${index.digest}`,
    tagRef: `${world.registry.host}/${repo}:${tag}`,
    digest: index.digest,
    image: index,
    platforms: [amd64, arm64],
  };
}
