import { strict as assert } from 'node:assert';
import {
  parseProvenance,
  provenanceConstraintProblem,
  vsaProblem,
} from '../../policy-pack/supply-chain/provenance';
import {
  SLSA_PROVENANCE_V01,
  SLSA_PROVENANCE_V02,
  SLSA_PROVENANCE_V1,
} from '../../policy-pack/supply-chain/predicate-types';
import { checkSbom } from '../../policy-pack/supply-chain/sbom';
import {
  buildkitProvenanceV02,
  CDX_VERSIONS,
  cloudBuildProvenanceV01,
  GCB_BUILDER,
  libraryCycloneDx,
  SYFT_CREATED,
  toolSpdx,
  TRIVY_CREATED,
  vsaV02,
} from './support/producer-documents';
import { slsaV02, slsaV1 } from './support/world';

/**
 * The documents real producers publish, read by the pack's SBOM and provenance checks: lenient on what
 * says nothing about the image (timestamps, tool metadata), strict on what it must say (components,
 * builder, verification result).
 */
describe('evidence as real producers publish it', () => {
  describe('CycloneDX 1.2-1.7 (serialised by @cyclonedx/cyclonedx-library)', () => {
    for (const version of CDX_VERSIONS) {
      it(`CycloneDX ${version}: valid with components; refused without any`, () => {
        const ok = checkSbom('cyclonedx', libraryCycloneDx(version));
        assert.ok('sbom' in ok, JSON.stringify(ok));
        assert.equal(ok.sbom.version, `CycloneDX ${version}`);
        assert.equal(ok.sbom.components, 2);
        const empty = checkSbom('cyclonedx', libraryCycloneDx(version, 0));
        assert.ok('problem' in empty);
        assert.match(empty.problem, /lists no components/);
      });
    }

    it('CycloneDX 1.7 reads its cryptography definitions (a crypto asset validates; a bad algorithm family does not)', () => {
      const withAsset = (family: string): Record<string, unknown> => {
        const doc = libraryCycloneDx('1.7');
        (doc.components as unknown[]).push({
          type: 'cryptographic-asset',
          name: 'AES-128-GCM',
          cryptoProperties: { assetType: 'algorithm', algorithmProperties: { algorithmFamily: family } },
        });
        return doc;
      };
      const ok = checkSbom('cyclonedx', withAsset('AES'));
      assert.ok('sbom' in ok, JSON.stringify(ok));
      assert.equal(ok.sbom.components, 3);
      const bad = checkSbom('cyclonedx', withAsset('NOT-AN-ALGORITHM-FAMILY'));
      assert.ok('problem' in bad, 'the cryptography-defs enum is enforced');
      assert.match(bad.problem, /not a valid CycloneDX 1\.7 JSON document/);
    });

    it('a spec version outside 1.2-1.7 is named as such, never validated against another schema', () => {
      for (const v of ['1.1', '1.8', '2.0']) {
        const doc = { ...libraryCycloneDx('1.6'), specVersion: v };
        const r = checkSbom('cyclonedx', doc);
        assert.ok('problem' in r);
        assert.match(
          r.problem,
          new RegExp(`specVersion "${v.replace('.', '\\.')}" is not one of 1\\.2, 1\\.3`),
        );
      }
    });

    it('a document that breaks its schema is refused (a component without a name)', () => {
      const doc = libraryCycloneDx('1.3');
      delete (doc.components as Record<string, unknown>[])[0]!.name;
      const r = checkSbom('cyclonedx', doc);
      assert.ok('problem' in r);
      assert.match(r.problem, /not a valid CycloneDX 1\.3/);
    });
  });

  describe('SPDX 2.2/2.3 JSON', () => {
    for (const [tool, created] of [
      ['syft < 0.62 (nanoseconds)', SYFT_CREATED],
      ['trivy 2022 (microseconds, offset)', TRIVY_CREATED],
      ['the spec form', '2026-01-02T03:04:05Z'],
    ] as const) {
      for (const version of ['SPDX-2.2', 'SPDX-2.3'] as const) {
        it(`${version} created by ${tool}: valid`, () => {
          const r = checkSbom('spdx', toolSpdx(version, created));
          assert.ok('sbom' in r, JSON.stringify(r));
          assert.equal(r.sbom.version, version);
        });
      }
    }

    it('an SPDX document with no packages, or no created at all, is refused', () => {
      const none = checkSbom('spdx', toolSpdx('SPDX-2.3', SYFT_CREATED, 0));
      assert.ok('problem' in none);
      assert.match(none.problem, /lists no packages/);
      const doc = toolSpdx('SPDX-2.3', SYFT_CREATED);
      delete (doc.creationInfo as Record<string, unknown>).created;
      assert.ok('problem' in checkSbom('spdx', doc));
      const wrongType = toolSpdx('SPDX-2.3', SYFT_CREATED);
      (wrongType.creationInfo as Record<string, unknown>).created = 20221103;
      assert.ok('problem' in checkSbom('spdx', wrongType), 'created is still a string');
    });
  });

  describe('SLSA provenance v0.1, v0.2, v1', () => {
    it('v0.1 as Google Cloud Build writes it: builder and the source commit from its materials', () => {
      const r = parseProvenance(SLSA_PROVENANCE_V01, cloudBuildProvenanceV01());
      assert.ok('provenance' in r, JSON.stringify(r));
      assert.equal(r.provenance.version, 'v0.1');
      assert.equal(r.provenance.builderId, GCB_BUILDER);
      assert.deepEqual(r.provenance.sources, [
        { repository: 'github.com/acme/app', digests: [`sha1:${'a'.repeat(40)}`], git: true },
      ]);
      assert.equal(
        provenanceConstraintProblem(r.provenance, {
          signers: ['x'],
          builderId: GCB_BUILDER,
          sourceRepository: 'https://github.com/acme/app',
        }),
        undefined,
      );
      assert.match(
        provenanceConstraintProblem(r.provenance, {
          signers: ['x'],
          sourceRepository: 'github.com/evil/app',
        }) ?? '',
        /source repository is github\.com\/acme\/app, not github\.com\/evil\/app/,
      );
    });

    it('v0.1 without a recipe or builder is refused', () => {
      const noRecipe = parseProvenance(SLSA_PROVENANCE_V01, cloudBuildProvenanceV01({ recipe: false }));
      assert.ok('problem' in noRecipe);
      assert.match(noRecipe.problem, /no recipe\.type/);
      const noBuilder = cloudBuildProvenanceV01();
      delete noBuilder.builder;
      const r = parseProvenance(SLSA_PROVENANCE_V01, noBuilder);
      assert.ok('problem' in r);
      assert.match(r.problem, /has no builder\.id/);
    });

    it('an empty builder.id (BuildKit) is its own clear problem in every version', () => {
      const buildkit = parseProvenance(SLSA_PROVENANCE_V02, buildkitProvenanceV02());
      assert.ok('problem' in buildkit);
      assert.match(buildkit.problem, /SLSA v0\.2 provenance has an empty builder\.id/);
      assert.match(buildkit.problem, /builder-id/);
      const v1 = slsaV1({ builderId: '  ' });
      const r1 = parseProvenance(SLSA_PROVENANCE_V1, v1);
      assert.ok('problem' in r1);
      assert.match(r1.problem, /SLSA v1 provenance has an empty runDetails\.builder\.id/);
      const v01 = parseProvenance(SLSA_PROVENANCE_V01, cloudBuildProvenanceV01({ builderId: '' }));
      assert.ok('problem' in v01);
      assert.match(v01.problem, /empty builder\.id/);
      const notString = parseProvenance(SLSA_PROVENANCE_V02, { ...slsaV02(), builder: { id: 7 } });
      assert.ok('problem' in notString);
      assert.match(notString.problem, /not a string/);
    });

    it('a provenance version outside v0.1/v0.2/v1 is refused by name', () => {
      const r = parseProvenance('https://slsa.dev/provenance/v0.3', slsaV02());
      assert.ok('problem' in r);
      assert.match(r.problem, /v0\.3 is not SLSA provenance v1, v0\.2 or v0\.1/);
    });
  });

  describe('SLSA verification summaries v0.2 and v1', () => {
    it('a PASSED v0.2 summary passes; FAILED, a missing verifier or an empty one do not', () => {
      assert.equal(vsaProblem(vsaV02('PASSED')), undefined);
      assert.match(vsaProblem(vsaV02('FAILED')) ?? '', /verificationResult is "FAILED", not "PASSED"/);
      assert.match(vsaProblem({ ...vsaV02(), verifier: undefined }) ?? '', /no verifier\.id/);
      assert.match(vsaProblem({ ...vsaV02(), verifier: { id: '' } }) ?? '', /no verifier\.id/);
    });
  });
});
