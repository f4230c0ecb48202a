import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildImage, buildIndex, type OciImage } from '../../cli/oci/image';
import { OciWriteError } from '../../cli/oci/errors';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { parseJson, rawBlob, rawManifest, sha256 } from '../support/raw-distribution';

interface ManifestJson {
  mediaType: string;
  config: { digest: string; mediaType: string; size: number };
  layers: { digest: string; mediaType: string; size: number }[];
}

describe('test bed: image factory and registry push', () => {
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
  });

  it('builds the same digest from the same seed and a different one from another seed', () => {
    const a = buildImage({ seed: 'alpha' });
    assert.equal(buildImage({ seed: 'alpha' }).digest, a.digest);
    assert.notEqual(buildImage({ seed: 'beta' }).digest, a.digest);
    assert.notEqual(buildImage({ seed: 'alpha', format: 'docker' }).digest, a.digest);
  });

  it('builds real gzip tar layers whose sha256 are the config diff_ids', () => {
    const img = buildImage({ seed: 'layers', layerCount: 2, layerBytes: 3000 });
    const config = parseJson<{ rootfs: { diff_ids: string[] }; os: string; architecture: string }>(
      img.config.data,
    );
    assert.deepEqual([config.os, config.architecture], ['linux', 'amd64']);
    assert.equal(img.layers.length, 2);
    img.layers.forEach((layer, i) => {
      const tar = gunzipSync(layer.data);
      assert.equal(sha256(tar), config.rootfs.diff_ids[i]);
      assert.equal(sha256(layer.data), layer.digest);
      // GNU tar, an independent reader, must list the files
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-tar-'));
      try {
        fs.writeFileSync(path.join(dir, 'l.tar'), tar);
        const listed = spawnSync('tar', ['-tvf', path.join(dir, 'l.tar')], { encoding: 'utf8' });
        assert.equal(listed.status, 0, listed.stderr);
        assert.match(listed.stdout, new RegExp(`trustops/${i}/data\\.bin`));
        assert.match(listed.stdout, / 3000 /);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  for (const format of ['oci', 'docker'] as const) {
    it(`pushes a ${format} image and reads it back by digest with matching bytes and digest`, async () => {
      const img = buildImage({ seed: `push-${format}`, format, layerCount: 2 });
      const pusher = new RegistryPusher(reg.url);
      const desc = await pushImage(pusher, 'app/single', img, `v-${format}`);
      assert.deepEqual(desc, { mediaType: img.mediaType, digest: img.digest, size: img.manifest.length });

      const byDigest = await rawManifest(reg.url, 'app/single', img.digest);
      assert.equal(byDigest.status, 200);
      assert.ok(byDigest.bytes.equals(img.manifest), 'manifest bytes differ');
      assert.equal(byDigest.computedDigest, img.digest);
      assert.equal(byDigest.headerDigest, img.digest);
      assert.equal(byDigest.contentType, img.mediaType);

      const byTag = await rawManifest(reg.url, 'app/single', `v-${format}`);
      assert.equal(byTag.computedDigest, img.digest);

      const manifest = parseJson<ManifestJson>(byDigest.bytes);
      for (const d of [manifest.config, ...manifest.layers]) {
        const blob = await rawBlob(reg.url, 'app/single', d.digest);
        assert.equal(blob.status, 200);
        assert.equal(sha256(blob.bytes), d.digest);
        assert.equal(blob.bytes.length, d.size);
      }
    });
  }

  for (const format of ['oci', 'docker'] as const) {
    it(`pushes a multi-platform ${format} index whose children resolve by digest`, async () => {
      const platforms = [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ];
      const images: OciImage[] = platforms.map((platform) => buildImage({ seed: 'multi', format, platform }));
      assert.notEqual(images[0]?.digest, images[1]?.digest);
      const index = buildIndex(images, { format });
      await pushImage(new RegistryPusher(reg.url), 'app/multi', index, `multi-${format}`);

      const top = await rawManifest(reg.url, 'app/multi', `multi-${format}`);
      assert.equal(top.status, 200);
      assert.ok(top.bytes.equals(index.manifest));
      assert.equal(top.headerDigest, index.digest);
      assert.equal(
        top.contentType,
        format === 'oci'
          ? 'application/vnd.oci.image.index.v1+json'
          : 'application/vnd.docker.distribution.manifest.list.v2+json',
      );
      const list = parseJson<{
        manifests: { digest: string; size: number; platform: { architecture: string } }[];
      }>(top.bytes);
      assert.deepEqual(
        list.manifests.map((m) => m.platform.architecture),
        ['amd64', 'arm64'],
      );
      for (const child of list.manifests) {
        const got = await rawManifest(reg.url, 'app/multi', child.digest);
        assert.equal(got.status, 200);
        assert.equal(got.computedDigest, child.digest);
        assert.equal(got.bytes.length, child.size);
      }
    });
  }

  it('refuses to push a blob whose bytes do not match its digest', async () => {
    const img = buildImage({ seed: 'tampered' });
    const layer = img.layers[0];
    assert.ok(layer);
    const tampered = { ...layer, data: Buffer.concat([layer.data, Buffer.from([0])]) };
    await assert.rejects(
      new RegistryPusher(reg.url).putBlob('app/tampered', tampered),
      (e: unknown) => e instanceof OciWriteError && e.code === 'DIGEST_MISMATCH',
    );
  });

  it('refuses a manifest pushed under a digest that is not its own', async () => {
    const a = buildImage({ seed: 'a' });
    const b = buildImage({ seed: 'b' });
    await assert.rejects(
      new RegistryPusher(reg.url).putManifest('app/x', a.manifest, a.mediaType, b.digest),
      (e: unknown) => e instanceof OciWriteError && e.code === 'DIGEST_MISMATCH',
    );
  });
});

describe('test bed: pushing to a Basic-auth registry', () => {
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry({ auth: { kind: 'basic', username: 'alice', password: 's3cret' } });
  });
  after(async () => {
    await reg?.stop();
  });

  it('pushes with the right password', async () => {
    const img = buildImage({ seed: 'basic-ok' });
    await pushImage(
      new RegistryPusher(reg.url, { username: 'alice', password: 's3cret' }),
      'app/b',
      img,
      'ok',
    );
    const auth = 'Basic ' + Buffer.from('alice:s3cret').toString('base64');
    const got = await rawManifest(reg.url, 'app/b', 'ok', auth);
    assert.equal(got.computedDigest, img.digest);
  });

  it('fails with AUTH_REJECTED on a wrong password and AUTH_UNSUPPORTED without credentials', async () => {
    const img = buildImage({ seed: 'basic-bad' });
    await assert.rejects(
      pushImage(new RegistryPusher(reg.url, { username: 'alice', password: 'nope' }), 'app/b', img, 'bad'),
      (e: unknown) => e instanceof OciWriteError && e.code === 'AUTH_REJECTED',
    );
    await assert.rejects(
      pushImage(new RegistryPusher(reg.url), 'app/b', img, 'bad'),
      (e: unknown) => e instanceof OciWriteError && e.code === 'AUTH_UNSUPPORTED',
    );
  });
});
