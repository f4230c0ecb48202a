import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { attachBundleReferrer, digestTag, inTotoStatement } from '../../cli/oci/attach';
import { blobOf } from '../../cli/oci/digest';
import { buildArtifactManifest, buildImage, buildIndex } from '../../cli/oci/image';
import { OCI_INDEX, SIGSTORE_BUNDLE_V03 } from '../../cli/oci/media-types';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { parseReference } from '../../policy-pack/registry/reference';
import type { ImageReference, RegistryClient } from '../../policy-pack/registry/types';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { FaultProxy } from './support/fault-proxy';
import { fixedCredentials, rejectsWithCode, testClient } from './support/env';

/** Structurally malformed answers: each is refused with a code, never half-read into a result. */
describe('registry/malformed: manifests, descriptors and token answers that do not hold together', function () {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let client: RegistryClient;
  let ref: ImageReference;
  let imageDigest: string;
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
    it(`a cosign .sig manifest with ${what}: BAD_RESPONSE`, async () => {
      serveTag(`${digestTag(imageDigest, '.sig')}`.replace(/\./g, '\\.'), {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: layer,
        layers: [bad],
      });
      await rejectsWithCode(client.attachments(ref, imageDigest), 'BAD_RESPONSE');
    });
  }

  it('a layer digest that is not sha256 is refused before it becomes a request path', async () => {
    serveTag(digestTag(imageDigest, '.sig').replace(/\./g, '\\.'), {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: layer,
      layers: [{ ...layer, digest: 'sha256:../../../v2/other/manifests/x' }],
    });
    await rejectsWithCode(client.attachments(ref, imageDigest), 'BAD_RESPONSE');
    assert.ok(!proxy.seen.some((s) => s.path.includes('..')));
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

  it('a Sigstore bundle referrer without a bundle layer: BAD_RESPONSE (fail closed)', async () => {
    const pusher = new RegistryPusher(registry.url);
    const subject = await pushImage(pusher, 'team/app', buildImage({ seed: 'no-bundle-layer' }), 'nbl');
    const artifact = buildArtifactManifest({
      artifactType: SIGSTORE_BUNDLE_V03,
      subject,
      layers: [blobOf('text/plain', Buffer.from('not a bundle'))],
    });
    const pushed = await pushImage(pusher, 'team/app', artifact);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ ...pushed, artifactType: SIGSTORE_BUNDLE_V03 }],
      }),
    );
    await pusher.putManifest('team/app', index, OCI_INDEX, digestTag(subject.digest));
    await rejectsWithCode(client.attachments(ref, subject.digest), 'BAD_RESPONSE');
    // Sanity: a proper bundle referrer on the same registry is read.
    const good = await pushImage(pusher, 'team/app', buildImage({ seed: 'good-bundle' }), 'gb');
    const statement = inTotoStatement({
      subjects: [{ name: 'g', digest: { sha256: good.digest.slice(7) } }],
      predicateType: 'p',
      predicate: {},
    });
    await attachBundleReferrer(
      pusher,
      'team/app',
      good,
      Buffer.from(
        JSON.stringify({
          dsseEnvelope: {
            payload: statement.toString('base64'),
            payloadType: 'application/vnd.in-toto+json',
            signatures: [],
          },
        }),
      ),
    );
    assert.equal((await client.attachments(ref, good.digest)).bundles.length, 1);
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
