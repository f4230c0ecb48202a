import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { digestTag } from '../../cli/oci/attach';
import { buildImage, buildIndex } from '../../cli/oci/image';
import { OciLayoutWriter } from '../../cli/oci/layout';
import { pushImage } from '../../cli/oci/target';
import { parseReference } from '../../policy-pack/registry/reference';
import type { RegistryClient } from '../../policy-pack/registry/types';
import { rejectsWithCode, testClient } from './support/env';
import { PREDICATE_TYPES, pushSignedImage, type SignedImage } from './support/signed-image';

/** The air-gapped mirror: `HOST=oci-layout:DIR`, served with the same checks as a registry. */
describe('registry/oci-layout: OCI image-layout directories as a registry mirror', function () {
  let tmp: string;
  const clients: RegistryClient[] = [];
  const clientFor = (dir: string, host = 'mirror.example.com'): RegistryClient => {
    const c = testClient({ mirrors: { [host]: `oci-layout:${dir}` } });
    clients.push(c);
    return c;
  };

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-layout-'));
  });
  after(() => {
    for (const c of clients) c.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const mode of ['spec', 'cosign-save'] as const) {
    describe(`${mode} layout`, () => {
      let dir: string;
      let signed: SignedImage;
      before(async () => {
        dir = path.join(tmp, mode);
        signed = await pushSignedImage(new OciLayoutWriter(dir, mode), {
          repo: 'team/app',
          seed: `layout-${mode}`,
          name: 'mirror.example.com/team/app',
          tag: 'v1',
          cosignSignatures: 1,
          cosignAttestations: 4,
          bundles: 2,
        });
      });

      it('serves the image by digest and its cosign signature, attestations and bundles', async () => {
        const client = clientFor(dir);
        const resolved = await client.resolve(`mirror.example.com/team/app@${signed.descriptor.digest}`);
        assert.deepEqual(resolved.manifest.bytes, signed.image.manifest);
        const found = await client.attachments(resolved.reference, resolved.digest);
        assert.deepEqual(
          found.signatures.map((s) => s.payload),
          signed.signaturePayloads,
        );
        assert.deepEqual(
          found.attestations.map((a) => a.annotations.predicateType),
          PREDICATE_TYPES.slice(0, 4),
        );
        assert.deepEqual(
          found.bundles.map((b) => b.bundle.toString()).sort(),
          signed.bundles.map((b) => b.toString()).sort(),
        );
        assert.equal(client.stats().requests, 0, 'a layout mirror makes no HTTP request');
      });

      if (mode === 'spec') {
        it('resolves tags from org.opencontainers.image.ref.name', async () => {
          const r = await clientFor(dir).resolve('mirror.example.com/team/app:v1');
          assert.equal(r.digest, signed.descriptor.digest);
        });
      } else {
        it('maps kind annotations to the cosign tag scheme and has no tags to resolve', async () => {
          const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
            manifests: { annotations?: Record<string, string> }[];
          };
          const kinds = index.manifests.map((m) => m.annotations?.kind).filter(Boolean);
          assert.deepEqual([...kinds].sort(), [
            'dev.cosignproject.cosign/atts',
            'dev.cosignproject.cosign/image',
            'dev.cosignproject.cosign/sigs',
          ]);
          const store = clientFor(dir).storeFor('mirror.example.com');
          const sig = await store.getManifestByTag('team/app', digestTag(signed.descriptor.digest, '.sig'));
          assert.ok(sig);
          await rejectsWithCode(clientFor(dir).resolve('mirror.example.com/team/app:v1'), 'NOT_FOUND');
        });
      }

      it('a blob changed on disk is DIGEST_MISMATCH, never data', async () => {
        const copy = path.join(tmp, `${mode}-tampered`);
        fs.cpSync(dir, copy, { recursive: true });
        const file = path.join(copy, 'blobs', 'sha256', signed.descriptor.digest.slice(7));
        const bytes = fs.readFileSync(file);
        bytes[10] = (bytes[10] ?? 0) ^ 1;
        fs.writeFileSync(file, bytes);
        await rejectsWithCode(
          clientFor(copy).resolve(`mirror.example.com/team/app@${signed.descriptor.digest}`),
          'DIGEST_MISMATCH',
        );
        const payloadDigest = createHash('sha256')
          .update(signed.signaturePayloads[0] ?? '')
          .digest('hex');
        const payloadFile = path.join(copy, 'blobs', 'sha256', payloadDigest);
        fs.writeFileSync(payloadFile, Buffer.alloc(fs.statSync(payloadFile).size, 0x20));
        await rejectsWithCode(
          clientFor(copy).attachments(
            parseReference('mirror.example.com/team/app'),
            signed.descriptor.digest,
          ),
          'DIGEST_MISMATCH',
        );
      });
    });
  }

  it('selects a platform from an index in a layout', async () => {
    const dir = path.join(tmp, 'index');
    const amd = buildImage({ seed: 'li', platform: { os: 'linux', architecture: 'amd64' } });
    const arm = buildImage({ seed: 'li', platform: { os: 'linux', architecture: 'arm64' } });
    const index = buildIndex([amd, arm]);
    await pushImage(new OciLayoutWriter(dir), 'x', index, 'multi');
    const client = clientFor(dir);
    const r = await client.resolve('mirror.example.com/x:multi');
    assert.equal(r.digest, index.digest);
    const arm64 = await client.selectPlatform(r.reference, r.digest, { os: 'linux', architecture: 'arm64' });
    assert.equal(arm64.digest, arm.digest);
  });

  it('a directory that is not a layout is NOT_FOUND with a hint; an unknown digest is NOT_FOUND', async () => {
    const empty = path.join(tmp, 'not-a-layout');
    fs.mkdirSync(empty);
    await rejectsWithCode(
      clientFor(empty).resolve(`mirror.example.com/a@sha256:${'1'.repeat(64)}`),
      'NOT_FOUND',
    );
    const dir = path.join(tmp, 'spec');
    await rejectsWithCode(
      clientFor(dir).resolve(`mirror.example.com/a@sha256:${'1'.repeat(64)}`),
      'NOT_FOUND',
    );
  });

  it('an oversized manifest file is TOO_LARGE before it is read', async () => {
    const dir = path.join(tmp, 'big');
    const img = buildImage({ seed: 'big' });
    await pushImage(new OciLayoutWriter(dir), 'x', img, 'v1');
    // A limit that admits index.json but not the manifest, so the manifest check itself is exercised.
    const limit = fs.statSync(path.join(dir, 'index.json')).size;
    assert.ok(img.manifest.length > limit, 'fixture precondition: manifest larger than index.json');
    const c = testClient({ mirrors: { 'm.example': `oci-layout:${dir}` }, limits: { manifestBytes: limit } });
    clients.push(c);
    await rejectsWithCode(c.resolve(`m.example/x@${img.digest}`), 'TOO_LARGE');
  });
});
