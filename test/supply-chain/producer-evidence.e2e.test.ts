import { strict as assert } from 'node:assert';
import { addToReferrersFallback, attachCosignSbom } from '../../cli/oci/attach';
import { blobOf } from '../../cli/oci/digest';
import { buildArtifactManifest } from '../../cli/oci/image';
import { COSIGN_SBOM_MEDIA_TYPE } from '../../cli/oci/media-types';
import { pushImage } from '../../cli/oci/target';
import type {
  Finding,
  ImageVerdict,
  Requirement,
  VerificationCode,
} from '../../policy-pack/supply-chain/types';
import {
  buildkitProvenanceV02,
  cloudBuildProvenanceV01,
  GCB_BUILDER,
  libraryCycloneDx,
  SYFT_CREATED,
  toolSpdx,
  TRIVY_CREATED,
  vsaV02,
} from './support/producer-documents';
import {
  CYCLONEDX_PREDICATE,
  happyEvidence,
  publish,
  RELEASE,
  SLSA_V02,
  SOURCE_COMMIT,
  SOURCE_REPO,
  SPDX_PREDICATE,
  spdxDocument,
  startWorld,
  VSA_V1,
  type AttachmentFormat,
  type Evidence,
  type World,
} from './support/world';

/**
 * End to end on the real registry with evidence as real producers publish it, signed by the real
 * Sigstore libraries and attached in both formats: what the pack must accept (CycloneDX 1.2/1.3/1.7,
 * SPDX with fractional seconds, SLSA provenance v0.1, VSA v0.2) and what it must refuse, by name (an
 * empty SBOM, a FAILED VSA, an empty builder.id, a type or version it does not read, an unsigned SBOM).
 */

const SLSA_V01 = 'https://slsa.dev/provenance/v0.1';
const VSA_V02 = 'https://slsa.dev/verification_summary/v0.2';

type Attestation = Evidence['attestations'][number];

function finding(v: ImageVerdict, requirement: Requirement, code: VerificationCode): Finding {
  assert.equal(v.allowed, false, `expected blocked, got ${JSON.stringify(v, null, 1)}`);
  const f = v.findings.find((x) => x.requirement === requirement);
  assert.ok(f, `expected a ${requirement} finding, got ${JSON.stringify(v.findings, null, 1)}`);
  assert.equal(f.code, code, JSON.stringify(f, null, 1));
  return f;
}

function allowed(v: ImageVerdict): void {
  assert.equal(v.allowed, true, JSON.stringify(v.findings, null, 1));
  assert.deepEqual(v.findings, []);
}

/** The happy evidence with the attestations `pick` selects replaced by `by` (all removed when `by` is empty). */
function replacing(pick: (a: Attestation) => boolean, ...by: Attestation[]): Evidence {
  const e = happyEvidence();
  const kept = e.attestations.filter((a) => !pick(a));
  return { ...e, attestations: [...kept, ...by] };
}

const releaseSbom = (a: Attestation): boolean => a.predicateType === SPDX_PREDICATE && a.signer === RELEASE;
const releaseProvenance = (a: Attestation): boolean =>
  a.signer === RELEASE && a.predicateType.startsWith('https://slsa.dev/provenance/');
const rebuilderBVsa = (a: Attestation): boolean =>
  a.predicateType === VSA_V1 && 'key' in a.signer && a.signer.key === 'rebuilderB';

describe('evidence from real producers, end to end (real registry, real signatures)', function () {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world?.stop();
  });

  for (const format of ['cosign', 'referrer'] as AttachmentFormat[]) {
    describe(`attached as ${format}`, () => {
      for (const version of ['1.2', '1.3', '1.7'] as const) {
        it(`accepts a signed CycloneDX ${version} SBOM made by the CycloneDX library`, async () => {
          const e = replacing(releaseSbom, {
            predicateType: `${CYCLONEDX_PREDICATE}/v${version}`,
            predicate: libraryCycloneDx(version),
            signer: RELEASE,
          });
          const v = await world.verify((await publish(world, format, e)).ref);
          allowed(v);
          assert.deepEqual(v.satisfied.find((s) => s.requirement === 'sbom')?.by, ['release']);
        });
      }

      it('accepts signed SPDX 2.2/2.3 whose created has fractional seconds (syft, trivy)', async () => {
        const e = replacing(
          releaseSbom,
          { predicateType: SPDX_PREDICATE, predicate: toolSpdx('SPDX-2.2', SYFT_CREATED), signer: RELEASE },
          { predicateType: SPDX_PREDICATE, predicate: toolSpdx('SPDX-2.3', TRIVY_CREATED), signer: RELEASE },
        );
        allowed(await world.verify((await publish(world, format, e)).ref));
      });

      it('refuses a signed SBOM that lists no packages (SBOM_INVALID, named)', async () => {
        const e = replacing(releaseSbom, {
          predicateType: SPDX_PREDICATE,
          predicate: toolSpdx('SPDX-2.3', SYFT_CREATED, 0),
          signer: RELEASE,
        });
        const f = finding(await world.verify((await publish(world, format, e)).ref), 'sbom', 'SBOM_INVALID');
        assert.match(f.found, /lists no packages/);
      });

      it('accepts SLSA provenance v0.1 as Google Cloud Build writes it, builder constraint included', async () => {
        const e = replacing(releaseProvenance, {
          predicateType: SLSA_V01,
          predicate: cloudBuildProvenanceV01({ repo: SOURCE_REPO, commit: SOURCE_COMMIT }),
          signer: RELEASE,
        });
        const p = await publish(world, format, e);
        allowed(await world.verify(p.ref));
        const host = world.registry.host;
        const constrained = (builderId: string) =>
          world.policy({
            images: `images:
  - match: ["${host}/acme/**"]
    signature: { signers: [release] }
    provenance: { signers: [release], builderId: "${builderId}", sourceRepository: https://github.com/acme/app }
`,
          });
        allowed(await world.verify(p.ref, constrained(GCB_BUILDER)));
        const f = finding(
          await world.verify(p.ref, constrained('https://github.com/actions/runner')),
          'provenance',
          'PROVENANCE_CONSTRAINT',
        );
        assert.match(
          f.found,
          /builder https:\/\/cloudbuild\.googleapis\.com\/GoogleHostedWorker@v0\.3 is not/,
        );
      });

      it('names an empty builder.id (BuildKit) instead of accepting it or staying silent', async () => {
        const e = replacing(releaseProvenance, {
          predicateType: SLSA_V02,
          predicate: buildkitProvenanceV02(),
          signer: RELEASE,
        });
        const f = finding(
          await world.verify((await publish(world, format, e)).ref),
          'provenance',
          'PROVENANCE_INVALID',
        );
        assert.match(f.found, /SLSA v0\.2 provenance has an empty builder\.id/);
      });

      it('counts a PASSED VSA v0.2 toward the rebuild quorum; a FAILED one never counts', async () => {
        const passed = replacing(rebuilderBVsa, {
          predicateType: VSA_V02,
          predicate: vsaV02('PASSED'),
          signer: { key: 'rebuilderB' },
        });
        const ok = await world.verify((await publish(world, format, passed)).ref);
        allowed(ok);
        assert.deepEqual([...(ok.satisfied.find((s) => s.requirement === 'reproducible')?.by ?? [])].sort(), [
          'rebuilder-a',
          'rebuilder-b',
        ]);
        const failed = replacing(rebuilderBVsa, {
          predicateType: VSA_V02,
          predicate: vsaV02('FAILED'),
          signer: { key: 'rebuilderB' },
        });
        const f = finding(
          await world.verify((await publish(world, format, failed)).ref),
          'reproducible',
          'REBUILD_QUORUM_NOT_MET',
        );
        assert.match(f.found, /^1 of 2/);
        assert.match(f.found, /verificationResult is "FAILED"/);
      });

      it('a present attestation of a version it does not read is named, never reported as missing', async () => {
        const e = replacing(
          (a) => releaseProvenance(a) || releaseSbom(a),
          {
            predicateType: 'https://slsa.dev/provenance/v0.3',
            predicate: cloudBuildProvenanceV01(),
            signer: RELEASE,
          },
          { predicateType: 'https://spdx.dev/Document/v3.0', predicate: spdxDocument(), signer: RELEASE },
        );
        const v = await world.verify((await publish(world, format, e)).ref);
        const prov = finding(v, 'provenance', 'PROVENANCE_INVALID');
        assert.match(
          prov.found,
          /found SLSA provenance v0\.3; this rule accepts SLSA provenance v1, v0\.2 or v0\.1/,
        );
        const sbom = finding(v, 'sbom', 'SBOM_FORMAT_NOT_ALLOWED');
        assert.match(
          sbom.found,
          /found SPDX SBOM \(https:\/\/spdx\.dev\/Document\/v3\.0\); this rule accepts SPDX 2\.2\/2\.3/,
        );
      });
    });
  }

  it('a format the rule does not allow is named with what the rule accepts', async () => {
    const host = world.registry.host;
    const e = replacing(releaseSbom, {
      predicateType: CYCLONEDX_PREDICATE,
      predicate: libraryCycloneDx('1.6'),
      signer: RELEASE,
    });
    const p = await publish(world, 'referrer', e);
    const spdxOnly = world.policy({
      images: `images:
  - match: ["${host}/acme/**"]
    signature: { signers: [release] }
    sbom: { signers: [release], formats: [spdx] }
`,
    });
    const f = finding(await world.verify(p.ref, spdxOnly), 'sbom', 'SBOM_FORMAT_NOT_ALLOWED');
    assert.match(
      f.found,
      /found CycloneDX SBOM \(https:\/\/cyclonedx\.org\/bom\); this rule accepts SPDX 2\.2\/2\.3 JSON/,
    );
    assert.doesNotMatch(f.expected, /CycloneDX/);
  });

  describe('unsigned SBOMs never count; the finding says one was found and how to sign it', () => {
    it('cosign attach sbom (the .sbom tag, CycloneDX)', async () => {
      const e = replacing(releaseSbom);
      const p = await publish(world, 'cosign', e);
      await attachCosignSbom(
        world.pusher,
        'acme/app',
        p.digest,
        Buffer.from(JSON.stringify(libraryCycloneDx('1.5'))),
        COSIGN_SBOM_MEDIA_TYPE.cyclonedxJson,
      );
      const f = finding(await world.verify(p.ref), 'sbom', 'SBOM_MISSING');
      assert.match(
        f.found,
        new RegExp(
          `an unsigned CycloneDX SBOM attached with cosign attach sbom \\(${world.registry.host}/acme/app:sha256-${p.digest.slice(7)}\\.sbom\\): unsigned SBOMs never count`,
        ),
      );
      assert.match(f.hint, /cosign attest --type cyclonedx/);
      assert.doesNotMatch(f.hint, /spdxjson/);
    });

    it('cosign attach sbom with SPDX JSON (cosign writes the media type spdx+json)', async () => {
      const p = await publish(world, 'cosign', replacing(releaseSbom));
      await attachCosignSbom(
        world.pusher,
        'acme/app',
        p.digest,
        Buffer.from(JSON.stringify(toolSpdx('SPDX-2.3', SYFT_CREATED))),
        COSIGN_SBOM_MEDIA_TYPE.spdxJson,
      );
      const f = finding(await world.verify(p.ref), 'sbom', 'SBOM_MISSING');
      assert.match(f.found, /an unsigned SPDX SBOM attached with cosign attach sbom/);
      assert.match(f.hint, /cosign attest --type spdxjson/);
    });

    it('an unsigned SBOM referrer (OCI artifact application/spdx+json)', async () => {
      const p = await publish(world, 'referrer', replacing(releaseSbom));
      const img = p.image as { manifest: Buffer; mediaType: string };
      const subject = { mediaType: img.mediaType, digest: p.digest, size: img.manifest.length };
      const artifactType = 'application/spdx+json';
      const referrer = buildArtifactManifest({
        artifactType,
        subject,
        layers: [blobOf(artifactType, Buffer.from(JSON.stringify(toolSpdx('SPDX-2.3', SYFT_CREATED))))],
      });
      const d = await pushImage(world.pusher, 'acme/app', referrer);
      await addToReferrersFallback(world.pusher, 'acme/app', p.digest, { ...d, artifactType });
      const f = finding(await world.verify(p.ref), 'sbom', 'SBOM_MISSING');
      assert.match(
        f.found,
        /an unsigned SPDX SBOM as an unsigned referrer sha256:.* \(application\/spdx\+json\): unsigned SBOMs never count/,
      );
      assert.match(f.hint, /cosign attest --type spdxjson/);
    });

    it('a signed SBOM next to an unsigned one: the signed one counts, the unsigned one changes nothing', async () => {
      const p = await publish(world, 'cosign');
      await attachCosignSbom(
        world.pusher,
        'acme/app',
        p.digest,
        Buffer.from(JSON.stringify(libraryCycloneDx('1.5'))),
        COSIGN_SBOM_MEDIA_TYPE.cyclonedxJson,
      );
      allowed(await world.verify(p.ref));
    });
  });
});
