import * as assert from 'node:assert/strict';
import {
  addToReferrersFallback,
  attachBundleReferrer,
  digestTag,
  inTotoStatement,
} from '../../cli/oci/attach';
import { blobOf } from '../../cli/oci/digest';
import { buildArtifactManifest, buildImage, buildIndex } from '../../cli/oci/image';
import { OCI_INDEX, OCI_MANIFEST } from '../../cli/oci/media-types';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { RegistryError } from '../../policy-pack/registry/errors';
import { parseReference } from '../../policy-pack/registry/reference';
import type { RegistryClient, RegistryLogEvent } from '../../policy-pack/registry/types';
import { buildKitIndex } from '../support/buildkit';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { rejectsWithCode, testClient } from './support/env';
import { PREDICATE_TYPES, pushSignedImage, type SignedImage } from './support/signed-image';

describe('registry/distribution: reading a real registry (distribution 2.8, no referrers API)', function () {
  let registry: RunningRegistry;
  let pusher: RegistryPusher;
  let signed: SignedImage;
  let client: RegistryClient;

  before(async () => {
    registry = await startRegistry();
    pusher = new RegistryPusher(registry.url);
    signed = await pushSignedImage(pusher, {
      repo: 'team/app',
      seed: 'distribution-signed',
      name: `${registry.host}/team/app`,
      tag: 'v1',
      cosignSignatures: 1,
      cosignAttestations: 4,
      bundles: 5,
    });
  });
  after(async () => {
    await registry?.stop();
  });
  beforeEach(() => {
    client = testClient();
  });
  afterEach(() => client.close());

  describe('resolve', () => {
    it('resolves a tag to the pushed digest, once per client, with concurrent callers sharing one request', async () => {
      const ref = `${registry.host}/team/app:v1`;
      const results = await Promise.all(Array.from({ length: 20 }, () => client.resolve(ref)));
      for (const r of results) {
        assert.equal(r.digest, signed.descriptor.digest);
        assert.equal(r.reference.tag, 'v1');
        assert.equal(r.reference.digest, signed.descriptor.digest);
        assert.deepEqual(r.manifest.bytes, signed.image.manifest);
        assert.equal(r.manifest.descriptor.mediaType, OCI_MANIFEST);
      }
      assert.equal(client.stats().requests, 1);
      await client.resolve(parseReference(ref));
      assert.equal(client.stats().requests, 1, 'a tag is resolved once per run');
    });

    it('reads a digest reference and checks it', async () => {
      const r = await client.resolve(`${registry.host}/team/app@${signed.descriptor.digest}`);
      assert.equal(r.digest, signed.descriptor.digest);
      assert.equal(r.reference.tag, undefined);
      assert.equal(r.manifest.descriptor.size, signed.image.manifest.length);
    });

    it('answers NOT_FOUND for a missing tag, digest or repository', async () => {
      await rejectsWithCode(client.resolve(`${registry.host}/team/app:missing`), 'NOT_FOUND');
      await rejectsWithCode(
        client.resolve(`${registry.host}/team/app@sha256:${'0'.repeat(64)}`),
        'NOT_FOUND',
      );
      await rejectsWithCode(client.resolve(`${registry.host}/nobody/here:v1`), 'NOT_FOUND');
    });

    it('refuses a garbage reference with INVALID_REFERENCE before any request', async () => {
      await rejectsWithCode(client.resolve('Not A Reference'), 'INVALID_REFERENCE');
      assert.equal(client.stats().requests, 0);
    });
  });

  describe('manifests and platforms', () => {
    for (const format of ['oci', 'docker'] as const) {
      it(`${format} index: lists platform manifests and selects one`, async () => {
        const amd = buildImage({
          seed: `multi-${format}`,
          format,
          platform: { os: 'linux', architecture: 'amd64' },
        });
        const arm = buildImage({
          seed: `multi-${format}`,
          format,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        });
        const index = buildIndex([amd, arm], { format });
        await pushImage(pusher, 'team/multi', index, format);
        const resolved = await client.resolve(`${registry.host}/team/multi:${format}`);
        assert.equal(resolved.digest, index.digest);
        assert.equal(resolved.manifest.descriptor.mediaType, index.mediaType);
        const platforms = await client.platformManifests(resolved.reference, resolved.digest);
        assert.deepEqual(
          platforms.map((p) => [p.descriptor.digest, p.platform?.architecture]),
          [
            [amd.digest, 'amd64'],
            [arm.digest, 'arm64'],
          ],
        );
        const picked = await client.selectPlatform(resolved.reference, resolved.digest, {
          os: 'linux',
          architecture: 'arm64',
        });
        assert.equal(picked.digest, arm.digest);
        assert.deepEqual(picked.manifest.bytes, arm.manifest);
        await rejectsWithCode(
          client.selectPlatform(resolved.reference, resolved.digest, {
            os: 'windows',
            architecture: 'amd64',
          }),
          'PLATFORM_NOT_FOUND',
        );
      });
    }

    it('a single image has no platform list and selects itself', async () => {
      const ref = parseReference(`${registry.host}/team/app`);
      assert.deepEqual(await client.platformManifests(ref, signed.descriptor.digest), []);
      const picked = await client.selectPlatform(ref, signed.descriptor.digest, {
        os: 'linux',
        architecture: 'amd64',
      });
      assert.equal(picked.digest, signed.descriptor.digest);
    });
  });

  describe('attachments', () => {
    it('finds the cosign signature, 4 attestations and 5 Sigstore bundles behind the tag-schema fallback', async () => {
      const events: RegistryLogEvent[] = [];
      client = testClient({ log: (e) => events.push(e) });
      const ref = parseReference(`${registry.host}/team/app`);
      const found = await client.attachments(ref, signed.descriptor.digest);
      assert.equal(found.digest, signed.descriptor.digest);
      assert.deepEqual(
        found.signatures.map((s) => s.payload),
        signed.signaturePayloads,
      );
      assert.ok(found.signatures[0]?.annotations['dev.cosignproject.cosign/signature']);
      assert.deepEqual(
        found.attestations.map((a) => a.payload),
        signed.attestationEnvelopes,
      );
      assert.deepEqual(
        found.attestations.map((a) => a.annotations.predicateType),
        PREDICATE_TYPES.slice(0, 4),
      );
      assert.equal(found.bundles.length, 5);
      assert.deepEqual(
        found.bundles.map((b) => b.bundle.toString()).sort(),
        signed.bundles.map((b) => b.toString()).sort(),
      );
      for (const b of found.bundles) {
        assert.equal(b.descriptor.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
        assert.ok(b.descriptor.annotations?.['dev.sigstore.bundle.predicateType']);
      }
      assert.deepEqual(found.unsigned, []);
      assert.ok(
        events.some((e) => e.event === 'referrers-fallback'),
        'the registry has no referrers API: the tag schema was used',
      );
      assert.ok(!events.some((e) => JSON.stringify(e).includes('authorization')));
    });

    it('answers repeated and concurrent lookups from the cache', async () => {
      const ref = parseReference(`${registry.host}/team/app`);
      await Promise.all(Array.from({ length: 50 }, () => client.attachments(ref, signed.descriptor.digest)));
      const once = client.stats().requests;
      await client.attachments(ref, signed.descriptor.digest);
      assert.equal(client.stats().requests, once);
      assert.ok(client.stats().cacheHits >= 50);
    });

    it('many resources over a few images cost a few images worth of requests', async () => {
      const images = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          pushSignedImage(pusher, {
            repo: 'team/many',
            seed: `many-${i}`,
            name: 'many',
            tag: `v${i}`,
            cosignSignatures: 1,
            bundles: 1,
          }),
        ),
      );
      // The cost of one image seen alone, by a fresh client (referrers API probe included).
      const one = testClient();
      let single: number;
      try {
        const r = await one.resolve(`${registry.host}/team/many:v0`);
        await one.attachments(r.reference, r.digest);
        single = one.stats().requests;
      } finally {
        one.close();
      }
      // 200 "resources", 50 per image, all at once: the pack's shape.
      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const r = await client.resolve(`${registry.host}/team/many:v${i % images.length}`);
          return client.attachments(r.reference, r.digest);
        }),
      );
      assert.ok(results.every((a) => a.signatures.length === 1 && a.bundles.length === 1));
      assert.ok(
        client.stats().requests <= images.length * single,
        `${client.stats().requests} requests, ${single} for one image`,
      );
    });

    it('probes the referrers API once per registry, then goes straight to the tag schema', async () => {
      const other = await pushSignedImage(pusher, {
        repo: 'team/other',
        seed: 'other',
        name: `${registry.host}/team/other`,
        bundles: 1,
      });
      const client2 = testClient({ discovery: { cosignTags: [], referrers: true } });
      try {
        await client2.attachments(parseReference(`${registry.host}/team/app`), signed.descriptor.digest);
        const first = client2.stats().requests; // 1 API probe + 1 fallback index + 5 manifests + 5 blobs + subject
        assert.equal(first, 13);
        const again = await client2.attachments(
          parseReference(`${registry.host}/team/other`),
          other.descriptor.digest,
        );
        assert.equal(again.bundles.length, 1);
        assert.equal(
          client2.stats().requests - first,
          4,
          'fallback index, 1 manifest, 1 blob, subject manifest',
        );
      } finally {
        client2.close();
      }
    });

    it('reports an image without attachments as empty, not as an error', async () => {
      const bare = await pushImage(pusher, 'team/bare', buildImage({ seed: 'bare' }), 'v1');
      const found = await client.attachments(parseReference(`${registry.host}/team/bare`), bare.digest);
      assert.deepEqual(
        [found.signatures, found.attestations, found.bundles, found.unsigned],
        [[], [], [], []],
      );
    });

    it('reports cosign .sbom layers and non-bundle referrers as unsigned evidence', async () => {
      const img = await pushImage(pusher, 'team/sbom', buildImage({ seed: 'sbom' }), 'v1');
      const sbom = blobOf('application/spdx+json', Buffer.from('{"spdxVersion":"SPDX-2.3"}'));
      await pushImage(
        pusher,
        'team/sbom',
        buildArtifactManifest({ layers: [sbom] }),
        digestTag(img.digest, '.sbom'),
      );
      const artifact = buildArtifactManifest({
        artifactType: 'application/vnd.cyclonedx+json',
        subject: img,
        layers: [blobOf('application/vnd.cyclonedx+json', Buffer.from('{"bomFormat":"CycloneDX"}'))],
      });
      const pushed = await pushImage(pusher, 'team/sbom', artifact);
      await addToReferrersFallback(pusher, 'team/sbom', img.digest, {
        ...pushed,
        artifactType: 'application/vnd.cyclonedx+json',
      });
      const found = await client.attachments(parseReference(`${registry.host}/team/sbom`), img.digest);
      assert.deepEqual(
        found.unsigned.map((u) => [u.source, u.descriptor.digest]).sort(),
        [
          ['cosign-sbom', sbom.digest],
          ['referrer', pushed.digest],
        ].sort(),
      );
      assert.deepEqual(found.bundles, []);
    });

    it('ignores a referrer listed for this image whose manifest names another subject', async () => {
      const victim = await pushImage(pusher, 'team/swap', buildImage({ seed: 'swap-victim' }), 'victim');
      const donor = await pushImage(pusher, 'team/swap', buildImage({ seed: 'swap-donor' }), 'donor');
      const statement = inTotoStatement({
        subjects: [{ name: 'x', digest: { sha256: 'b'.repeat(64) } }],
        predicateType: 'p',
        predicate: {},
      });
      const donorBundle = await attachBundleReferrer(
        pusher,
        'team/swap',
        donor,
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
      // The mutable fallback index of the victim now lists the donor's bundle referrer.
      await addToReferrersFallback(pusher, 'team/swap', victim.digest, donorBundle);
      const found = await client.attachments(parseReference(`${registry.host}/team/swap`), victim.digest);
      assert.deepEqual(found.bundles, []);
      const donorFound = await client.attachments(parseReference(`${registry.host}/team/swap`), donor.digest);
      assert.equal(donorFound.bundles.length, 1);
    });

    it('reports BuildKit attestation manifests inside an index as unsigned and keeps them out of the platform list', async () => {
      const image = buildImage({ seed: 'buildkit' });
      const { attestation, index: indexBytes } = buildKitIndex(image, PREDICATE_TYPES[0] ?? '', {});
      await pushImage(pusher, 'team/buildkit', image, image.digest);
      await pushImage(pusher, 'team/buildkit', attestation, attestation.digest);
      await pusher.putManifest('team/buildkit', indexBytes, OCI_INDEX, 'v1');
      const resolved = await client.resolve(`${registry.host}/team/buildkit:v1`);
      const found = await client.attachments(resolved.reference, resolved.digest);
      assert.deepEqual(
        found.unsigned.map((u) => [u.source, u.descriptor.digest, u.predicateType]),
        [['buildkit', attestation.digest, PREDICATE_TYPES[0]]],
      );
      const platforms = await client.platformManifests(resolved.reference, resolved.digest);
      assert.deepEqual(
        platforms.map((p) => p.descriptor.digest),
        [image.digest],
      );
      // The platform image selected from that index: its BuildKit attestation lives in the index.
      const picked = await client.selectPlatform(resolved.reference, resolved.digest, {
        os: 'linux',
        architecture: 'amd64',
      });
      const forImage = await client.attachments(picked.reference, picked.digest);
      assert.deepEqual(
        forImage.unsigned.map((u) => [u.source, u.descriptor.digest]),
        [['buildkit', attestation.digest]],
      );
    });

    it('an index entry labelled as a BuildKit attestation but naming a real platform stays in the platform list', async () => {
      // A runtime picks the entry by its platform, whatever its annotations say: hiding it from the
      // platform list would leave the image it runs unverified under platforms: each.
      const real = buildImage({ seed: 'disguised-real', platform: { os: 'linux', architecture: 'arm64' } });
      const disguised = buildImage({ seed: 'disguised', platform: { os: 'linux', architecture: 'amd64' } });
      const indexJson = JSON.parse(buildIndex([real]).manifest.toString()) as { manifests: unknown[] };
      indexJson.manifests.push({
        mediaType: disguised.mediaType,
        digest: disguised.digest,
        size: disguised.manifest.length,
        platform: { os: 'linux', architecture: 'amd64' },
        annotations: {
          'vnd.docker.reference.digest': real.digest,
          'vnd.docker.reference.type': 'attestation-manifest',
        },
      });
      await pushImage(pusher, 'team/disguise', real, real.digest);
      await pushImage(pusher, 'team/disguise', disguised, disguised.digest);
      await pusher.putManifest('team/disguise', Buffer.from(JSON.stringify(indexJson)), OCI_INDEX, 'v1');
      const resolved = await client.resolve(`${registry.host}/team/disguise:v1`);
      const platforms = await client.platformManifests(resolved.reference, resolved.digest);
      assert.deepEqual(
        platforms.map((p) => p.descriptor.digest).sort(),
        [real.digest, disguised.digest].sort(),
      );
      const picked = await client.selectPlatform(resolved.reference, resolved.digest, {
        os: 'linux',
        architecture: 'amd64',
      });
      assert.equal(picked.digest, disguised.digest);
    });

    it('counts a referrer listed twice in the fallback index once', async () => {
      const img = await pushImage(pusher, 'team/dup', buildImage({ seed: 'dup' }), 'v1');
      const statement = inTotoStatement({
        subjects: [{ name: 'dup', digest: { sha256: img.digest.slice(7) } }],
        predicateType: 'p',
        predicate: {},
      });
      const bundle = Buffer.from(
        JSON.stringify({
          dsseEnvelope: {
            payload: statement.toString('base64'),
            payloadType: 'application/vnd.in-toto+json',
            signatures: [],
          },
        }),
      );
      const entry = await attachBundleReferrer(pusher, 'team/dup', img, bundle);
      const index = Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry, entry] }),
      );
      await pusher.putManifest('team/dup', index, OCI_INDEX, digestTag(img.digest));
      const found = await client.attachments(parseReference(`${registry.host}/team/dup`), img.digest);
      assert.equal(found.bundles.length, 1);
    });

    it('fails closed with TOO_LARGE beyond the attachment count; skips blobs declared over the size limit', async () => {
      const ref = parseReference(`${registry.host}/team/app`);
      const fewer = testClient({
        limits: { attachments: 3 },
        discovery: { cosignTags: ['att'], referrers: false },
      });
      const requested: string[] = [];
      const smaller = testClient({
        limits: { blobBytes: 64 },
        log: (e) => (e.event === 'request' && e.path ? requested.push(e.path) : undefined),
      });
      try {
        await rejectsWithCode(fewer.attachments(ref, signed.descriptor.digest), 'TOO_LARGE');
        // A blob that declares more than the limit is one oversized item (anyone can push one): it is
        // skipped and recorded, never read and never evidence, instead of failing the whole lookup.
        const found = await smaller.attachments(ref, signed.descriptor.digest);
        assert.deepEqual(
          [found.signatures.length, found.attestations.length, found.bundles.length],
          [0, 0, 0],
        );
        const ignored = found.ignored ?? [];
        assert.equal(ignored.length, 1 + 4 + 5);
        assert.ok(ignored.every((i) => i.reason === 'TOO_LARGE'));
        assert.deepEqual([...new Set(ignored.map((i) => i.source))].sort(), [
          'cosign-att',
          'cosign-sig',
          'referrer',
        ]);
        assert.ok(requested.length > 0);
        assert.deepEqual(
          requested.filter((p) => p.includes('/blobs/')),
          [],
          'no oversized blob was requested',
        );
      } finally {
        fewer.close();
        smaller.close();
      }
    });

    it('refuses a non-digest subject', async () => {
      const err = await rejectsWithCode(
        client.attachments(parseReference(`${registry.host}/team/app`), 'v1'),
        'INVALID_REFERENCE',
      );
      assert.ok(err instanceof RegistryError);
    });
  });
});
