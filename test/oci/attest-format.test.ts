import { strict as assert } from 'node:assert';
import { verify, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { attestCommand, type AttestCommandOptions } from '../../cli/commands/attest';
import { buildImage } from '../../cli/oci/image';
import {
  BUNDLE_ANNOTATION,
  COSIGN_ANNOTATION,
  COSIGN_SIMPLESIGNING,
  DSSE_ENVELOPE,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from '../../cli/oci/media-types';
import {
  COSIGN_PREDICATE_TYPES,
  PredicateError,
  predicateFromFile,
  predicateTypeOf,
  provenanceFromFile,
  sbomFromFile,
} from '../../cli/oci/predicates';
import { RegistryPusher } from '../../cli/oci/push';
import { imagePurl, parseRebuildSource, REBUILD_POLICY_URI } from '../../cli/oci/rebuild';
import { pushImage } from '../../cli/oci/target';
import type { CredentialSource } from '../../policy-pack/registry/types';
import { parseJson, rawBlob, rawManifest } from '../support/raw-distribution';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { mockIdentityToken, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock';
import { cyclonedxDocument, slsaV02, slsaV1, spdxDocument } from '../supply-chain/support/world';

/**
 * What `trustops attest` writes is exactly what cosign writes, so cosign (and Kyverno) read it: media
 * types, annotation keys, statement shapes and the `--type` to predicate-type mapping, checked on the raw
 * bytes in the real registry (plain HTTP, independent of the product's registry client).
 */

interface Layer {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
interface Manifest {
  mediaType: string;
  artifactType?: string;
  config: Layer;
  layers: Layer[];
  subject?: Layer;
  annotations?: Record<string, string>;
}

const NO_CREDENTIALS: CredentialSource = { lookup: () => Promise.resolve(undefined) };
const IDENTITY = { email: 'builder@acme.example', issuer: 'https://accounts.example' };
const COMMIT = 'b'.repeat(40);

/** DSSE pre-authentication encoding (what a DSSE signature signs). */
function pae(type: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `),
    payload,
  ]);
}

describe('trustops attest output is cosign’s', function () {
  let registry: RunningRegistry;
  let mock: SigstoreMock;
  let pusher: RegistryPusher;
  let dir: string;
  let rootFile: string;
  let n = 0;
  const file = (name: string, doc: unknown): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return f;
  };

  before(async function () {
    registry = await startRegistry();
    mock = await startSigstoreMock();
    pusher = new RegistryPusher(registry.url);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-attest-format-'));
    rootFile = file('root.json', mock.trustedRoot);
  });

  after(async function () {
    await mock?.close();
    await registry?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function image(): Promise<{ repo: string; digest: string; ref: string; size: number }> {
    const repo = `acme/format-${++n}`;
    const img = buildImage({ seed: `format-${n}` });
    await pushImage(pusher, repo, img, 'v1');
    return {
      repo,
      digest: img.digest,
      ref: `${registry.host}/${repo}@${img.digest}`,
      size: img.manifest.length,
    };
  }

  const opts = (o: Partial<AttestCommandOptions>): AttestCommandOptions => ({
    verifiedLevel: [],
    tlogUpload: true,
    format: 'cosign',
    insecureRegistry: [],
    registryMirror: [],
    identityToken: mockIdentityToken(IDENTITY),
    trustedRoot: rootFile,
    ...o,
  });
  const deps = { env: {}, credentials: NO_CREDENTIALS, now: () => new Date('2026-03-04T05:06:07.890Z') };

  async function manifest(repo: string, tag: string): Promise<Manifest> {
    const m = await rawManifest(registry.url, repo, tag);
    assert.equal(m.status, 200, `${repo}:${tag}`);
    return parseJson<Manifest>(m.bytes);
  }
  async function blob(repo: string, digest: string): Promise<Buffer> {
    return (await rawBlob(registry.url, repo, digest)).bytes;
  }

  it('cosign --type names map to cosign’s predicate types; a URI is taken as is; anything else is refused', function () {
    assert.deepEqual(
      Object.fromEntries(Object.keys(COSIGN_PREDICATE_TYPES).map((t) => [t, predicateTypeOf(t)])),
      {
        custom: 'https://cosign.sigstore.dev/attestation/v1',
        slsaprovenance: 'https://slsa.dev/provenance/v0.2',
        slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
        slsaprovenance1: 'https://slsa.dev/provenance/v1',
        spdx: 'https://spdx.dev/Document',
        spdxjson: 'https://spdx.dev/Document',
        cyclonedx: 'https://cyclonedx.org/bom',
        link: 'https://in-toto.io/Link/v1',
        vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
        openvex: 'https://openvex.dev/ns',
      },
    );
    assert.equal(predicateTypeOf('https://example.com/my/type/v1'), 'https://example.com/my/type/v1');
    for (const bad of ['sbom', 'spdx-json', '', 'example.com/type']) {
      assert.throws(
        () => predicateTypeOf(bad),
        (e: unknown) => e instanceof PredicateError && e.code === 'PREDICATE_TYPE_UNKNOWN',
        bad,
      );
    }
  });

  it('predicates: custom wraps the text as cosign does; known types are checked as the policy checks them', function () {
    const now = new Date('2026-03-04T05:06:07.890Z');
    assert.deepEqual(predicateFromFile('custom', 'free text\n', 'f', now).predicate, {
      Data: 'free text\n',
      Timestamp: '2026-03-04T05:06:07Z',
    });
    assert.equal(
      sbomFromFile(JSON.stringify(cyclonedxDocument('1.6')), 'f').predicateType,
      'https://cyclonedx.org/bom',
    );
    assert.equal(
      sbomFromFile(JSON.stringify(spdxDocument()), 'f').predicateType,
      'https://spdx.dev/Document',
    );
    assert.equal(
      provenanceFromFile(JSON.stringify(slsaV1()), 'f').predicateType,
      'https://slsa.dev/provenance/v1',
    );
    assert.equal(
      provenanceFromFile(JSON.stringify(slsaV02()), 'f').predicateType,
      'https://slsa.dev/provenance/v0.2',
    );
    const refused: [() => unknown, string][] = [
      [() => predicateFromFile('spdx', 'SPDXVersion: SPDX-2.3', 'f', now), 'PREDICATE_INVALID'],
      [() => predicateFromFile('spdxjson', JSON.stringify(spdxDocument(0)), 'f', now), 'PREDICATE_INVALID'],
      [() => predicateFromFile('slsaprovenance1', JSON.stringify(slsaV02()), 'f', now), 'PREDICATE_INVALID'],
      [() => predicateFromFile('slsaprovenance', JSON.stringify(slsaV1()), 'f', now), 'PREDICATE_INVALID'],
      [
        () =>
          predicateFromFile(
            'https://slsa.dev/verification_summary/v1',
            JSON.stringify({ verifier: { id: 'x' }, verificationResult: 'FAILED' }),
            'f',
            now,
          ),
        'PREDICATE_INVALID',
      ],
      [() => predicateFromFile('vuln', '[1]', 'f', now), 'PREDICATE_NOT_JSON'],
      [() => predicateFromFile('cyclonedx', 'not json', 'f', now), 'PREDICATE_NOT_JSON'],
      [
        () =>
          sbomFromFile(
            JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'x', predicate: {} }),
            'f',
          ),
        'PREDICATE_NOT_JSON',
      ],
      [() => sbomFromFile(JSON.stringify(slsaV1()), 'f'), 'PREDICATE_INVALID'],
      [() => provenanceFromFile(JSON.stringify(spdxDocument()), 'f'), 'PREDICATE_INVALID'],
      [() => provenanceFromFile(JSON.stringify({ builder: {} }), 'f'), 'PREDICATE_INVALID'],
    ];
    for (const [f, code] of refused) {
      assert.throws(f, (e: unknown) => e instanceof PredicateError && e.code === code);
    }
  });

  it('--source needs a repository URI and a full commit', function () {
    assert.deepEqual(
      parseRebuildSource(`git+https://github.com/acme/app@refs/tags/v1@${COMMIT.toUpperCase()}`),
      {
        uri: 'git+https://github.com/acme/app@refs/tags/v1',
        commit: COMMIT,
      },
    );
    for (const bad of [
      'git+https://github.com/acme/app',
      `github.com/acme/app@${COMMIT}`,
      'git+https://github.com/acme/app@abc123',
      `@${COMMIT}`,
    ]) {
      assert.throws(
        () => parseRebuildSource(bad),
        (e: unknown) => (e as { code?: string }).code === 'BAD_SOURCE',
        bad,
      );
    }
  });

  it('keyless --sign: sha256-<hex>.sig with a simple-signing layer and cosign’s annotations (certificate, chain, Rekor bundle)', async function () {
    const img = await image();
    await attestCommand(img.ref, opts({ sign: true }), deps);
    const m = await manifest(img.repo, `sha256-${img.digest.slice(7)}.sig`);
    assert.equal(m.mediaType, OCI_MANIFEST);
    assert.equal(m.config.mediaType, OCI_CONFIG);
    assert.equal(m.layers.length, 1);
    const layer = m.layers[0]!;
    assert.equal(layer.mediaType, COSIGN_SIMPLESIGNING);
    assert.deepEqual(
      Object.keys(layer.annotations ?? {}).sort(),
      [
        COSIGN_ANNOTATION.signature,
        COSIGN_ANNOTATION.bundle,
        COSIGN_ANNOTATION.certificate,
        COSIGN_ANNOTATION.chain,
      ].sort(),
    );
    const a = layer.annotations!;
    const payload = await blob(img.repo, layer.digest);
    assert.deepEqual(JSON.parse(payload.toString()), {
      critical: {
        identity: { 'docker-reference': `${registry.host}/${img.repo}` },
        image: { 'docker-manifest-digest': img.digest },
        type: 'cosign container image signature',
      },
      optional: null,
    });
    const cert = new X509Certificate(a[COSIGN_ANNOTATION.certificate]!);
    assert.ok(
      verify('sha256', payload, cert.publicKey, Buffer.from(a[COSIGN_ANNOTATION.signature]!, 'base64')),
    );
    assert.match(cert.subjectAltName ?? '', /email:builder@acme\.example/);
    const chain = new X509Certificate(a[COSIGN_ANNOTATION.chain]!);
    assert.ok(cert.verify(chain.publicKey), 'the chain annotation holds the issuing CA');
    const rekor = JSON.parse(a[COSIGN_ANNOTATION.bundle]!) as {
      SignedEntryTimestamp: string;
      Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
    };
    assert.match(rekor.Payload.logID, /^[0-9a-f]{64}$/);
    const body = JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString()) as { kind: string };
    assert.equal(body.kind, 'hashedrekord');
  });

  it('attestations: sha256-<hex>.att with DSSE layers, cosign’s annotations and in-toto v0.1 statements naming host/repo and the digest', async function () {
    const img = await image();
    await attestCommand(
      img.ref,
      opts({
        sbom: file('s.json', cyclonedxDocument('1.5')),
        predicate: file('v.json', { scanner: {} }),
        type: 'vuln',
      }),
      deps,
    );
    const m = await manifest(img.repo, `sha256-${img.digest.slice(7)}.att`);
    assert.deepEqual(
      m.layers.map((l) => [
        l.mediaType,
        l.annotations?.predicateType,
        l.annotations?.[COSIGN_ANNOTATION.signature],
      ]),
      [
        [DSSE_ENVELOPE, 'https://cyclonedx.org/bom', ''],
        [DSSE_ENVELOPE, 'https://cosign.sigstore.dev/attestation/vuln/v1', ''],
      ],
    );
    for (const layer of m.layers) {
      assert.ok(layer.annotations?.[COSIGN_ANNOTATION.certificate]);
      assert.ok(layer.annotations?.[COSIGN_ANNOTATION.chain]);
      const rekor = JSON.parse(layer.annotations[COSIGN_ANNOTATION.bundle]!) as { Payload: { body: string } };
      assert.equal(
        (JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString()) as { kind: string }).kind,
        'intoto',
      );
      const env = JSON.parse((await blob(img.repo, layer.digest)).toString()) as {
        payloadType: string;
        payload: string;
        signatures: { sig: string }[];
      };
      assert.equal(env.payloadType, IN_TOTO_PAYLOAD_TYPE);
      const payload = Buffer.from(env.payload, 'base64');
      const statement = JSON.parse(payload.toString()) as Record<string, unknown>;
      assert.equal(statement._type, 'https://in-toto.io/Statement/v0.1');
      assert.deepEqual(statement.subject, [
        { name: `${registry.host}/${img.repo}`, digest: { sha256: img.digest.slice(7) } },
      ]);
      assert.equal(statement.predicateType, layer.annotations.predicateType);
      const key = new X509Certificate(layer.annotations[COSIGN_ANNOTATION.certificate]!).publicKey;
      assert.ok(
        verify('sha256', pae(env.payloadType, payload), key, Buffer.from(env.signatures[0]!.sig, 'base64')),
      );
    }
  });

  it('a second signer appends to .sig and .att, as cosign does, keeping the first', async function () {
    const img = await image();
    await attestCommand(img.ref, opts({ sign: true, sbom: file('a.json', spdxDocument()) }), deps);
    await attestCommand(
      img.ref,
      opts({
        sign: true,
        identityToken: mockIdentityToken({ ...IDENTITY, email: 'second@acme.example' }),
        sbom: file('b.json', spdxDocument(3)),
      }),
      deps,
    );
    for (const suffix of ['.sig', '.att']) {
      const m = await manifest(img.repo, `sha256-${img.digest.slice(7)}${suffix}`);
      const sans = m.layers.map(
        (l) => new X509Certificate(l.annotations![COSIGN_ANNOTATION.certificate]!).subjectAltName,
      );
      assert.deepEqual(sans, ['email:builder@acme.example', 'email:second@acme.example'], suffix);
    }
  });

  it('--format referrer: Sigstore bundle referrers as cosign v3 writes them, listed in the referrers tag-schema index', async function () {
    const img = await image();
    await attestCommand(
      img.ref,
      opts({ format: 'referrer', sign: true, provenance: file('p.json', slsaV1()) }),
      deps,
    );
    assert.equal(
      (await rawManifest(registry.url, img.repo, `sha256-${img.digest.slice(7)}.sig`)).status,
      404,
    );
    const index = parseJson<{ mediaType: string; manifests: (Layer & { artifactType?: string })[] }>(
      (await rawManifest(registry.url, img.repo, `sha256-${img.digest.slice(7)}`)).bytes,
    );
    assert.equal(index.mediaType, OCI_INDEX);
    assert.equal(index.manifests.length, 2);
    const statements: Record<string, unknown>[] = [];
    for (const entry of index.manifests) {
      assert.equal(entry.artifactType, SIGSTORE_BUNDLE_V03);
      const m = await manifest(img.repo, entry.digest);
      assert.equal(m.artifactType, SIGSTORE_BUNDLE_V03);
      assert.equal(m.config.mediaType, OCI_EMPTY);
      assert.deepEqual(m.subject, { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size });
      assert.deepEqual(m.annotations, {
        [BUNDLE_ANNOTATION.content]: 'dsse-envelope',
        [BUNDLE_ANNOTATION.predicateType]: entry.annotations?.[BUNDLE_ANNOTATION.predicateType],
        [BUNDLE_ANNOTATION.created]: '2026-03-04T05:06:07Z',
      });
      assert.equal(m.layers.length, 1);
      assert.equal(m.layers[0]!.mediaType, SIGSTORE_BUNDLE_V03);
      const bundle = JSON.parse((await blob(img.repo, m.layers[0]!.digest)).toString()) as {
        mediaType: string;
        dsseEnvelope: { payload: string };
      };
      assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      statements.push(
        JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as Record<string, unknown>,
      );
    }
    const byType = Object.fromEntries(statements.map((s) => [s.predicateType, s]));
    assert.deepEqual(byType['https://sigstore.dev/cosign/sign/v1'], {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: img.digest.slice(7) } }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    });
    assert.deepEqual(byType['https://slsa.dev/provenance/v1']?.subject, [
      { name: `${registry.host}/${img.repo}`, digest: { sha256: img.digest.slice(7) } },
    ]);
  });

  it('--tsa-url adds cosign’s dev.sigstore.cosign/rfc3161timestamp annotation', async function () {
    const img = await image();
    await attestCommand(img.ref, opts({ sign: true, tsaUrl: mock.tsaUrl }), deps);
    const m = await manifest(img.repo, `sha256-${img.digest.slice(7)}.sig`);
    const ts = JSON.parse(m.layers[0]!.annotations![COSIGN_ANNOTATION.rfc3161Timestamp]!) as Record<
      string,
      string
    >;
    assert.deepEqual(Object.keys(ts), ['SignedRFC3161Timestamp']);
    assert.ok(Buffer.from(ts.SignedRFC3161Timestamp!, 'base64').length > 100);
  });

  it('a rebuilder’s VSA: PASSED, verifier.id, the image purl, the source and both digests, subject = the digest', async function () {
    const img = await image();
    await attestCommand(
      img.ref,
      opts({
        rebuiltDigest: img.digest,
        source: `git+https://github.com/acme/app@${COMMIT}`,
        verifierId: 'https://rebuilder.example/id',
        verifiedLevel: ['SLSA_BUILD_LEVEL_2'],
      }),
      deps,
    );
    const m = await manifest(img.repo, `sha256-${img.digest.slice(7)}.att`);
    assert.equal(m.layers[0]!.annotations?.predicateType, 'https://slsa.dev/verification_summary/v1');
    const env = JSON.parse((await blob(img.repo, m.layers[0]!.digest)).toString()) as { payload: string };
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as Record<string, unknown>;
    assert.deepEqual(statement.subject, [
      { name: `${registry.host}/${img.repo}`, digest: { sha256: img.digest.slice(7) } },
    ]);
    assert.deepEqual(statement.predicate, {
      verifier: { id: 'https://rebuilder.example/id', version: { trustops: '0.1.0' } },
      timeVerified: '2026-03-04T05:06:07Z',
      resourceUri: imagePurl(`${registry.host}/${img.repo}`, img.digest),
      policy: { uri: REBUILD_POLICY_URI },
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_2'],
      reproducibleRebuild: {
        source: { uri: 'git+https://github.com/acme/app', digest: { gitCommit: COMMIT } },
        publishedDigest: img.digest,
        rebuiltDigest: img.digest,
      },
    });
    assert.equal(
      imagePurl('ghcr.io/acme/app', `sha256:${'c'.repeat(64)}`),
      `pkg:oci/app@sha256%3A${'c'.repeat(64)}?repository_url=ghcr.io/acme/app`,
    );
  });

  it('a registry answering OCI-Subject (referrers API) gets the referrer only; no tag-schema index is written', async function () {
    // a loopback front of the real registry that acknowledges subjects as an OCI 1.1 registry does
    const acknowledged: string[] = [];
    const front = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        void fetch(`${registry.url}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(
              (e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'host',
            ),
          ),
          ...(body.length > 0 ? { body } : {}),
          redirect: 'manual',
        })
          .then(async (r) => {
            const headers: Record<string, string> = {};
            r.headers.forEach((v, k) => {
              if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') headers[k] = v;
            });
            if (req.method === 'PUT' && /\/manifests\//.test(req.url ?? '') && r.status === 201) {
              const subject = (JSON.parse(body.toString()) as { subject?: { digest: string } }).subject;
              if (subject) {
                headers['oci-subject'] = subject.digest;
                acknowledged.push(subject.digest);
              }
            }
            const out = Buffer.from(await r.arrayBuffer());
            res.writeHead(r.status, headers).end(out);
          })
          .catch((e: unknown) => res.writeHead(502).end(String(e)));
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(front.address() as AddressInfo).port}`;
      const img = await image();
      await attestCommand(
        `${host}/${img.repo}@${img.digest}`,
        opts({ format: 'referrer', sign: true, sbom: file('r.json', spdxDocument()) }),
        deps,
      );
      assert.deepEqual(acknowledged, [img.digest, img.digest]);
      assert.equal((await rawManifest(registry.url, img.repo, `sha256-${img.digest.slice(7)}`)).status, 404);
    } finally {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    }
  });
});
