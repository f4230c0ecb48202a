import { strict as assert } from 'node:assert';
import { createVerify, X509Certificate } from 'node:crypto';
import type { SerializedBundle } from '@sigstore/bundle';
import {
  attachBundleReferrer,
  attachCosignAttestations,
  attachCosignSignatures,
  digestTag,
  imageSubject,
  inTotoStatement,
  simpleSigningPayload,
} from '../../cli/oci/attach';
import { OciWriteError } from '../../cli/oci/errors';
import { buildImage } from '../../cli/oci/image';
import {
  BUNDLE_ANNOTATION,
  COSIGN_ANNOTATION,
  COSIGN_SIMPLESIGNING,
  DSSE_ENVELOPE,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from '../../cli/oci/media-types';
import { RegistryPusher } from '../../cli/oci/push';
import { createKeyPair, signRawWithKey } from '../../cli/oci/sign-key';
import { pushImage } from '../../cli/oci/target';
import { parseJson, rawBlob, rawManifest, sha256 } from '../support/raw-distribution';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { cosignRekorBundle, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock';
import { verifyBundle } from '../support/sigstore-verify';

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
interface Index {
  mediaType: string;
  manifests: (Layer & { artifactType?: string })[];
}

const SLSA = 'https://slsa.dev/provenance/v1';

/** The serialized DSSE envelope of a bundle: what cosign stores as an `.att` layer. */
function envelopeOf(bundle: SerializedBundle): Buffer {
  assert.ok(bundle.dsseEnvelope);
  return Buffer.from(JSON.stringify(bundle.dsseEnvelope));
}

describe('test bed: attachments in both formats, read back through the raw distribution API', () => {
  let reg: RunningRegistry;
  let mock: SigstoreMock;
  let pusher: RegistryPusher;
  const repo = 'team/service';
  const image = buildImage({ seed: 'attach-subject' });
  const ref = (): string => `${reg.host}/${repo}`;

  before(async () => {
    [reg, mock] = await Promise.all([startRegistry(), startSigstoreMock({ timestamp: true })]);
    pusher = new RegistryPusher(reg.url);
    await pushImage(pusher, repo, image, 'v1');
  });
  after(async () => {
    await reg?.stop();
    await mock?.close();
  });

  it('cosign .sig: keyless and key-based layers with cosign media type and annotations, signatures valid', async () => {
    const payload = simpleSigningPayload(ref(), image.digest);
    const keyless = await mock.signCosignLegacy(payload, { email: 'release@example.com' });
    const key = createKeyPair();
    const keyed = signRawWithKey(payload, key.privateKeyPem).toString('base64');
    await attachCosignSignatures(pusher, repo, image.digest, [keyless, { payload, signature: keyed }]);

    const sig = await rawManifest(reg.url, repo, digestTag(image.digest, '.sig'));
    assert.equal(sig.status, 200);
    assert.equal(sig.headerDigest, sig.computedDigest);
    const manifest = parseJson<Manifest>(sig.bytes);
    assert.equal(manifest.mediaType, OCI_MANIFEST);
    assert.equal(manifest.layers.length, 2);
    const [first, second] = manifest.layers;
    assert.ok(first && second);
    for (const layer of manifest.layers) assert.equal(layer.mediaType, COSIGN_SIMPLESIGNING);

    const a = first.annotations ?? {};
    assert.equal(a[COSIGN_ANNOTATION.signature], keyless.signature);
    assert.equal(a[COSIGN_ANNOTATION.certificate], keyless.certificate);
    assert.equal(a[COSIGN_ANNOTATION.chain], keyless.chain);
    assert.equal(a[COSIGN_ANNOTATION.bundle], keyless.bundle);
    const blob = await rawBlob(reg.url, repo, first.digest);
    assert.ok(blob.bytes.equals(payload));
    const signed = parseJson<{ critical: { image: { 'docker-manifest-digest': string }; type: string } }>(
      blob.bytes,
    );
    assert.equal(signed.critical.image['docker-manifest-digest'], image.digest);
    assert.equal(signed.critical.type, 'cosign container image signature');
    const cert = new X509Certificate(a[COSIGN_ANNOTATION.certificate] ?? '');
    const check = (
      data: Buffer,
      pub: X509Certificate['publicKey'] | string,
      b64: string | undefined,
    ): boolean =>
      createVerify('sha256')
        .update(data)
        .verify(pub, Buffer.from(b64 ?? '', 'base64'));
    assert.equal(check(blob.bytes, cert.publicKey, a[COSIGN_ANNOTATION.signature]), true);
    assert.equal(
      check(Buffer.concat([blob.bytes, Buffer.from('x')]), cert.publicKey, a[COSIGN_ANNOTATION.signature]),
      false,
    );

    const b = second.annotations ?? {};
    assert.equal(b[COSIGN_ANNOTATION.certificate], undefined);
    assert.equal(check(blob.bytes, key.publicKeyPem, b[COSIGN_ANNOTATION.signature]), true);
    assert.equal(check(blob.bytes, createKeyPair().publicKeyPem, b[COSIGN_ANNOTATION.signature]), false);
  });

  it('cosign .att: a DSSE layer with predicateType, certificate and Rekor bundle annotations', async () => {
    const statement = inTotoStatement({
      subjects: [imageSubject(ref(), image.digest)],
      predicateType: SLSA,
      predicate: { buildDefinition: { buildType: 'https://example.com/build/v1' } },
    });
    const signed = await mock.signDsse(statement, IN_TOTO_PAYLOAD_TYPE, { email: 'ci@example.com' });
    const certDer = signed.verificationMaterial.certificate?.rawBytes;
    assert.ok(certDer);
    await attachCosignAttestations(pusher, repo, image.digest, [
      {
        envelope: envelopeOf(signed),
        predicateType: SLSA,
        certificate: new X509Certificate(Buffer.from(certDer, 'base64')).toString(),
        bundle: cosignRekorBundle(signed),
      },
    ]);

    const att = await rawManifest(reg.url, repo, digestTag(image.digest, '.att'));
    assert.equal(att.status, 200);
    const manifest = parseJson<Manifest>(att.bytes);
    const layer = manifest.layers[0];
    assert.ok(layer);
    assert.equal(layer.mediaType, DSSE_ENVELOPE);
    assert.equal(layer.annotations?.[COSIGN_ANNOTATION.predicateType], SLSA);
    assert.equal(layer.annotations?.[COSIGN_ANNOTATION.signature], '');
    assert.match(layer.annotations?.[COSIGN_ANNOTATION.certificate] ?? '', /BEGIN CERTIFICATE/);
    const rekor = JSON.parse(layer.annotations?.[COSIGN_ANNOTATION.bundle] ?? '{}') as {
      Payload?: { body?: string };
    };
    // the logged entry is the in-toto entry of this very envelope
    assert.equal(rekor.Payload?.body, signed.verificationMaterial.tlogEntries[0]?.canonicalizedBody);
    const blob = await rawBlob(reg.url, repo, layer.digest);
    const envelope = parseJson<{ payloadType: string; payload: string }>(blob.bytes);
    assert.equal(envelope.payloadType, IN_TOTO_PAYLOAD_TYPE);
    const st = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as {
      subject: { digest: { sha256: string } }[];
      predicateType: string;
    };
    assert.equal(`sha256:${st.subject[0]?.digest.sha256}`, image.digest);
    assert.equal(st.predicateType, SLSA);
  });

  it('OCI 1.1 referrers: bundles attached with subject, listed in the sha256-<hex> fallback index, and verifiable', async () => {
    // distribution 2.8 has no referrers API: that is why the fallback tag exists
    const api = await fetch(`${reg.url}/v2/${repo}/referrers/${image.digest}`);
    assert.equal(api.status, 404);

    const subject = { mediaType: image.mediaType, digest: image.digest, size: image.manifest.length };
    const payload = simpleSigningPayload(ref(), image.digest);
    const messageBundle = await mock.signBlob(payload);
    const statement = inTotoStatement({
      subjects: [imageSubject(ref(), image.digest)],
      predicateType: SLSA,
      predicate: {},
    });
    const dsseBundle = await mock.signDsse(statement, IN_TOTO_PAYLOAD_TYPE);
    const first = await attachBundleReferrer(
      pusher,
      repo,
      subject,
      Buffer.from(JSON.stringify(messageBundle)),
      SIGSTORE_BUNDLE_V03,
    );
    const second = await attachBundleReferrer(
      pusher,
      repo,
      subject,
      Buffer.from(JSON.stringify(dsseBundle)),
      SIGSTORE_BUNDLE_V03,
    );
    // attaching the same bundle again must not duplicate the entry
    await attachBundleReferrer(
      pusher,
      repo,
      subject,
      Buffer.from(JSON.stringify(dsseBundle)),
      SIGSTORE_BUNDLE_V03,
    );

    const fallback = await rawManifest(reg.url, repo, digestTag(image.digest));
    assert.equal(fallback.status, 200);
    const index = parseJson<Index>(fallback.bytes);
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [first.digest, second.digest],
    );
    const [m1, m2] = index.manifests;
    assert.equal(m1?.artifactType, SIGSTORE_BUNDLE_V03);
    assert.equal(m1?.annotations?.[BUNDLE_ANNOTATION.content], 'message-signature');
    assert.equal(m2?.annotations?.[BUNDLE_ANNOTATION.content], 'dsse-envelope');
    assert.equal(m2?.annotations?.[BUNDLE_ANNOTATION.predicateType], SLSA);

    const bundles = [messageBundle, dsseBundle];
    for (const [i, entry] of index.manifests.entries()) {
      const got = await rawManifest(reg.url, repo, entry.digest);
      assert.equal(got.computedDigest, entry.digest);
      const manifest = parseJson<Manifest>(got.bytes);
      assert.equal(manifest.artifactType, SIGSTORE_BUNDLE_V03);
      assert.deepEqual(manifest.subject, subject);
      assert.equal(manifest.config.mediaType, OCI_EMPTY);
      assert.equal(manifest.config.digest, sha256(Buffer.from('{}')));
      const emptyBlob = await rawBlob(reg.url, repo, manifest.config.digest);
      assert.equal(emptyBlob.bytes.toString(), '{}');
      assert.equal(manifest.layers.length, 1);
      const layer = manifest.layers[0];
      assert.ok(layer);
      assert.equal(layer.mediaType, SIGSTORE_BUNDLE_V03);
      const blob = await rawBlob(reg.url, repo, layer.digest);
      assert.equal(sha256(blob.bytes), layer.digest);
      const bundle = parseJson(blob.bytes) as unknown as SerializedBundle;
      assert.deepEqual(bundle, bundles[i]);
      verifyBundle(bundle, {
        trustedRoot: mock.trustedRoot,
        ...(bundle.messageSignature ? { artifact: payload } : {}),
      });
    }
  });

  it('append keeps earlier signers (as cosign does for a second signature), without duplicates; default replaces', async () => {
    const subject = buildImage({ seed: 'append-subject' });
    await pushImage(pusher, repo, subject, 'append');
    const payload = simpleSigningPayload(ref(), subject.digest);
    const sigBy = (k: ReturnType<typeof createKeyPair>) => ({
      payload,
      signature: signRawWithKey(payload, k.privateKeyPem).toString('base64'),
    });
    const [a, b] = [createKeyPair(), createKeyPair()];
    const sigA = sigBy(a);
    const layersNow = async (): Promise<string[]> => {
      const got = await rawManifest(reg.url, repo, digestTag(subject.digest, '.sig'));
      return parseJson<Manifest>(got.bytes).layers.map(
        (l) => l.annotations?.[COSIGN_ANNOTATION.signature] ?? '',
      );
    };
    await attachCosignSignatures(pusher, repo, subject.digest, [sigA]);
    const sigB = sigBy(b);
    await attachCosignSignatures(pusher, repo, subject.digest, [sigB], { append: true });
    assert.deepEqual(await layersNow(), [sigA.signature, sigB.signature]);
    await attachCosignSignatures(pusher, repo, subject.digest, [sigA], { append: true });
    assert.deepEqual(await layersNow(), [sigB.signature, sigA.signature]);
    await attachCosignSignatures(pusher, repo, subject.digest, [sigB]);
    assert.deepEqual(await layersNow(), [sigB.signature]);
  });

  it('refuses a subject digest that is not sha256:<64 hex>', async () => {
    await assert.rejects(
      attachCosignSignatures(pusher, repo, 'sha256:../../etc', [
        { payload: Buffer.from('x'), signature: 'AA==' },
      ]),
      (e: unknown) => e instanceof OciWriteError && e.code === 'INVALID_INPUT',
    );
  });
});
