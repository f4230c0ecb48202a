import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { digestTag } from '../../cli/oci/attach';
import { sha256Digest } from '../../cli/oci/digest';
import { buildImage } from '../../cli/oci/image';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { parseReference } from '../../policy-pack/registry/reference';
import type { ImageReference, RegistryClient, RegistryClientOptions } from '../../policy-pack/registry/types';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { rawManifest } from '../support/raw-distribution';
import { FaultProxy, RecordingOrigin, type Fault } from './support/fault-proxy';
import { fixedCredentials, rejectsWithCode, testClient } from './support/env';
import { pushSignedImage, type SignedImage } from './support/signed-image';

/**
 * The registry lies, stalls, storms and redirects; every case must end in a coded error within the
 * configured time (each test's mocha timeout is a small multiple of it), never in a wrong answer or a hang.
 */
describe('registry/faults: a lying registry behind a fault-injecting proxy', function () {
  const REQUEST_MS = 400;
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let signed: SignedImage;
  let other: Buffer;
  let client: RegistryClient;
  let ref: ImageReference;

  const make = (opts: RegistryClientOptions = {}): RegistryClient => {
    client.close();
    client = testClient({ timeouts: { connectMs: REQUEST_MS, requestMs: REQUEST_MS }, ...opts });
    return client;
  };
  const manifestPath = (reference: string): RegExp =>
    new RegExp(`^/v2/team/app/manifests/${reference.replace(/[.+]/g, '\\$&')}$`);
  const blobPath = (digest: string): RegExp => new RegExp(`^/v2/team/app/blobs/${digest}$`);
  const faults = (...list: Fault[]): void => proxy.setFaults(list);

  before(async () => {
    registry = await startRegistry();
    const pusher = new RegistryPusher(registry.url);
    signed = await pushSignedImage(pusher, {
      repo: 'team/app',
      seed: 'faults',
      name: 'faults/app',
      tag: 'v1',
      cosignSignatures: 1,
      cosignAttestations: 2,
      bundles: 2,
    });
    other = buildImage({ seed: 'faults-other' }).manifest;
    await pushImage(pusher, 'team/app', buildImage({ seed: 'faults-other' }), 'other');
    proxy = await new FaultProxy(registry.url).start();
    ref = parseReference(`${proxy.host}/team/app`);
  });
  after(async () => {
    await proxy?.close();
    await registry?.stop();
  });
  beforeEach(() => {
    proxy.setFaults([]);
    client = testClient({ timeouts: { connectMs: REQUEST_MS, requestMs: REQUEST_MS } });
  });
  afterEach(() => client.close());

  it('honest proxy: the same answers as the registry (baseline for every fault below)', async () => {
    const found = await client.attachments(ref, signed.descriptor.digest);
    assert.equal(found.signatures.length, 1);
    assert.equal(found.attestations.length, 2);
    assert.equal(found.bundles.length, 2);
  });

  describe('corrupted bodies and wrong content', () => {
    it('a corrupted manifest fetched by digest is DIGEST_MISMATCH', async () => {
      faults({ path: manifestPath(signed.descriptor.digest), action: { kind: 'corrupt' } });
      await rejectsWithCode(client.resolve({ ...ref, digest: signed.descriptor.digest }), 'DIGEST_MISMATCH');
    });

    it('a corrupted manifest fetched by tag disagrees with Docker-Content-Digest: DIGEST_MISMATCH', async () => {
      faults({ path: manifestPath('v1'), action: { kind: 'corrupt' } });
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'DIGEST_MISMATCH');
    });

    it('another valid manifest served for a digest is DIGEST_MISMATCH, not that manifest', async () => {
      faults({ path: manifestPath(signed.descriptor.digest), action: { kind: 'replace', body: other } });
      await rejectsWithCode(client.resolve({ ...ref, digest: signed.descriptor.digest }), 'DIGEST_MISMATCH');
    });

    it('a corrupted signature payload blob is DIGEST_MISMATCH for the whole lookup', async () => {
      const sig = await rawManifest(registry.url, 'team/app', digestTag(signed.descriptor.digest, '.sig'));
      const layer =
        (JSON.parse(sig.bytes.toString()) as { layers: { digest: string }[] }).layers[0]?.digest ?? '';
      faults({ path: blobPath(layer), action: { kind: 'corrupt' } });
      await rejectsWithCode(client.attachments(ref, signed.descriptor.digest), 'DIGEST_MISMATCH');
    });

    it('same-length different bytes for a bundle blob is DIGEST_MISMATCH', async () => {
      const fallback = await rawManifest(registry.url, 'team/app', digestTag(signed.descriptor.digest));
      const referrer =
        (JSON.parse(fallback.bytes.toString()) as { manifests: { digest: string }[] }).manifests[0]?.digest ??
        '';
      const manifest = await rawManifest(registry.url, 'team/app', referrer);
      const layer = (JSON.parse(manifest.bytes.toString()) as { layers: { digest: string; size: number }[] })
        .layers[0];
      assert.ok(layer);
      faults({
        path: blobPath(layer.digest),
        action: { kind: 'replace', body: Buffer.alloc(layer.size, 0x7b) },
      });
      await rejectsWithCode(client.attachments(ref, signed.descriptor.digest), 'DIGEST_MISMATCH');
    });

    it('a tag answered with non-JSON and no digest header is BAD_RESPONSE', async () => {
      faults({
        path: manifestPath('v1'),
        action: { kind: 'replace', body: Buffer.from('<html>hi</html>'), dropDigestHeader: true },
      });
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'BAD_RESPONSE');
    });

    it('a schema-1 manifest is UNSUPPORTED_MEDIA_TYPE', async () => {
      const schema1 = Buffer.from(
        JSON.stringify({ schemaVersion: 1, name: 'team/app', tag: 'v1', fsLayers: [] }),
      );
      faults({
        path: manifestPath('v1'),
        action: { kind: 'replace', body: schema1, dropDigestHeader: true },
      });
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('a manifest served under a media type it does not declare is BAD_RESPONSE', async () => {
      faults({
        path: manifestPath(signed.descriptor.digest),
        action: {
          kind: 'replace',
          body: signed.image.manifest,
          contentType: 'application/vnd.oci.image.index.v1+json',
        },
      });
      await rejectsWithCode(client.resolve({ ...ref, digest: signed.descriptor.digest }), 'BAD_RESPONSE');
    });
  });

  describe('stalls past the timeout', () => {
    it('no answer at all ends in TIMEOUT', async function () {
      this.timeout(REQUEST_MS * 8);
      faults({ path: manifestPath(signed.descriptor.digest), action: { kind: 'stall' } });
      await rejectsWithCode(client.resolve({ ...ref, digest: signed.descriptor.digest }), 'TIMEOUT');
    });

    it('headers then half a body, then silence, ends in TIMEOUT', async function () {
      this.timeout(REQUEST_MS * 8);
      faults({ path: /\/blobs\//, action: { kind: 'stall-body' } });
      await rejectsWithCode(client.attachments(ref, signed.descriptor.digest), 'TIMEOUT');
    });

    it('a TLS endpoint that accepts the connection and never handshakes ends in TIMEOUT (connect timeout)', async function () {
      this.timeout(REQUEST_MS * 8);
      const sockets: net.Socket[] = [];
      const silent = net.createServer((s) => sockets.push(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as net.AddressInfo).port;
      try {
        const c = make({
          mirrors: { 'mirror.test': `https://127.0.0.1:${port}` },
          timeouts: { connectMs: REQUEST_MS, requestMs: REQUEST_MS * 4 },
        });
        await rejectsWithCode(c.resolve('mirror.test/team/app:v1'), 'TIMEOUT');
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });

  describe('500 and 429 storms', () => {
    it('a 500 storm is retried the configured number of times, then UNAVAILABLE', async () => {
      faults({ path: manifestPath('v1'), action: { kind: 'status', status: 500 } });
      make({ retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 50 } });
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'UNAVAILABLE');
      assert.equal(proxy.seen.length, 4);
      assert.equal(client.stats().retries, 3);
    });

    it('a 429 storm ends in RATE_LIMITED', async () => {
      faults({
        path: manifestPath('v1'),
        action: { kind: 'status', status: 429, headers: { 'retry-after': '0' } },
      });
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'RATE_LIMITED');
      assert.equal(proxy.seen.length, 3);
    });

    it('a Retry-After longer than the configured maximum fails at once with RATE_LIMITED', async () => {
      faults({
        path: manifestPath('v1'),
        action: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } },
      });
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'RATE_LIMITED');
      assert.equal(proxy.seen.length, 1);
    });

    it('a transient 503 and a 429 with Retry-After are ridden out, waiting as asked', async function () {
      this.timeout(10_000);
      faults(
        { path: manifestPath('v1'), action: { kind: 'status', status: 503 }, times: 1 },
        {
          path: manifestPath('v1'),
          action: { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
          times: 1,
        },
      );
      const r = await client.resolve({ ...ref, tag: 'v1' });
      assert.equal(r.digest, signed.descriptor.digest);
      const [, second, third] = proxy.seen;
      assert.ok(second && third);
      assert.ok(third.at - second.at >= 990, `Retry-After: 1 honoured (waited ${third.at - second.at} ms)`);
    });

    it('a truncated body (connection dropped mid-way) is retried, then UNAVAILABLE', async () => {
      faults({ path: manifestPath(signed.descriptor.digest), action: { kind: 'truncate' } });
      await rejectsWithCode(client.resolve({ ...ref, digest: signed.descriptor.digest }), 'UNAVAILABLE');
      assert.equal(proxy.seen.length, 3);
    });
  });

  describe('oversized bodies', () => {
    for (const declareLength of [true, false]) {
      it(`a 5 MiB manifest (${declareLength ? 'declared' : 'streamed without length'}) is TOO_LARGE under the 4 MiB default`, async () => {
        faults({
          path: manifestPath('v1'),
          action: { kind: 'oversize', bytes: 5 * 1024 * 1024, declareLength },
        });
        await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'TOO_LARGE');
      });
    }

    it('a blob longer than its descriptor is refused while streaming', async function () {
      // What is under test is the size limit, not the clock: a loaded machine streams the 40 MiB through the
      // proxy slower than REQUEST_MS, and the request timeout must not answer first.
      this.timeout(60_000);
      make({ timeouts: { connectMs: REQUEST_MS, requestMs: 30_000 } });
      faults({
        path: /\/blobs\//,
        action: { kind: 'oversize', bytes: 40 * 1024 * 1024, declareLength: false },
      });
      await rejectsWithCode(client.attachments(ref, signed.descriptor.digest), 'TOO_LARGE');
    });

    it('the manifest limit is configurable', async () => {
      make({ limits: { manifestBytes: 100 } });
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'TOO_LARGE');
    });
  });

  describe('redirects', () => {
    it('to a non-loopback plain-HTTP host: INSECURE_TRANSPORT, nothing sent there', async () => {
      faults({ path: /\/blobs\//, action: { kind: 'redirect', location: 'http://blobs.example.com/' } });
      await rejectsWithCode(client.attachments(ref, signed.descriptor.digest), 'INSECURE_TRANSPORT');
    });

    it('a redirect loop ends in TOO_MANY_REDIRECTS', async () => {
      faults({
        path: manifestPath('v1'),
        action: { kind: 'redirect', location: `${proxy.url}/v2/team/app/manifests/v1` },
      });
      await rejectsWithCode(client.resolve({ ...ref, tag: 'v1' }), 'TOO_MANY_REDIRECTS');
    });
  });

  describe('a referrers API that exists (emulated by the proxy)', () => {
    it('is used instead of the tag schema, and artifactType is filtered even when the registry ignores it', async () => {
      const fallback = await rawManifest(registry.url, 'team/app', digestTag(signed.descriptor.digest));
      const index = JSON.parse(fallback.bytes.toString()) as { manifests: Record<string, unknown>[] };
      index.manifests.push({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${'c'.repeat(64)}`,
        size: 10,
        artifactType: 'application/example',
      });
      faults({
        path: new RegExp(`^/v2/team/app/referrers/${signed.descriptor.digest}`),
        action: {
          kind: 'replace',
          body: Buffer.from(JSON.stringify(index)),
          contentType: 'application/vnd.oci.image.index.v1+json',
        },
      });
      // this client's own requests: the proxy's record can also hold late requests of an earlier test's
      // client (a rejected call's parallel branches), which made the "no fallback" check flaky under load
      const sent: string[] = [];
      client.close();
      client = testClient({
        timeouts: { connectMs: REQUEST_MS, requestMs: REQUEST_MS },
        log: (e) => (e.event === 'request' && e.path ? sent.push(e.path) : undefined),
      });
      const store = client.storeFor(proxy.host);
      const all = await store.listReferrers('team/app', signed.descriptor.digest);
      assert.equal(all.length, 3);
      const bundles = await store.listReferrers(
        'team/app',
        signed.descriptor.digest,
        'application/vnd.dev.sigstore.bundle.v0.3+json',
      );
      assert.equal(bundles.length, 2);
      assert.ok(
        proxy.seen.some((s) =>
          s.path.includes('artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson'),
        ),
      );
      assert.ok(
        sent.some((p) => p.includes('/referrers/')),
        'the referrers API was asked',
      );
      assert.ok(
        !sent.some((p) => p.endsWith(`/manifests/${digestTag(signed.descriptor.digest)}`)),
        'no fallback',
      );
      const found = await client.attachments(ref, signed.descriptor.digest);
      assert.equal(found.bundles.length, 2);
      assert.deepEqual(
        found.unsigned.map((u) => u.descriptor.artifactType),
        ['application/example'],
      );
    });

    it('a failing referrers API is an error, not a silent fallback to "nothing attached"', async () => {
      faults({ path: /\/referrers\//, action: { kind: 'status', status: 500 } });
      await rejectsWithCode(client.attachments(ref, signed.descriptor.digest), 'UNAVAILABLE');
    });
  });
});

describe('registry/faults: redirects to another host carry no credentials', function () {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let origin: RecordingOrigin;
  let image: { digest: string; layer: { digest: string; data: Buffer } };
  const credential = { kind: 'basic' as const, username: 'alice', password: 's3cret-Pa55' };

  before(async () => {
    registry = await startRegistry({
      auth: { kind: 'basic', username: credential.username, password: credential.password },
    });
    const pusher = new RegistryPusher(registry.url, {
      username: credential.username,
      password: credential.password,
    });
    const signedImage = await pushSignedImage(pusher, {
      repo: 'team/app',
      seed: 'redirect',
      name: 'r/app',
      cosignSignatures: 1,
    });
    const payload = signedImage.signaturePayloads[0];
    assert.ok(payload);
    image = {
      digest: signedImage.descriptor.digest,
      layer: { digest: sha256Digest(payload), data: payload },
    };
    proxy = await new FaultProxy(registry.url).start();
    origin = await new RecordingOrigin().start();
  });
  after(async () => {
    await proxy?.close();
    await origin?.close();
    await registry?.stop();
  });

  it('follows a blob redirect to another origin without the Authorization header', async () => {
    origin.bodies.set(`/storage/${image.layer.digest}`, image.layer.data);
    proxy.setFaults([
      {
        path: /\/blobs\//,
        action: { kind: 'redirect', location: `${origin.url}/storage/${image.layer.digest}` },
      },
    ]);
    const client = testClient({ credentials: fixedCredentials(proxy.host, credential) });
    try {
      const found = await client.attachments(parseReference(`${proxy.host}/team/app`), image.digest);
      assert.deepEqual(found.signatures[0]?.payload, image.layer.data);
      assert.ok(
        proxy.seen.some((s) => s.authorization?.startsWith('Basic ')),
        'the registry itself got the credentials',
      );
      assert.equal(origin.seen.length, 1);
      assert.equal(origin.seen[0]?.authorization, undefined, 'credentials did not follow the redirect');
    } finally {
      client.close();
    }
  });

  it('the other origin serving wrong bytes is DIGEST_MISMATCH', async () => {
    origin.bodies.set(`/storage/${image.layer.digest}`, Buffer.alloc(image.layer.data.length, 0x20));
    proxy.setFaults([
      {
        path: /\/blobs\//,
        action: { kind: 'redirect', location: `${origin.url}/storage/${image.layer.digest}` },
      },
    ]);
    const client = testClient({ credentials: fixedCredentials(proxy.host, credential) });
    try {
      const err = await rejectsWithCode(
        client.attachments(parseReference(`${proxy.host}/team/app`), image.digest),
        'DIGEST_MISMATCH',
      );
      assert.ok(!err.message.includes(credential.password));
    } finally {
      client.close();
    }
  });
});
