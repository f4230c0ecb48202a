import { strict as assert } from 'node:assert';
import { attachCosignSbom, digestTag, imageSubject, inTotoStatement } from '../../cli/oci/attach';
import { buildBuildkitIndex } from '../../cli/oci/buildkit';
import { buildImage } from '../../cli/oci/image';
import { BUILDKIT, COSIGN_SBOM_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE } from '../../cli/oci/media-types';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { parseJson, rawBlob, rawManifest, sha256 } from '../support/raw-distribution';
import { startRegistry, type RunningRegistry } from '../support/registry';

interface Entry {
  digest: string;
  size: number;
  platform: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

const SLSA02 = 'https://slsa.dev/provenance/v0.2';
const SPDX = 'https://spdx.dev/Document';

describe('test bed: unsigned evidence (BuildKit attestations, cosign .sbom)', () => {
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
  });

  it('a BuildKit-style index carries attestation manifests that point at their image and hold unsigned statements', async () => {
    const amd = buildImage({ seed: 'bk' });
    const arm = buildImage({ seed: 'bk', platform: { os: 'linux', architecture: 'arm64' } });
    const statement = (digest: string, predicateType: string): Buffer =>
      inTotoStatement({
        subjects: [imageSubject('pkg:docker/app', digest)],
        predicateType,
        predicate: {},
        statementVersion: 'v0.1',
      });
    const index = buildBuildkitIndex([
      {
        image: amd,
        attestations: [
          { predicateType: SLSA02, statement: statement(amd.digest, SLSA02) },
          { predicateType: SPDX, statement: statement(amd.digest, SPDX) },
        ],
      },
      { image: arm, attestations: [] },
    ]);
    await pushImage(new RegistryPusher(reg.url), 'bk/app', index, 'v1');

    const top = await rawManifest(reg.url, 'bk/app', 'v1');
    assert.equal(top.computedDigest, index.digest);
    const entries = parseJson<{ manifests: Entry[] }>(top.bytes).manifests;
    assert.equal(entries.length, 3);
    const att = entries.find((e) => e.annotations?.[BUILDKIT.referenceType] === BUILDKIT.attestationManifest);
    assert.ok(att);
    assert.deepEqual(att.platform, { architecture: 'unknown', os: 'unknown' });
    assert.equal(att.annotations?.[BUILDKIT.referenceDigest], amd.digest);

    const attManifest = await rawManifest(reg.url, 'bk/app', att.digest);
    assert.equal(attManifest.computedDigest, att.digest);
    const layers = parseJson<{
      layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
    }>(attManifest.bytes).layers;
    assert.deepEqual(
      layers.map((l) => [l.mediaType, l.annotations[BUILDKIT.predicateTypeAnnotation]]),
      [
        [IN_TOTO_PAYLOAD_TYPE, SLSA02],
        [IN_TOTO_PAYLOAD_TYPE, SPDX],
      ],
    );
    const blob = await rawBlob(reg.url, 'bk/app', layers[0]?.digest ?? '');
    const st = parseJson<{ _type: string; subject: { digest: { sha256: string } }[] }>(blob.bytes);
    assert.equal(st._type, 'https://in-toto.io/Statement/v0.1');
    assert.equal(`sha256:${st.subject[0]?.digest.sha256}`, amd.digest);
  });

  it('cosign attach sbom: sha256-<hex>.sbom holds the SBOM as its only layer', async () => {
    const img = buildImage({ seed: 'sbom-subject' });
    const pusher = new RegistryPusher(reg.url);
    await pushImage(pusher, 'bk/sbom', img, 'v1');
    const sbom = Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [] }));
    await attachCosignSbom(pusher, 'bk/sbom', img.digest, sbom, COSIGN_SBOM_MEDIA_TYPE.cyclonedxJson);
    const got = await rawManifest(reg.url, 'bk/sbom', digestTag(img.digest, '.sbom'));
    assert.equal(got.status, 200);
    const layers = parseJson<{ layers: { mediaType: string; digest: string }[] }>(got.bytes).layers;
    assert.equal(layers.length, 1);
    assert.equal(layers[0]?.mediaType, 'application/vnd.cyclonedx+json');
    assert.equal(layers[0]?.digest, sha256(sbom));
  });
});
