import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  attachBundleReferrer,
  attachCosignAttestations,
  attachCosignSignatures,
  digestTag,
  simpleSigningPayload,
} from '../../cli/oci/attach';
import { OciWriteError } from '../../cli/oci/errors';
import { buildImage, buildIndex } from '../../cli/oci/image';
import { OciLayoutWriter } from '../../cli/oci/layout';
import {
  COSIGN_LAYOUT_KIND,
  COSIGN_LAYOUT_KIND_KEY,
  DSSE_ENVELOPE,
  OCI_INDEX,
  OCI_REF_NAME,
  SIGSTORE_BUNDLE_V03,
} from '../../cli/oci/media-types';
import { createKeyPair, signBlobWithKey, signRawWithKey } from '../../cli/oci/sign-key';
import { pushImage } from '../../cli/oci/target';
import { rawManifest, sha256 } from '../support/raw-distribution';
import { startRegistry } from '../support/registry';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/**
 * Checks a layout the way the image-layout spec defines it: the marker file, index.json, and every
 * descriptor reachable from index.json present as a blob whose sha256 and size match. Returns the
 * digests reached.
 */
function assertLayoutComplete(dir: string): Set<string> {
  assert.deepEqual(readJson(path.join(dir, 'oci-layout')), { imageLayoutVersion: '1.0.0' });
  const index = readJson<{ schemaVersion: number; mediaType: string; manifests: Descriptor[] }>(
    path.join(dir, 'index.json'),
  );
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.mediaType, OCI_INDEX);
  const blobDir = path.join(dir, 'blobs', 'sha256');
  for (const name of fs.readdirSync(blobDir)) {
    assert.equal(
      sha256(fs.readFileSync(path.join(blobDir, name))),
      `sha256:${name}`,
      `blob ${name} is corrupt`,
    );
  }
  const reached = new Set<string>();
  const visit = (d: Descriptor): void => {
    if (reached.has(d.digest)) return;
    reached.add(d.digest);
    const file = path.join(blobDir, d.digest.replace(/^sha256:/, ''));
    assert.ok(fs.existsSync(file), `missing blob ${d.digest}`);
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.length, d.size, `size of ${d.digest}`);
    if (!/manifest|index/.test(d.mediaType)) return;
    const json = JSON.parse(bytes.toString()) as {
      config?: Descriptor;
      layers?: Descriptor[];
      manifests?: Descriptor[];
      subject?: Descriptor;
    };
    for (const child of [json.config, ...(json.layers ?? []), ...(json.manifests ?? []), json.subject])
      if (child) visit(child);
  };
  index.manifests.forEach(visit);
  return reached;
}

function skopeo(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('skopeo', args, { maxBuffer: 64 * 1024 * 1024 });
  return {
    status: r.status,
    stdout: r.stdout ?? Buffer.alloc(0),
    stderr: (r.stderr ?? Buffer.alloc(0)).toString(),
  };
}
const haveSkopeo = spawnSync('skopeo', ['--version']).status === 0;

describe('test bed: OCI image layout', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-layout-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('writes images, an index, cosign signatures and a bundle referrer as a complete spec layout', async () => {
    const dir = tempDir();
    const layout = new OciLayoutWriter(dir);
    const img = buildImage({ seed: 'layout', layerCount: 2 });
    const index = buildIndex([
      buildImage({ seed: 'layout-multi' }),
      buildImage({ seed: 'layout-multi', platform: { os: 'linux', architecture: 'arm64' } }),
    ]);
    await pushImage(layout, 'ignored', img, 'v1');
    await pushImage(layout, 'ignored', index, 'multi');
    const key = createKeyPair();
    const payload = simpleSigningPayload('example.com/app', img.digest);
    await attachCosignSignatures(layout, 'ignored', img.digest, [
      { payload, signature: signRawWithKey(payload, key.privateKeyPem).toString('base64') },
    ]);
    const bundle = await signBlobWithKey(payload, key);
    const referrer = await attachBundleReferrer(
      layout,
      'ignored',
      { mediaType: img.mediaType, digest: img.digest, size: img.manifest.length },
      Buffer.from(JSON.stringify(bundle)),
      SIGSTORE_BUNDLE_V03,
    );

    const reached = assertLayoutComplete(dir);
    for (const d of [
      img.digest,
      img.config.digest,
      ...img.layers.map((l) => l.digest),
      index.digest,
      ...index.images.map((i) => i.digest),
      referrer.digest,
    ]) {
      assert.ok(reached.has(d), `${d} not reachable from index.json`);
    }
    const entries = readJson<{ manifests: Descriptor[] }>(path.join(dir, 'index.json')).manifests;
    const tags = entries.map((e) => e.annotations?.[OCI_REF_NAME]).filter(Boolean);
    assert.deepEqual(
      tags.sort(),
      ['multi', digestTag(img.digest), digestTag(img.digest, '.sig'), 'v1'].sort(),
    );
    assert.equal(entries.find((e) => e.annotations?.[OCI_REF_NAME] === 'v1')?.digest, img.digest);
    // the index's children are blobs, not top-level entries; the referrer is listed (untagged)
    for (const child of index.images)
      assert.equal(
        entries.find((e) => e.digest === child.digest),
        undefined,
      );
    assert.ok(entries.some((e) => e.digest === referrer.digest && !e.annotations?.[OCI_REF_NAME]));

    // re-tagging moves the tag instead of adding a second entry
    const img2 = buildImage({ seed: 'layout-2' });
    await pushImage(layout, 'ignored', img2, 'v1');
    const after = readJson<{ manifests: Descriptor[] }>(path.join(dir, 'index.json')).manifests;
    assert.deepEqual(
      after.filter((e) => e.annotations?.[OCI_REF_NAME] === 'v1').map((e) => e.digest),
      [img2.digest],
    );
    assertLayoutComplete(dir);
  });

  it('is readable by skopeo, an independent OCI layout reader, and copies to a registry with the same digest', async function () {
    if (!haveSkopeo) {
      console.warn('      skopeo not installed: independent-reader check skipped (apt-get install skopeo)');
      this.skip();
    }
    const dir = tempDir();
    const img = buildImage({ seed: 'skopeo', format: 'oci', layerCount: 2 });
    const index = buildIndex([
      img,
      buildImage({ seed: 'skopeo', platform: { os: 'linux', architecture: 'arm64' } }),
    ]);
    const layout = new OciLayoutWriter(dir);
    await pushImage(layout, 'x', img, 'v1');
    await pushImage(layout, 'x', index, 'multi');
    const raw = skopeo(['inspect', '--raw', `oci:${dir}:v1`]);
    assert.equal(raw.status, 0, raw.stderr);
    assert.ok(raw.stdout.equals(img.manifest));
    const reg = await startRegistry();
    try {
      const copy = skopeo([
        'copy',
        '--quiet',
        '--all',
        '--dest-tls-verify=false',
        `oci:${dir}:multi`,
        `docker://${reg.host}/copied:multi`,
      ]);
      assert.equal(copy.status, 0, copy.stderr);
      const got = await rawManifest(reg.url, 'copied', 'multi');
      assert.equal(got.computedDigest, index.digest);
      const child = await rawManifest(reg.url, 'copied', img.digest);
      assert.equal(child.status, 200);
    } finally {
      await reg.stop();
    }
  });

  it('cosign-save mode: index.json entries carry cosign kind annotations and read back by tag', async () => {
    const dir = tempDir();
    const layout = new OciLayoutWriter(dir, 'cosign-save');
    const img = buildImage({ seed: 'cosign-save' });
    await pushImage(layout, 'x', img, 'latest');
    const payload = simpleSigningPayload('example.com/app', img.digest);
    const key = createKeyPair();
    const sig = await attachCosignSignatures(layout, 'x', img.digest, [
      { payload, signature: signRawWithKey(payload, key.privateKeyPem).toString('base64') },
    ]);
    const att = await attachCosignAttestations(layout, 'x', img.digest, [
      {
        envelope: Buffer.from('{"payloadType":"x","payload":"","signatures":[]}'),
        predicateType: 'https://example.com/p',
      },
    ]);
    assertLayoutComplete(dir);
    const entries = readJson<{ manifests: Descriptor[] }>(path.join(dir, 'index.json')).manifests;
    const kinds = Object.fromEntries(entries.map((e) => [e.annotations?.[COSIGN_LAYOUT_KIND_KEY], e.digest]));
    assert.deepEqual(kinds, {
      [COSIGN_LAYOUT_KIND.image]: img.digest,
      [COSIGN_LAYOUT_KIND.sigs]: sig.digest,
      [COSIGN_LAYOUT_KIND.atts]: att.digest,
    });
    assert.ok(entries.every((e) => e.annotations?.[OCI_REF_NAME] === undefined));
    const back = await layout.getManifest('x', digestTag(img.digest, '.att'));
    assert.equal(back?.digest, att.digest);
    assert.equal(
      (JSON.parse(back?.bytes.toString() ?? '{}') as { layers: Descriptor[] }).layers[0]?.mediaType,
      DSSE_ENVELOPE,
    );
    const indexed = buildIndex([buildImage({ seed: 'ci' })]);
    await pushImage(layout, 'x', indexed, 'latest');
    const kinds2 = readJson<{ manifests: Descriptor[] }>(path.join(dir, 'index.json')).manifests.map(
      (e) => e.annotations?.[COSIGN_LAYOUT_KIND_KEY],
    );
    // one subject per cosign layout: the index replaced the image
    assert.ok(kinds2.includes(COSIGN_LAYOUT_KIND.imageIndex));
    assert.ok(!kinds2.includes(COSIGN_LAYOUT_KIND.image));
    assert.equal((await layout.getManifest('x', 'latest'))?.digest, indexed.digest);
  });

  it('refuses blobs whose bytes do not match their digest, and invalid tags', async () => {
    const layout = new OciLayoutWriter(tempDir());
    const img = buildImage({ seed: 'bad' });
    const layer = img.layers[0];
    assert.ok(layer);
    await assert.rejects(
      layout.putBlob('x', { ...layer, data: Buffer.from('not the layer') }),
      (e: unknown) => e instanceof OciWriteError && e.code === 'DIGEST_MISMATCH',
    );
    await assert.rejects(
      layout.putManifest('x', img.manifest, img.mediaType, '../escape'),
      (e: unknown) => e instanceof OciWriteError && e.code === 'INVALID_INPUT',
    );
  });
});
