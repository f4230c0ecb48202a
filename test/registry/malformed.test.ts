import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import {
  addToReferrersFallback,
  attachBundleReferrer,
  digestTag,
  inTotoStatement,
} from '../../cli/oci/attach';
import { blobOf } from '../../cli/oci/digest';
import { buildArtifactManifest, buildImage, buildIndex, type Blob, type OciImage } from '../../cli/oci/image';
import {
  IN_TOTO_PAYLOAD_TYPE,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from '../../cli/oci/media-types';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { parseReference } from '../../policy-pack/registry/reference';
import type {
  Attachments,
  Descriptor,
  ImageReference,
  RegistryClient,
} from '../../policy-pack/registry/types';
import { rawManifest, sha256 } from '../support/raw-distribution';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { FaultProxy } from './support/fault-proxy';
import { fixedCredentials, rejectsWithCode, testClient } from './support/env';

/** Structurally malformed answers: each is refused with a code, never half-read into a result. */
/**
 * One malformed attached item (anyone with push access can add one) is skipped and recorded in
 * `ignored`, so it cannot block an image its other evidence satisfies; what a pusher cannot cause
 * (bytes that do not match their digest, an unreadable listing, 5xx) still fails the whole lookup.
 */
describe('registry/malformed: manifests, descriptors and token answers that do not hold together', function () {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let client: RegistryClient;
  let ref: ImageReference;
  let imageDigest: string;
  /** A blob in the registry, used as the well-formed layer beside a malformed one. */
  let payload: Blob & { descriptor: Descriptor };
  const tagPath = (tag: string): RegExp => new RegExp(`^/v2/team/app/manifests/${tag}$`);
  const serveTag = (tag: string, body: unknown): void =>
    proxy.setFaults([
      {
        path: tagPath(tag),
        action: {
          kind: 'replace',
          body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
          dropDigestHeader: true,
        },
      },
    ]);

  before(async () => {
    registry = await startRegistry();
    const pusher = new RegistryPusher(registry.url);
    const image = buildImage({ seed: 'malformed' });
    imageDigest = (await pushImage(pusher, 'team/app', image, 'v1')).digest;
    await pushImage(pusher, 'team/app', buildIndex([image]), 'index');
    const blob = blobOf('application/vnd.dev.cosign.simplesigning.v1+json', Buffer.from('{"critical":{}}'));
    await pusher.putBlob('team/app', blob);
    payload = {
      ...blob,
      descriptor: { mediaType: blob.mediaType, digest: blob.digest, size: blob.data.length },
    };
    proxy = await new FaultProxy(registry.url).start();
    ref = parseReference(`${proxy.host}/team/app`);
  });
  after(async () => {
    await proxy?.close();
    await registry?.stop();
  });
  beforeEach(() => {
    proxy.setFaults([]);
    client = testClient();
  });
  afterEach(() => client.close());

  const layer = { mediaType: 'application/octet-stream', digest: `sha256:${'a'.repeat(64)}`, size: 1 };
  const cases: [string, unknown, string][] = [
    ['a JSON array', [1, 2], 'BAD_RESPONSE'],
    ['JSON null', 'null', 'BAD_RESPONSE'],
    [
      'an unknown media type',
      { schemaVersion: 2, mediaType: 'application/json', layers: [] },
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['both manifests and layers', { schemaVersion: 2, manifests: [], layers: [] }, 'BAD_RESPONSE'],
  ];
  for (const [what, body, code] of cases) {
    it(`a tag answered with ${what}: ${code}`, async () => {
      serveTag('v1', body);
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), code);
    });
  }

  const badLayers: [string, unknown][] = [
    ['a layer without digest', { mediaType: 'x', size: 1 }],
    ['a layer with a negative size', { ...layer, size: -1 }],
    ['a layer with a fractional size', { ...layer, size: 1.5 }],
    ['a layer that is a string', 'sha256:abc'],
  ];
  for (const [what, bad] of badLayers) {
    it(`a cosign .sig manifest with ${what}: that layer is skipped and recorded, the good one still read`, async () => {
      serveTag(`${digestTag(imageDigest, '.sig')}`.replace(/\./g, '\\.'), {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: layer,
        layers: [bad, payload.descriptor],
      });
      const found = await client.attachments(ref, imageDigest);
      assert.equal(found.signatures.length, 1);
      assert.deepEqual(found.signatures[0]?.payload, payload.data);
      assert.deepEqual(
        found.ignored?.map((i) => [i.source, i.attachment, i.reason]),
        [['cosign-sig', digestTag(imageDigest, '.sig'), 'MALFORMED_MANIFEST']],
      );
    });
  }

  it('a layer digest that is not sha256 is refused before it becomes a request path (skipped, recorded)', async () => {
    serveTag(digestTag(imageDigest, '.sig').replace(/\./g, '\\.'), {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: layer,
      layers: [{ ...layer, digest: 'sha256:../../../v2/other/manifests/x' }],
    });
    const found = await client.attachments(ref, imageDigest);
    assert.equal(found.signatures.length, 0);
    assert.deepEqual(
      found.ignored?.map((i) => i.reason),
      ['DESCRIPTOR_MISMATCH'],
    );
    assert.ok(!proxy.seen.some((s) => s.path.includes('..')));
  });

  it('a cosign .sig tag answered with non-JSON: the tag is skipped and recorded', async () => {
    serveTag(digestTag(imageDigest, '.sig').replace(/\./g, '\\.'), 'garbage, not a manifest');
    const found = await client.attachments(ref, imageDigest);
    assert.equal(found.signatures.length, 0);
    assert.deepEqual(
      found.ignored?.map((i) => [i.source, i.attachment, i.reason]),
      [['cosign-sig', digestTag(imageDigest, '.sig'), 'MALFORMED_MANIFEST']],
    );
  });

  it('an index whose entry size disagrees with the manifest it names: DIGEST_MISMATCH', async () => {
    const index = JSON.parse(buildIndex([buildImage({ seed: 'malformed' })]).manifest.toString()) as {
      manifests: { size: number }[];
    };
    const entry = index.manifests[0];
    assert.ok(entry);
    entry.size += 1;
    serveTag('index', index);
    const resolved = await client.resolve({ ...ref, tag: 'index' });
    await rejectsWithCode(
      client.selectPlatform(resolved.reference, resolved.digest, { os: 'linux', architecture: 'amd64' }),
      'DIGEST_MISMATCH',
    );
  });

  it('an index entry whose media type disagrees with the manifest: BAD_RESPONSE', async () => {
    const index = JSON.parse(buildIndex([buildImage({ seed: 'malformed' })]).manifest.toString()) as {
      manifests: { mediaType: string }[];
    };
    const entry = index.manifests[0];
    assert.ok(entry);
    entry.mediaType = 'application/vnd.docker.distribution.manifest.v2+json';
    serveTag('index', index);
    const resolved = await client.resolve({ ...ref, tag: 'index' });
    await rejectsWithCode(
      client.selectPlatform(resolved.reference, resolved.digest, { os: 'linux', architecture: 'amd64' }),
      'BAD_RESPONSE',
    );
  });

  describe('one malformed referrer is skipped and recorded; the registry failing still fails the lookup', () => {
    let pusher: RegistryPusher;
    let n = 0;
    /** A fresh subject image with one valid bundle referrer attached (the evidence that must survive). */
    const subjectWithGoodBundle = async (): Promise<{ subject: Descriptor; good: Descriptor }> => {
      const subject = await pushImage(pusher, 'team/app', buildImage({ seed: `referrers-${++n}` }));
      const statement = inTotoStatement({
        subjects: [{ name: 'g', digest: { sha256: subject.digest.slice(7) } }],
        predicateType: 'p',
        predicate: {},
      });
      const bundle = {
        dsseEnvelope: {
          payload: statement.toString('base64'),
          payloadType: IN_TOTO_PAYLOAD_TYPE,
          signatures: [],
        },
      };
      const good = await attachBundleReferrer(
        pusher,
        'team/app',
        subject,
        Buffer.from(JSON.stringify(bundle)),
      );
      return { subject, good };
    };
    /** Pushes `manifest` (with its blobs) and lists it in the subject's referrers tag-schema index as `entry`. */
    const listReferrer = async (
      subject: Descriptor,
      artifact: OciImage,
      entry: (pushed: Descriptor) => Descriptor = (d) => ({ ...d, artifactType: SIGSTORE_BUNDLE_V03 }),
    ): Promise<Descriptor> => {
      const pushed = await pushImage(pusher, 'team/app', artifact);
      await addToReferrersFallback(pusher, 'team/app', subject.digest, entry(pushed));
      return pushed;
    };
    /** The same artifact with its manifest JSON edited (the blobs stay as they are). */
    const edited = (artifact: OciImage, edit: (json: { layers: Descriptor[] }) => void): OciImage => {
      const json = JSON.parse(artifact.manifest.toString()) as { layers: Descriptor[] };
      edit(json);
      const manifest = Buffer.from(JSON.stringify(json));
      return { ...artifact, manifest, digest: sha256(manifest) };
    };
    const bundleArtifact = (subject: Descriptor, bytes: Buffer): OciImage =>
      buildArtifactManifest({
        artifactType: SIGSTORE_BUNDLE_V03,
        subject,
        layers: [blobOf(SIGSTORE_BUNDLE_V03, bytes)],
      });
    const expectSkipped = async (
      subject: Descriptor,
      bad: Descriptor,
      reason: string,
    ): Promise<Attachments> => {
      const found = await client.attachments(ref, subject.digest);
      assert.equal(found.bundles.length, 1, 'the valid referrer is still read');
      assert.deepEqual(
        found.ignored?.map((i) => [i.source, i.attachment, i.reason]),
        [['referrer', bad.digest, reason]],
      );
      assert.ok((found.ignored?.[0]?.detail.length ?? 0) > 0);
      return found;
    };

    before(() => {
      pusher = new RegistryPusher(registry.url);
    });

    it('a Sigstore bundle referrer without a bundle layer: NO_BUNDLE_LAYER', async () => {
      const { subject } = await subjectWithGoodBundle();
      const bad = await listReferrer(
        subject,
        buildArtifactManifest({
          artifactType: SIGSTORE_BUNDLE_V03,
          subject,
          layers: [blobOf('text/plain', Buffer.from('not a bundle'))],
        }),
      );
      await expectSkipped(subject, bad, 'NO_BUNDLE_LAYER');
    });

    it('a bundle layer whose descriptor understates its size (distribution accepts it): DESCRIPTOR_MISMATCH', async () => {
      const { subject } = await subjectWithGoodBundle();
      const artifact = edited(bundleArtifact(subject, Buffer.from('{"not":"small","at":"all"}')), (j) => {
        const l = j.layers[0];
        if (l) l.size = 3;
      });
      const bad = await listReferrer(subject, artifact);
      await expectSkipped(subject, bad, 'DESCRIPTOR_MISMATCH');
    });

    it('the same blob corrupted by the registry is still DIGEST_MISMATCH for the whole lookup', async () => {
      const { subject } = await subjectWithGoodBundle();
      const artifact = bundleArtifact(subject, Buffer.from('{"served":"wrong"}'));
      await listReferrer(subject, artifact);
      const blob = artifact.layers[0];
      assert.ok(blob);
      proxy.setFaults([{ path: new RegExp(`/blobs/${blob.digest}$`), action: { kind: 'corrupt' } }]);
      await rejectsWithCode(client.attachments(ref, subject.digest), 'DIGEST_MISMATCH');
    });

    it('a registry that oversizes every blob fails the lookup (TOO_LARGE) after one re-read, not one each', async () => {
      const { subject } = await subjectWithGoodBundle();
      await listReferrer(subject, bundleArtifact(subject, Buffer.from('{"second":true}')));
      await listReferrer(subject, bundleArtifact(subject, Buffer.from('{"third":true}')));
      proxy.setFaults([
        { path: /\/blobs\//, action: { kind: 'oversize', bytes: 2 * 1024 * 1024, declareLength: false } },
      ]);
      const small = testClient({ limits: { blobBytes: 1024 * 1024 } });
      try {
        await rejectsWithCode(small.attachments(ref, subject.digest), 'TOO_LARGE');
      } finally {
        small.close();
      }
      // The first reads run concurrently and the lookup fails as soon as the re-read does, so how many of
      // them were sent by then varies; the re-read is the one blob path requested twice.
      const blobPaths = proxy.seen.filter((r) => r.path.includes('/blobs/')).map((r) => r.path);
      const reread = blobPaths.filter((p, i) => blobPaths.indexOf(p) !== i);
      assert.equal(
        reread.length,
        1,
        `one re-read up to the limit, not one per blob: ${blobPaths.join(', ')}`,
      );
      assert.ok(blobPaths.length <= 3 + 1);
    });

    it('a pushed blob past the limit behind an understating descriptor still fails the lookup (TOO_LARGE)', async () => {
      // Known limit: an honest registry sends the whole blob, and past the limit it cannot be told from one
      // that lies, so it is not read and not skipped. The limit (limits.blobBytes) bounds this.
      const { subject } = await subjectWithGoodBundle();
      const artifact = edited(bundleArtifact(subject, Buffer.alloc(200, 0x20)), (j) => {
        const l = j.layers[0];
        if (l) l.size = 10;
      });
      await listReferrer(subject, artifact);
      const small = testClient({ limits: { blobBytes: 100 } });
      try {
        await rejectsWithCode(small.attachments(ref, subject.digest), 'TOO_LARGE');
      } finally {
        small.close();
      }
    });

    it('a bundle layer declaring more than the blob limit: TOO_LARGE, and it is never requested', async () => {
      const { subject } = await subjectWithGoodBundle();
      const artifact = edited(bundleArtifact(subject, Buffer.from('{"a":1}')), (j) => {
        const l = j.layers[0];
        if (l) l.size = 64 * 1024 * 1024;
      });
      const bad = await listReferrer(subject, artifact);
      await expectSkipped(subject, bad, 'TOO_LARGE');
      const blob = artifact.layers[0];
      assert.ok(blob && !proxy.seen.some((s) => s.path.endsWith(blob.digest)));
    });

    it('a tag-schema listing that misstates an entry size (distribution accepts it): DESCRIPTOR_MISMATCH', async () => {
      const { subject } = await subjectWithGoodBundle();
      const bad = await listReferrer(subject, bundleArtifact(subject, Buffer.from('{"x":2}')), (d) => ({
        ...d,
        size: d.size + 7,
        artifactType: SIGSTORE_BUNDLE_V03,
      }));
      await expectSkipped(subject, bad, 'DESCRIPTOR_MISMATCH');
    });

    it('a listed referrer the registry does not have: NOT_FOUND', async () => {
      const { subject, good } = await subjectWithGoodBundle();
      const missing = { mediaType: OCI_MANIFEST, digest: `sha256:${'c'.repeat(64)}`, size: 10 };
      serveTag(digestTag(subject.digest), {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [good, { ...missing, artifactType: SIGSTORE_BUNDLE_V03 }],
      });
      await expectSkipped(subject, missing, 'NOT_FOUND');
    });

    it('a referrer manifest answered with non-JSON bytes that still match its digest: MALFORMED_MANIFEST', async () => {
      // distribution refuses to store a non-JSON manifest (400 MANIFEST_INVALID), so the bytes come from the
      // proxy; they hash to the listed digest, as a registry that accepted them would serve them.
      const { subject, good } = await subjectWithGoodBundle();
      const body = Buffer.from('this is not a manifest');
      const bad = { mediaType: OCI_MANIFEST, digest: sha256(body), size: body.length };
      proxy.setFaults([
        {
          path: tagPath(digestTag(subject.digest)),
          action: {
            kind: 'replace',
            body: Buffer.from(
              JSON.stringify({
                schemaVersion: 2,
                mediaType: OCI_INDEX,
                manifests: [good, { ...bad, artifactType: SIGSTORE_BUNDLE_V03 }],
              }),
            ),
            dropDigestHeader: true,
          },
        },
        { path: tagPath(bad.digest), action: { kind: 'replace', body, dropDigestHeader: true } },
      ]);
      await expectSkipped(subject, bad, 'MALFORMED_MANIFEST');
    });

    it('a referrer manifest whose served bytes do not match its digest still fails the lookup', async () => {
      const { subject, good } = await subjectWithGoodBundle();
      proxy.setFaults([{ path: tagPath(good.digest), action: { kind: 'corrupt' } }]);
      await rejectsWithCode(client.attachments(ref, subject.digest), 'DIGEST_MISMATCH');
    });

    it('a 503 storm on one referrer manifest still fails the lookup (UNAVAILABLE)', async () => {
      const { subject, good } = await subjectWithGoodBundle();
      proxy.setFaults([{ path: tagPath(good.digest), action: { kind: 'status', status: 503 } }]);
      await rejectsWithCode(client.attachments(ref, subject.digest), 'UNAVAILABLE');
    });

    it('an unexpected status for one referrer manifest, or a truncated bundle blob, still fails the lookup', async () => {
      const { subject, good } = await subjectWithGoodBundle();
      proxy.setFaults([{ path: tagPath(good.digest), action: { kind: 'status', status: 400 } }]);
      await rejectsWithCode(client.attachments(ref, subject.digest), 'BAD_RESPONSE');
      const manifest = JSON.parse(
        (await rawManifest(registry.url, 'team/app', good.digest)).bytes.toString(),
      ) as { layers: Descriptor[] };
      const blob = manifest.layers[0];
      assert.ok(blob);
      proxy.setFaults([{ path: new RegExp(`/blobs/${blob.digest}$`), action: { kind: 'truncate' } }]);
      const fresh = testClient();
      try {
        await rejectsWithCode(fresh.attachments(ref, subject.digest), 'UNAVAILABLE');
      } finally {
        fresh.close();
      }
    });

    it('a referrers listing that is not an index still fails the lookup (BAD_RESPONSE)', async () => {
      const { subject } = await subjectWithGoodBundle();
      serveTag(digestTag(subject.digest), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: 'nope' });
      await rejectsWithCode(client.attachments(ref, subject.digest), 'BAD_RESPONSE');
    });
  });

  describe('token service answers', () => {
    let realm: http.Server;
    let answer: (res: http.ServerResponse) => void = (res) => res.writeHead(500).end();
    before(async () => {
      realm = http.createServer((_req, res) => answer(res));
      await new Promise<void>((resolve) => realm.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      realm.closeAllConnections();
      await new Promise<void>((resolve) => realm.close(() => resolve()));
    });
    const challenge = (): void => {
      const port = (realm.address() as { port: number }).port;
      proxy.setFaults([
        {
          path: /manifests/,
          action: {
            kind: 'status',
            status: 401,
            headers: { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="s"` },
          },
        },
      ]);
    };
    const tokenCases: [string, (res: http.ServerResponse) => void, string][] = [
      ['non-JSON', (res) => res.writeHead(200).end('<html>'), 'BAD_RESPONSE'],
      ['JSON without a token', (res) => res.writeHead(200).end('{"expires_in":60}'), 'BAD_RESPONSE'],
      [
        'a token with a newline (header injection)',
        (res) => res.writeHead(200).end('{"token":"a\\r\\nX-Evil: 1"}'),
        'BAD_RESPONSE',
      ],
      ['404', (res) => res.writeHead(404).end(), 'BAD_RESPONSE'],
      ['a 503 storm', (res) => res.writeHead(503).end(), 'UNAVAILABLE'],
      ['403', (res) => res.writeHead(403).end(), 'UNAUTHORIZED'],
    ];
    for (const [what, handler, code] of tokenCases) {
      it(`${what}: ${code}`, async () => {
        answer = handler;
        challenge();
        const c = testClient({
          credentials: fixedCredentials(proxy.host, { kind: 'basic', username: 'u', password: 'p' }),
        });
        try {
          await rejectsWithCode(c.resolve(`${proxy.host}/team/app:v1`), code);
        } finally {
          c.close();
        }
      });
    }

    it('a valid token the registry still refuses: UNAUTHORIZED after one retry, no loop', async () => {
      answer = (res) => res.writeHead(200).end('{"token":"t0k3n","expires_in":300}');
      challenge();
      const c = testClient({
        credentials: fixedCredentials(proxy.host, { kind: 'basic', username: 'u', password: 'p' }),
      });
      try {
        await rejectsWithCode(c.resolve(`${proxy.host}/team/app:v1`), 'UNAUTHORIZED');
        assert.equal(proxy.seen.length, 2);
        assert.equal(proxy.seen[1]?.authorization, 'Bearer t0k3n');
      } finally {
        c.close();
      }
    });
  });
});
