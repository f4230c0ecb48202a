import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  attestCommand,
  AttestRefused,
  runAttest,
  type AttestCommandOptions,
} from '../../cli/commands/attest';
import { verifyCommand } from '../../cli/commands/verify';
import { UsageError } from '../../cli/exit-codes';
import { AttestFailure } from '../../cli/oci/attest';
import { blobOf } from '../../cli/oci/digest';
import { buildImage, type OciImage } from '../../cli/oci/image';
import { OciLayoutWriter } from '../../cli/oci/layout';
import { RegistryPusher } from '../../cli/oci/push';
import { createKeyPair, type KeyPair } from '../../cli/oci/sign-key';
import { pushImage } from '../../cli/oci/target';
import type { CredentialSource, Descriptor } from '../../policy-pack/registry/types';
import type { ImageVerdict } from '../../policy-pack/supply-chain/types';
import { parseJson, rawBlob, rawManifest } from '../support/raw-distribution';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { startTokenServer } from '../support/token-server';
import {
  mockIdentityToken,
  startSigstoreMock,
  type MockIdentity,
  type SigstoreMock,
} from '../support/sigstore-mock';
import { cyclonedxDocument, slsaV1, spdxDocument, SOURCE_COMMIT } from '../supply-chain/support/world';

/**
 * `trustops attest` end to end: a producer and two rebuilders attest an image on the real registry
 * (keyless through the loopback Sigstore mock, key-based with a cosign key file and a plain PEM key), and
 * `trustops verify` with a policy requiring all of it allows the image; each missing or tampered piece
 * is blocked with its code; a rebuild with another digest is refused and pushes nothing.
 */

const BIN = path.join(__dirname, '..', '..', 'cli', 'bin', 'trustops.js');
const KEYS = path.join(__dirname, '..', 'oci', 'fixtures', 'cosign-keys');
const COSIGN_PASSWORD = 'trustops-test-password';
const GITHUB = 'https://token.actions.githubusercontent.com';
const RELEASE: MockIdentity = {
  issuer: GITHUB,
  uri: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3',
};
const REBUILDER_B: MockIdentity = {
  issuer: GITHUB,
  uri: 'https://github.com/rebuilder-b/rebuild/.github/workflows/rebuild.yml@refs/heads/main',
};
const SOURCE = `git+https://github.com/acme/app@${SOURCE_COMMIT}`;
const LAYOUT_HOST = 'layout.example.test';
const NO_CREDENTIALS: CredentialSource = { lookup: () => Promise.resolve(undefined) };

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('trustops attest', function () {
  let registry: RunningRegistry;
  let mock: SigstoreMock;
  let pusher: RegistryPusher;
  let dir: string;
  let ops: KeyPair;
  let stranger: KeyPair;
  let policyFile: string;
  let rootFile: string;
  const files: Record<'spdx.json' | 'cyclonedx.json' | 'provenance.json' | 'empty-spdx.json', string> = {
    'spdx.json': '',
    'cyclonedx.json': '',
    'provenance.json': '',
    'empty-spdx.json': '',
  };
  let seed = 0;

  before(async function () {
    registry = await startRegistry();
    mock = await startSigstoreMock();
    pusher = new RegistryPusher(registry.url);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-attest-'));
    ops = createKeyPair();
    stranger = createKeyPair();
    fs.mkdirSync(path.join(dir, 'keys'));
    fs.writeFileSync(path.join(dir, 'keys', 'ops.pub'), ops.publicKeyPem);
    fs.writeFileSync(path.join(dir, 'keys', 'ops.key'), ops.privateKeyPem);
    fs.writeFileSync(path.join(dir, 'keys', 'stranger.key'), stranger.privateKeyPem);
    fs.copyFileSync(path.join(KEYS, 'sigstore-standard.pub'), path.join(dir, 'keys', 'rebuilder-a.pub'));
    rootFile = path.join(dir, 'trusted_root.json');
    fs.writeFileSync(rootFile, JSON.stringify(mock.trustedRoot));
    policyFile = path.join(dir, 'policy.yaml');
    fs.writeFileSync(
      policyFile,
      `apiVersion: trustops.dev/v1alpha1
kind: TrustPolicy
signers:
  release:
    keyless:
      issuer: ${GITHUB}
      subjectRegExp: ^https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v.+$
  ops:
    key: { publicKeyFile: ./keys/ops.pub }
  rebuilder-a:
    key: { publicKeyFile: ./keys/rebuilder-a.pub }
  rebuilder-b:
    keyless: { issuer: ${GITHUB}, subject: ${REBUILDER_B.uri} }
images:
  - name: acme
    match: ["${registry.host}/acme/**", "${LAYOUT_HOST}/acme/**"]
    signature: { signers: [release, ops] }
    sbom: { signers: [release, ops] }
    provenance: { signers: [release, ops] }
    reproducible: { rebuilders: [rebuilder-a, rebuilder-b], threshold: 2 }
trustedRoot: { file: ./trusted_root.json }
`,
    );
    for (const [name, doc] of [
      ['spdx.json', spdxDocument()],
      ['cyclonedx.json', cyclonedxDocument('1.5')],
      ['provenance.json', slsaV1()],
      ['empty-spdx.json', spdxDocument(0)],
    ] as const) {
      files[name] = path.join(dir, name);
      fs.writeFileSync(files[name], JSON.stringify(doc));
    }
  });

  after(async function () {
    await mock?.close();
    await registry?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh image in `acme/app-<n>` (and, with `rebuild`, the same bytes pushed by a rebuilder). */
  async function freshImage(): Promise<{ image: OciImage; ref: string; tagRef: string; repo: string }> {
    const repo = `acme/app-${++seed}`;
    const image = buildImage({ seed: `attest-${seed}` });
    await pushImage(pusher, repo, image, 'v1');
    return {
      image,
      repo,
      ref: `${registry.host}/${repo}@${image.digest}`,
      tagRef: `${registry.host}/${repo}:v1`,
    };
  }

  const base: AttestCommandOptions = {
    verifiedLevel: [],
    tlogUpload: true,
    format: 'cosign',
    insecureRegistry: [],
    registryMirror: [],
  };

  function keyless(identity: MockIdentity, o: Partial<AttestCommandOptions> = {}): AttestCommandOptions {
    return { ...base, identityToken: mockIdentityToken(identity), trustedRoot: rootFile, ...o };
  }
  function keyed(keyFile: string, o: Partial<AttestCommandOptions> = {}): AttestCommandOptions {
    return { ...base, key: keyFile, trustedRoot: rootFile, ...o };
  }
  const rebuilderA = (digest: string, o: Partial<AttestCommandOptions> = {}): AttestCommandOptions =>
    keyed(path.join(KEYS, 'sigstore-standard.key'), {
      rebuiltDigest: digest,
      source: SOURCE,
      verifierId: 'https://rebuilder-a.example/rebuild',
      ...o,
    });
  const deps = { env: { COSIGN_PASSWORD }, credentials: NO_CREDENTIALS };

  async function verify(ref: string): Promise<{ code: number; verdict: ImageVerdict }> {
    let out = '';
    const code = await verifyCommand(
      ref,
      { policy: policyFile, json: true, insecureRegistry: [], registryMirror: [] },
      (s) => (out += s),
    );
    // `verify --json` prints a VerifyReport (docs/cli.md): one verdict per image
    return { code, verdict: (JSON.parse(out) as { verdicts: ImageVerdict[] }).verdicts[0]! };
  }

  /** Producer, rebuilder A (cosign key file, Rekor), rebuilder B (keyless, by rebuilt image). */
  async function attestAll(
    img: { image: OciImage; ref: string; tagRef: string },
    format: AttestCommandOptions['format'],
    skip: {
      sign?: boolean;
      sbom?: boolean;
      provenance?: boolean;
      rebuilderA?: boolean;
      rebuilderB?: boolean;
    } = {},
    producer: 'keyless' | 'key' = 'keyless',
  ): Promise<void> {
    const pieces: Partial<AttestCommandOptions> = {
      format,
      ...(skip.sign ? {} : { sign: true }),
      ...(skip.sbom ? {} : { sbom: files['spdx.json'] }),
      ...(skip.provenance ? {} : { provenance: files['provenance.json'] }),
    };
    if (!skip.sign || !skip.sbom || !skip.provenance) {
      await attestCommand(
        img.tagRef,
        producer === 'keyless' ? keyless(RELEASE, pieces) : keyed(path.join(dir, 'keys', 'ops.key'), pieces),
        deps,
      );
    }
    if (!skip.rebuilderA) await attestCommand(img.ref, rebuilderA(img.image.digest, { format }), deps);
    if (!skip.rebuilderB) {
      // rebuilder B rebuilt the same bytes into its own repository and compares that image's digest
      await pushImage(pusher, 'rebuilds/app', img.image, 'latest');
      await attestCommand(
        img.ref,
        keyless(REBUILDER_B, {
          format,
          rebuiltImage: `${registry.host}/rebuilds/app:latest`,
          source: SOURCE,
          verifierId: 'https://rebuilder-b.example',
        }),
        deps,
      );
    }
  }

  for (const [format, producer] of [
    ['cosign', 'keyless'],
    ['referrer', 'key'],
    ['both', 'keyless'],
  ] as const) {
    it(`round trip (--format ${format}, ${producer} producer): trustops verify allows the image, every requirement met by its signer`, async function () {
      const img = await freshImage();
      await attestAll(img, format, {}, producer);
      const { code, verdict } = await verify(img.ref);
      assert.equal(code, 0, JSON.stringify(verdict.findings, null, 2));
      assert.equal(verdict.allowed, true);
      const by = Object.fromEntries(verdict.satisfied.map((s) => [s.requirement, [...s.by].sort()]));
      const producerName = producer === 'keyless' ? 'release' : 'ops';
      assert.deepEqual(by, {
        signature: [producerName],
        sbom: [producerName],
        provenance: [producerName],
        reproducible: ['rebuilder-a', 'rebuilder-b'],
      });
      assert.deepEqual(verdict.notes ?? [], []);
    });
  }

  for (const format of ['cosign', 'referrer'] as const) {
    it(`each missing piece is blocked with its code (--format ${format})`, async function () {
      const cases = [
        [{ sign: true }, 'signature', 'SIGNATURE_MISSING'],
        [{ sbom: true }, 'sbom', 'SBOM_MISSING'],
        [{ provenance: true }, 'provenance', 'PROVENANCE_MISSING'],
        [{ rebuilderB: true }, 'reproducible', 'REBUILD_QUORUM_NOT_MET'],
        [{ rebuilderA: true }, 'reproducible', 'REBUILD_QUORUM_NOT_MET'],
      ] as const;
      for (const [skip, requirement, code] of cases) {
        const img = await freshImage();
        await attestAll(img, format, skip);
        const { code: exit, verdict } = await verify(img.ref);
        assert.equal(exit, 1, `${JSON.stringify(skip)} was allowed`);
        assert.deepEqual(
          verdict.findings.map((f) => [f.requirement, f.code]),
          [[requirement, code]],
          JSON.stringify(skip),
        );
      }
    });
  }

  it('evidence signed by a key the policy does not list is SIGNER_UNTRUSTED, in both formats', async function () {
    for (const format of ['cosign', 'referrer'] as const) {
      const img = await freshImage();
      await attestAll(img, format, { sign: true, sbom: true });
      await attestCommand(
        img.ref,
        keyed(path.join(dir, 'keys', 'stranger.key'), { format, sign: true, sbom: files['spdx.json'] }),
        deps,
      );
      const { verdict } = await verify(img.ref);
      assert.deepEqual(
        verdict.findings.map((f) => [f.requirement, f.code]).sort(),
        [
          ['sbom', 'SIGNER_UNTRUSTED'],
          ['signature', 'SIGNER_UNTRUSTED'],
        ],
        format,
      );
    }
  });

  /** Rewrites the `.att` tag of `repo@digest` with `mutate` applied to the layer blob of `predicateType`. */
  async function tamperCosignAttestation(
    repo: string,
    digest: string,
    predicateType: string,
    mutate: (envelope: Record<string, unknown>) => void,
  ): Promise<void> {
    const tag = `sha256-${digest.slice('sha256:'.length)}.att`;
    const m = await rawManifest(registry.url, repo, tag);
    const manifest = parseJson<{ layers: (Descriptor & { annotations: Record<string, string> })[] }>(m.bytes);
    const layer = manifest.layers.find((l) => l.annotations.predicateType === predicateType);
    assert.ok(layer, `no ${predicateType} layer`);
    const envelope = parseJson((await rawBlob(registry.url, repo, layer.digest)).bytes);
    mutate(envelope);
    const blob = blobOf(layer.mediaType, Buffer.from(JSON.stringify(envelope)));
    await pusher.putBlob(repo, blob);
    Object.assign(layer, { digest: blob.digest, size: blob.size });
    await pusher.putManifest(repo, Buffer.from(JSON.stringify(manifest)), m.contentType, tag);
  }

  it('a tampered attestation (payload edited after signing) is blocked: SIGNATURE_INVALID for its requirement', async function () {
    const img = await freshImage();
    await attestAll(img, 'cosign');
    assert.equal((await verify(img.ref)).code, 0);
    await tamperCosignAttestation(img.repo, img.image.digest, 'https://spdx.dev/Document', (env) => {
      const statement = parseJson(Buffer.from(env.payload as string, 'base64'));
      (statement.predicate as { name: string }).name = 'edited after signing';
      env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    });
    const { code, verdict } = await verify(img.ref);
    assert.equal(code, 1);
    assert.deepEqual(
      verdict.findings.map((f) => [f.requirement, f.code]),
      [['sbom', 'SIGNATURE_INVALID']],
    );
  });

  it('a tampered VSA (verifier edited after signing) does not count towards the quorum', async function () {
    const img = await freshImage();
    await attestAll(img, 'cosign');
    await tamperCosignAttestation(
      img.repo,
      img.image.digest,
      'https://slsa.dev/verification_summary/v1',
      (env) => {
        const statement = parseJson(Buffer.from(env.payload as string, 'base64'));
        (statement.predicate as { verifier: { id: string } }).verifier.id = 'https://someone-else.example';
        env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
      },
    );
    const { verdict } = await verify(img.ref);
    assert.deepEqual(
      verdict.findings.map((f) => [f.requirement, f.code]),
      [['reproducible', 'REBUILD_QUORUM_NOT_MET']],
    );
  });

  it('a tampered bundle referrer (SBOM payload edited, index pointed at it) is blocked: SIGNATURE_INVALID', async function () {
    const img = await freshImage();
    await attestAll(img, 'referrer');
    const indexTag = `sha256-${img.image.digest.slice(7)}`;
    const idx = await rawManifest(registry.url, img.repo, indexTag);
    const index = parseJson<{ manifests: (Descriptor & { annotations?: Record<string, string> })[] }>(
      idx.bytes,
    );
    const entry = index.manifests.find(
      (m) => m.annotations?.['dev.sigstore.bundle.predicateType'] === 'https://spdx.dev/Document',
    );
    assert.ok(entry);
    const referrer = parseJson<{ layers: Descriptor[] }>(
      (await rawManifest(registry.url, img.repo, entry.digest)).bytes,
    );
    const bundle = parseJson<{ dsseEnvelope: { payload: string } }>(
      (await rawBlob(registry.url, img.repo, referrer.layers[0]!.digest)).bytes,
    );
    const statement = parseJson(Buffer.from(bundle.dsseEnvelope.payload, 'base64'));
    (statement.predicate as { name: string }).name = 'edited after signing';
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const layer = blobOf(referrer.layers[0]!.mediaType, Buffer.from(JSON.stringify(bundle)));
    await pusher.putBlob(img.repo, layer);
    referrer.layers[0] = { ...referrer.layers[0]!, digest: layer.digest, size: layer.size };
    const bytes = Buffer.from(JSON.stringify(referrer));
    const digest = await pusher.putManifest(
      img.repo,
      bytes,
      'application/vnd.oci.image.manifest.v1+json',
      blobOf('', bytes).digest,
    );
    Object.assign(entry, { digest, size: bytes.length });
    await pusher.putManifest(img.repo, Buffer.from(JSON.stringify(index)), idx.contentType, indexTag);
    const { code, verdict } = await verify(img.ref);
    assert.equal(code, 1);
    assert.deepEqual(
      verdict.findings.map((f) => [f.requirement, f.code]),
      [['sbom', 'SIGNATURE_INVALID']],
    );
  });

  it("another image's attestations copied onto this digest count for nothing (DIGEST_MISMATCH)", async function () {
    const attested = await freshImage();
    await attestAll(attested, 'cosign');
    const victim = await freshImage();
    for (const suffix of ['.sig', '.att']) {
      const from = await rawManifest(
        registry.url,
        attested.repo,
        `sha256-${attested.image.digest.slice(7)}${suffix}`,
      );
      const manifest = parseJson<{ config: Descriptor; layers: Descriptor[] }>(from.bytes);
      for (const d of [manifest.config, ...manifest.layers]) {
        const data = (await rawBlob(registry.url, attested.repo, d.digest)).bytes;
        await pusher.putBlob(victim.repo, { mediaType: d.mediaType, digest: d.digest, size: d.size, data });
      }
      await pusher.putManifest(
        victim.repo,
        from.bytes,
        from.contentType,
        `sha256-${victim.image.digest.slice(7)}${suffix}`,
      );
    }
    const { code, verdict } = await verify(victim.ref);
    assert.equal(code, 1);
    const codes = Object.fromEntries(verdict.findings.map((f) => [f.requirement, f.code]));
    assert.equal(codes.signature, 'DIGEST_MISMATCH');
    assert.equal(codes.sbom, 'DIGEST_MISMATCH');
    assert.equal(codes.provenance, 'DIGEST_MISMATCH');
    assert.equal(codes.reproducible, 'REBUILD_QUORUM_NOT_MET');
  });

  it('a rebuilder whose digest differs is refused (REBUILD_DIGEST_MISMATCH) and nothing is pushed, by digest or by rebuilt image', async function () {
    const img = await freshImage();
    const other = buildImage({ seed: 'a different rebuild' });
    await pushImage(pusher, 'rebuilds/other', other, 'latest');
    const hex = img.image.digest.slice('sha256:'.length);
    const before = await rawManifest(registry.url, img.repo, 'v1');
    for (const o of [
      rebuilderA(other.digest),
      rebuilderA(other.digest, { format: 'referrer' }),
      keyless(REBUILDER_B, {
        format: 'both',
        rebuiltImage: `${registry.host}/rebuilds/other:latest`,
        source: SOURCE,
        verifierId: 'https://rebuilder-b.example',
        sign: true,
        sbom: files['spdx.json'],
      }),
    ]) {
      await assert.rejects(
        attestCommand(img.ref, o, deps),
        (e: unknown) =>
          e instanceof AttestRefused &&
          e.code === 'REBUILD_DIGEST_MISMATCH' &&
          e.published === img.image.digest &&
          e.rebuilt === other.digest,
      );
    }
    for (const tag of [`sha256-${hex}.sig`, `sha256-${hex}.att`, `sha256-${hex}`]) {
      assert.equal((await rawManifest(registry.url, img.repo, tag)).status, 404, tag);
    }
    const tags = (await (await fetch(`${registry.url}/v2/${img.repo}/tags/list`)).json()) as {
      tags: string[];
    };
    assert.deepEqual(tags.tags, ['v1']);
    assert.equal((await rawManifest(registry.url, img.repo, 'v1')).computedDigest, before.computedDigest);
  });

  it('the binary: exit 0 published, 1 refused rebuild, 2 usage or configuration error, 3 registry unreachable', async function () {
    const img = await freshImage();
    const other = buildImage({ seed: 'another rebuild' }).digest;
    const key = path.join(dir, 'keys', 'ops.key');
    const common = ['--trusted-root', rootFile];
    const cases: [string, string[], number, RegExp][] = [
      [
        'published',
        [img.ref, '--key', key, '--sign', '--sbom', files['spdx.json'], ...common],
        0,
        /^ATTESTED /,
      ],
      [
        'refused rebuild',
        [
          img.ref,
          '--key',
          key,
          '--rebuilt-digest',
          other,
          '--source',
          SOURCE,
          '--verifier-id',
          'https://r.example',
          ...common,
        ],
        1,
        /REFUSED \[REBUILD_DIGEST_MISMATCH\]/,
      ],
      ['invalid SBOM', [img.ref, '--key', key, '--sbom', files['empty-spdx.json']], 2, /lists no packages/],
      [
        'unreachable registry',
        [`127.0.0.1:1/acme/app@${img.image.digest}`, '--key', key, '--sign', ...common],
        3,
        /FAILED \[REGISTRY_ERROR\]/,
      ],
    ];
    const results = await Promise.all(cases.map(([, args]) => run(['attest', ...args])));
    for (const [i, [name, , code, pattern]] of cases.entries()) {
      const r = results[i]!;
      assert.equal(r.code, code, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(code === 0 ? r.stdout : r.stderr, pattern, name);
    }
  });

  it('usage and configuration errors are UsageError with a code, raised before anything is signed', async function () {
    const img = await freshImage();
    const key = path.join(dir, 'keys', 'ops.key');
    const cases: [Partial<AttestCommandOptions>, string][] = [
      [{ key }, 'NOTHING_TO_ATTEST'],
      [{ key, predicate: files['spdx.json'] }, 'PREDICATE_WITHOUT_TYPE'],
      [{ key, predicate: files['spdx.json'], type: 'not a type' }, 'PREDICATE_TYPE_UNKNOWN'],
      [{ key, predicate: files['spdx.json'], type: 'spdx' }, 'PREDICATE_INVALID'],
      [{ key, sbom: files['provenance.json'] }, 'PREDICATE_INVALID'],
      [{ key, provenance: files['spdx.json'] }, 'PREDICATE_INVALID'],
      [{ key, sbom: files['empty-spdx.json'] }, 'PREDICATE_INVALID'],
      [{ key, sbom: path.join(dir, 'nope.json') }, 'FILE_UNREADABLE'],
      [{ key, rebuiltDigest: img.image.digest }, 'REBUILD_OPTIONS'],
      [{ key, rebuiltDigest: 'sha256:abc', source: SOURCE, verifierId: 'https://r.example' }, 'BAD_DIGEST'],
      [
        {
          key,
          rebuiltDigest: img.image.digest,
          source: 'git+https://github.com/acme/app',
          verifierId: 'https://r.example',
        },
        'BAD_SOURCE',
      ],
      [{ key, rebuiltDigest: img.image.digest, source: SOURCE, verifierId: 'not a uri' }, 'BAD_URL'],
      [{ key: path.join(dir, 'keys', 'ops.pub'), sign: true }, 'KEY_UNREADABLE'],
      [{ key: path.join(KEYS, 'sigstore-standard.key'), sign: true }, 'KEY_PASSWORD'],
      [{ sign: true }, 'NO_IDENTITY_TOKEN'],
      [{ sign: true, tlogUpload: false, identityToken: 'x' }, 'SIGNING_OPTIONS'],
      [{ key, sign: true, registryMirror: ['no-equals'] }, 'BAD_MIRROR'],
      [{ key, sign: true, trustedRoot: files['spdx.json'] }, 'TRUST_ROOT_INVALID'],
    ];
    for (const [o, code] of cases) {
      await assert.rejects(
        attestCommand(img.ref, { ...base, ...o }, { env: {}, credentials: NO_CREDENTIALS }),
        (e: unknown) => e instanceof UsageError && e.code === code,
        `${JSON.stringify(o)} should be ${code}`,
      );
    }
    await assert.rejects(
      attestCommand('Not A Reference', { ...base, key, sign: true }, deps),
      (e: unknown) => e instanceof UsageError && e.code === 'INVALID_REFERENCE',
    );
    const hex = img.image.digest.slice(7);
    assert.equal((await rawManifest(registry.url, img.repo, `sha256-${hex}.sig`)).status, 404);
  });

  it('signing against the wrong trusted root fails the self-check and pushes nothing (SELF_CHECK_FAILED)', async function () {
    const img = await freshImage();
    const otherMock = await startSigstoreMock();
    try {
      const otherRoot = path.join(dir, 'other-root.json');
      fs.writeFileSync(otherRoot, JSON.stringify(otherMock.trustedRoot));
      // services of this mock, trust of the other one
      await assert.rejects(
        attestCommand(
          img.ref,
          keyless(RELEASE, {
            sign: true,
            trustedRoot: otherRoot,
            fulcioUrl: mock.fulcioUrl,
            rekorUrl: mock.rekorUrl,
          }),
          deps,
        ),
        (e: unknown) => e instanceof AttestFailure && e.code === 'SELF_CHECK_FAILED',
      );
    } finally {
      await otherMock.close();
    }
    assert.equal(
      (await rawManifest(registry.url, img.repo, `sha256-${img.image.digest.slice(7)}.sig`)).status,
      404,
    );
  });

  it('runAttest prints the published pieces and the signer identity', async function () {
    const img = await freshImage();
    let out = '';
    const code = await runAttest(
      img.tagRef,
      keyless(RELEASE, { sign: true, sbom: files['cyclonedx.json'], format: 'both' }),
      (s) => (out += s),
      () => undefined,
      deps,
    );
    assert.equal(code, 0);
    assert.match(out, new RegExp(`^ATTESTED ${img.tagRef.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    assert.ok(out.includes(`digest: ${img.image.digest}`));
    assert.ok(out.includes(RELEASE.uri!));
    assert.match(out, /pushed {2}signature: cosign sha256-[0-9a-f]{64}\.sig/);
    assert.match(out, /pushed {2}sbom \(https:\/\/cyclonedx\.org\/bom\): referrer sha256:[0-9a-f]{64}/);
  });

  it('--json prints the digest, the signer and each published piece with its format and location', async function () {
    const img = await freshImage();
    let out = '';
    const code = await runAttest(
      img.ref,
      rebuilderA(img.image.digest, { json: true, format: 'both' }),
      (x) => (out += x),
      () => undefined,
      deps,
    );
    assert.equal(code, 0);
    const r = JSON.parse(out) as {
      digest: string;
      signer: string;
      published: { kind: string; predicateType: string; format: string; location: string }[];
      rebuild: { rebuiltDigest: string; source: { uri: string; commit: string } };
    };
    assert.equal(r.digest, img.image.digest);
    assert.match(r.signer, /^key sha256:[0-9a-f]{64}$/);
    assert.deepEqual(
      r.published.map((p) => [p.kind, p.predicateType, p.format]),
      [
        ['attestation', 'https://slsa.dev/verification_summary/v1', 'cosign'],
        ['attestation', 'https://slsa.dev/verification_summary/v1', 'referrer'],
      ],
    );
    assert.equal(r.published[0]?.location, `sha256-${img.image.digest.slice(7)}.att`);
    assert.match(r.published[1]?.location ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(r.rebuild, {
      rebuiltDigest: img.image.digest,
      source: { uri: 'git+https://github.com/acme/app', commit: SOURCE_COMMIT },
    });
  });

  it('an OCI layout as the target (--registry-mirror HOST=oci-layout:DIR): attested in place, verified through the same mirror', async function () {
    const layoutDir = path.join(dir, 'layout');
    const img = buildImage({ seed: 'layout image' });
    await pushImage(new OciLayoutWriter(layoutDir), 'acme/app', img, 'v1');
    const mirror = [`${LAYOUT_HOST}=oci-layout:${layoutDir}`];
    const ref = `${LAYOUT_HOST}/acme/app@${img.digest}`;
    const o = { registryMirror: mirror, format: 'both' as const };
    await attestCommand(
      `${LAYOUT_HOST}/acme/app:v1`,
      keyed(path.join(dir, 'keys', 'ops.key'), {
        ...o,
        sign: true,
        sbom: files['spdx.json'],
        provenance: files['provenance.json'],
      }),
      deps,
    );
    await attestCommand(ref, rebuilderA(img.digest, o), deps);
    await attestCommand(
      ref,
      keyless(REBUILDER_B, {
        ...o,
        rebuiltDigest: img.digest,
        source: SOURCE,
        verifierId: 'https://rebuilder-b.example',
      }),
      deps,
    );
    let out = '';
    const code = await verifyCommand(
      ref,
      { policy: policyFile, json: true, insecureRegistry: [], registryMirror: mirror },
      (x) => (out += x),
    );
    const verdict = (JSON.parse(out) as { verdicts: ImageVerdict[] }).verdicts[0]!;
    assert.equal(code, 0, JSON.stringify(verdict.findings, null, 2));
    assert.deepEqual(verdict.satisfied.map((x) => x.requirement).sort(), [
      'provenance',
      'reproducible',
      'sbom',
      'signature',
    ]);
  });

  it('registry auth as verify takes it: a Docker identity token (refresh-token grant) reads and pushes; a wrong one fails before anything is signed', async function () {
    const tokens = await startTokenServer({
      username: 'ci',
      password: 'secret',
      identityToken: 'refresh-me',
    });
    const secured = await startRegistry({ auth: tokens.registryAuth });
    try {
      const basic = new RegistryPusher(secured.url, { username: 'ci', password: 'secret' });
      const img = buildImage({ seed: 'authenticated image' });
      await pushImage(basic, 'acme/private', img, 'v1');
      const ref = `${secured.host}/acme/private@${img.digest}`;
      const identity = (token: string): CredentialSource => ({
        lookup: (host) =>
          Promise.resolve(host === secured.host ? { kind: 'identity-token' as const, token } : undefined),
      });
      const key = path.join(dir, 'keys', 'ops.key');
      await attestCommand(ref, keyed(key, { sign: true }), { ...deps, credentials: identity('refresh-me') });
      const sig = await basic.getManifest('acme/private', `sha256-${img.digest.slice(7)}.sig`);
      assert.ok(sig, 'the signature was pushed with the identity token');
      const before = tokens.stats.refused;
      await assert.rejects(
        attestCommand(ref, keyed(key, { sbom: files['spdx.json'] }), {
          ...deps,
          credentials: identity('stolen'),
        }),
        (e: unknown) => e instanceof AttestFailure && e.code === 'REGISTRY_ERROR',
      );
      assert.ok(tokens.stats.refused > before, 'the wrong identity token was refused by the token server');
      assert.equal(await basic.getManifest('acme/private', `sha256-${img.digest.slice(7)}.att`), undefined);
    } finally {
      await secured.stop();
      await tokens.close();
    }
  });
});
