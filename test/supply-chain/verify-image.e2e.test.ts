import { strict as assert } from 'node:assert';
import { addToReferrersFallback, attachCosignSignatures, digestTag } from '../../cli/oci/attach';
import { blobOf } from '../../cli/oci/digest';
import { buildArtifactManifest, buildImage, buildIndex, type OciImage } from '../../cli/oci/image';
import { OCI_INDEX, OCI_MANIFEST, SIGSTORE_BUNDLE_V03 } from '../../cli/oci/media-types';
import { pushImage } from '../../cli/oci/target';
import { createImageVerifier, MAX_INDEX_MANIFESTS } from '../../policy-pack/image-verifier';
import type { Descriptor } from '../../policy-pack/registry/types';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { loadTrustedRoot } from '../../policy-pack/supply-chain/sigstore';
import { parseTrustPolicy, type ResolvedTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type {
  Finding,
  ImageVerdict,
  Requirement,
  VerdictNote,
  VerificationCode,
} from '../../policy-pack/supply-chain/types';
import { FaultProxy } from '../registry/support/fault-proxy';
import { buildKitIndex } from '../support/buildkit';
import { rawManifest, sha256 as rawSha256 } from '../support/raw-distribution';
import {
  CYCLONEDX_PREDICATE,
  cyclonedxDocument,
  defaultRules,
  attachEvidence,
  GITHUB_ISSUER,
  happyEvidence,
  publish,
  publishIndex,
  RELEASE,
  RELEASE_IDENTITY,
  SLSA_V02,
  SLSA_V1,
  slsaV02,
  slsaV1,
  SPDX_PREDICATE,
  spdxDocument,
  startWorld,
  VSA_V1,
  vsa,
  type AttachmentFormat,
  type Evidence,
  type Published,
  type World,
} from './support/world';

/**
 * End to end on the real registry: images pushed, evidence signed by the real Sigstore libraries
 * (keyless through the loopback mock, keys through node crypto) and attached in both formats. Each
 * negative case starts from the happy-path evidence and changes one thing.
 */

function findingOf(v: ImageVerdict, requirement: Requirement): Finding | undefined {
  return v.findings.find((f) => f.requirement === requirement);
}

function assertBlocked(v: ImageVerdict, requirement: Requirement, code: VerificationCode): Finding {
  assert.equal(v.allowed, false, `expected blocked, got ${JSON.stringify(v, null, 1)}`);
  const f = findingOf(v, requirement);
  assert.ok(f, `expected a ${requirement} finding, got ${JSON.stringify(v.findings, null, 1)}`);
  assert.equal(f.code, code, `${requirement}: ${JSON.stringify(f, null, 1)}`);
  assert.ok(f.expected.length > 0 && f.found.length > 0 && f.hint.length > 0);
  return f;
}

function assertAllowed(v: ImageVerdict): void {
  assert.equal(v.allowed, true, `expected allowed, got ${JSON.stringify(v.findings, null, 1)}`);
  assert.deepEqual(v.findings, []);
}

/** Happy evidence with one attestation replaced (by predicate type and signer) or removed. */
function withAttestations(change: (atts: Evidence['attestations']) => Evidence['attestations']): Evidence {
  const e = happyEvidence();
  return { ...e, attestations: change(e.attestations) };
}

const isReleaseSbom = (a: Evidence['attestations'][number]): boolean =>
  a.predicateType === SPDX_PREDICATE && a.signer === RELEASE;
const isReleaseProvenance = (a: Evidence['attestations'][number]): boolean =>
  a.predicateType === SLSA_V1 && a.signer === RELEASE;
const isRebuildA = (a: Evidence['attestations'][number]): boolean =>
  'key' in a.signer && a.signer.key === 'rebuilderA';
const isRebuildB = (a: Evidence['attestations'][number]): boolean =>
  'key' in a.signer && a.signer.key === 'rebuilderB';

const FORMATS: AttachmentFormat[] = ['referrer', 'cosign'];

describe('image verification end to end (real registry, real signatures)', function () {
  let world: World;

  before(async function () {
    world = await startWorld();
  });

  after(async function () {
    await world?.stop();
  });

  for (const format of FORMATS) {
    describe(`attachments as ${format === 'cosign' ? 'cosign tag scheme (.sig/.att)' : 'OCI referrer bundles'}`, function () {
      describe('happy path', function () {
        it('allows an image with signature, SBOM, provenance and a 2-of-3 rebuild quorum', async function () {
          const p = await publish(world, format);
          const v = await world.verify(p.ref);
          assertAllowed(v);
          assert.equal(v.digest, p.digest);
          assert.equal(v.rule, 'acme');
          const by = Object.fromEntries(v.satisfied.map((s) => [s.requirement, [...s.by].sort()]));
          assert.deepEqual(by, {
            signature: ['release'],
            sbom: ['release'],
            provenance: ['release'],
            reproducible: ['rebuilder-a', 'rebuilder-b'],
          });
        });

        it('resolves a tag to its digest and verifies that digest', async function () {
          const p = await publish(world, format);
          const v = await world.verify(p.tagRef);
          assertAllowed(v);
          assert.equal(v.digest, p.digest);
        });

        it('accepts a signature by a key signer (ops)', async function () {
          const e = happyEvidence();
          e.signatures = [{ signer: { key: 'ops' } }];
          const v = await world.verify((await publish(world, format, e)).ref);
          assertAllowed(v);
          assert.deepEqual(v.satisfied.find((s) => s.requirement === 'signature')?.by, ['ops']);
        });

        it('accepts CycloneDX 1.4, 1.5 and 1.6, SPDX 2.2, cosign Data wrappers and SLSA v0.2 / Statement v0.1', async function () {
          const spdx22 = { ...spdxDocument(), spdxVersion: 'SPDX-2.2' };
          const variants: Evidence['attestations'][number][] = [
            { predicateType: CYCLONEDX_PREDICATE, predicate: cyclonedxDocument('1.4'), signer: RELEASE },
            {
              predicateType: 'https://cyclonedx.org/bom/v1.6',
              predicate: cyclonedxDocument('1.6'),
              signer: RELEASE,
            },
            { predicateType: SPDX_PREDICATE, predicate: spdx22, signer: RELEASE, statementVersion: 'v0.1' },
            {
              predicateType: SPDX_PREDICATE,
              predicate: { Data: JSON.stringify(spdxDocument()) },
              signer: RELEASE,
            },
            {
              predicateType: CYCLONEDX_PREDICATE,
              predicate: { Data: cyclonedxDocument('1.5'), Timestamp: '2026-01-01T00:00:00Z' },
              signer: RELEASE,
            },
          ];
          for (const sbom of variants) {
            const e = withAttestations((atts) => [
              ...atts.filter((a) => !isReleaseSbom(a) && !isReleaseProvenance(a)),
              sbom,
              { predicateType: SLSA_V02, predicate: slsaV02(), signer: RELEASE },
            ]);
            const v = await world.verify((await publish(world, format, e)).ref);
            assertAllowed(v);
          }
        });
      });

      describe('signature', function () {
        it('blocks an unsigned image (SIGNATURE_MISSING)', async function () {
          const p = await publish(world, format, { ...happyEvidence(), signatures: [] });
          const f = assertBlocked(await world.verify(p.ref), 'signature', 'SIGNATURE_MISSING');
          assert.equal(f.rule, 'acme');
          assert.match(f.expected, new RegExp(p.digest));
        });

        it('blocks a signature by a key the policy does not name (SIGNER_UNTRUSTED)', async function () {
          const e = { ...happyEvidence(), signatures: [{ signer: { key: 'stranger' as const } }] };
          assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'signature',
            'SIGNER_UNTRUSTED',
          );
        });

        it('blocks a rebuilder key used as image signer (trusted key, wrong requirement)', async function () {
          const e = { ...happyEvidence(), signatures: [{ signer: { key: 'rebuilderA' as const } }] };
          assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'signature',
            'SIGNER_UNTRUSTED',
          );
        });

        it('a key signature without transparency-log evidence is refused unless that signer opts out', async function () {
          const e = { ...happyEvidence(), signatures: [{ signer: { key: 'ops' as const, noTlog: true } }] };
          const p = await publish(world, format, e);
          assertBlocked(await world.verify(p.ref), 'signature', 'SIGNATURE_INVALID');
          const optOut = parseTrustPolicy(
            world
              .policyYaml()
              .replace(
                'ops:\n    key: { publicKeyFile: ./keys/ops.pub }',
                'ops:\n    key: { publicKeyFile: ./keys/ops.pub, requireTransparencyLog: false }',
              ),
            { baseDir: world.dir },
          );
          assert.equal(optOut.resolvedSigners.ops?.key?.requireTransparencyLog, false);
          assertAllowed(await world.verify(p.ref, optOut));
        });

        it('identity confusion: the right subject from another issuer is untrusted', async function () {
          const e = {
            ...happyEvidence(),
            signatures: [
              { signer: { keyless: { ...RELEASE_IDENTITY, issuer: 'https://accounts.example.com' } } },
            ],
          };
          assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'signature',
            'SIGNER_UNTRUSTED',
          );
        });

        it('identity confusion: a subject regexp written without ^/$ is still anchored', async function () {
          // The regexp has no anchors; a subject that merely CONTAINS a matching string must not pass.
          const yaml = world
            .policyYaml()
            .replace(
              /subjectRegExp: .*/,
              'subjectRegExp: https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v1\\.2\\.3',
            );
          const unanchored = parseTrustPolicy(yaml, { baseDir: world.dir });
          assertAllowed(await world.verify((await publish(world, format)).ref, unanchored));
          for (const uri of [
            `https://evil.example/?${RELEASE_IDENTITY.uri}`,
            `${RELEASE_IDENTITY.uri}-evil`,
          ]) {
            const e = {
              ...happyEvidence(),
              signatures: [{ signer: { keyless: { ...RELEASE_IDENTITY, uri } } }],
            };
            const v = await world.verify((await publish(world, format, e)).ref, unanchored);
            assertBlocked(v, 'signature', 'SIGNER_UNTRUSTED');
          }
        });

        it('identity confusion: an email expectation is not met by a URI SAN that contains it', async function () {
          for (const [expectation, uri] of [
            ['subjectRegExp: .+@acme\\.com', 'https://evil.example/x@acme.com'],
            ['subjectRegExp: release@acme\\.com', 'mailto:release@acme.com'],
          ] as const) {
            const yaml = world.policyYaml().replace(/subjectRegExp: .*/, expectation);
            const policy = parseTrustPolicy(yaml, { baseDir: world.dir });
            const e = {
              ...happyEvidence(),
              signatures: [{ signer: { keyless: { issuer: GITHUB_ISSUER, uri } } }],
            };
            const v = await world.verify((await publish(world, format, e)).ref, policy);
            assertBlocked(v, 'signature', 'SIGNER_UNTRUSTED');
          }
        });

        it('an email identity (an rfc822Name SAN, as Fulcio issues) meets an email expectation, exact or by pattern', async function () {
          const EMAIL_ISSUER = 'https://accounts.example.com';
          for (const [expectation, email, allowed] of [
            ['subjectRegExp: .+@acme\\.com', 'release@acme.com', true],
            ['subject: release@acme.com', 'release@acme.com', true],
            ['subjectRegExp: .+@acme\\.com', 'release@acme.com.evil.example', false],
            ['subject: release@acme.com', 'Release@acme.com', false],
          ] as const) {
            const yaml = world
              .policyYaml()
              .replace(/subjectRegExp: .*/, expectation)
              .replace(/issuer: https:\/\/token\.actions\.githubusercontent\.com/, `issuer: ${EMAIL_ISSUER}`);
            assert.ok(
              yaml.includes(`issuer: ${EMAIL_ISSUER}`),
              'the release signer now names the email issuer',
            );
            const policy = parseTrustPolicy(yaml, { baseDir: world.dir });
            // everything the release signer signs (signature, SBOM, provenance) under the email identity
            const signer = { keyless: { issuer: EMAIL_ISSUER, email } };
            const happy = happyEvidence();
            const e = {
              signatures: [{ signer }],
              attestations: happy.attestations.map((a) => (a.signer === RELEASE ? { ...a, signer } : a)),
            };
            const v = await world.verify((await publish(world, format, e)).ref, policy);
            if (allowed) assertAllowed(v);
            else assertBlocked(v, 'signature', 'SIGNER_UNTRUSTED');
          }
        });

        it('replay: a signature made for another digest never counts (DIGEST_MISMATCH)', async function () {
          const other = await publish(world, format);
          const e = {
            ...happyEvidence(),
            signatures: [
              {
                signer: RELEASE,
                forImage: { digest: other.digest, manifest: (other.image as { manifest: Buffer }).manifest },
              },
            ],
          };
          const f = assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'signature',
            'DIGEST_MISMATCH',
          );
          assert.ok(f.found.length > 0);
        });

        it('tag swap: a tag moved to an unsigned image is blocked at the digest it now names', async function () {
          const signed = await publish(world, format, happyEvidence(), { tag: `swap-${format}` });
          assertAllowed(await world.verify(signed.tagRef));
          const unsigned = await publish(
            world,
            format,
            { signatures: [], attestations: [] },
            { tag: `swap-${format}` },
          );
          // a fresh verifier (a new deploy) resolves the tag again
          const v = await world.verify(unsigned.tagRef);
          assert.equal(v.digest, unsigned.digest);
          assertBlocked(v, 'signature', 'SIGNATURE_MISSING');
        });

        it("tag swap with the old image's signature copied onto the new digest is blocked", async function () {
          const original = await publish(world, format);
          const e: Evidence = {
            signatures: [
              {
                signer: RELEASE,
                forImage: {
                  digest: original.digest,
                  manifest: (original.image as { manifest: Buffer }).manifest,
                },
              },
            ],
            attestations: happyEvidence().attestations.map((a) => ({ ...a, subjectDigest: original.digest })),
          };
          const swapped = await publish(world, format, e);
          const v = await world.verify(swapped.ref);
          assertBlocked(v, 'signature', 'DIGEST_MISMATCH');
          assertBlocked(v, 'sbom', 'DIGEST_MISMATCH');
          assertBlocked(v, 'provenance', 'DIGEST_MISMATCH');
          assertBlocked(v, 'reproducible', 'REBUILD_QUORUM_NOT_MET');
        });
      });

      describe('SBOM', function () {
        it('blocks an image without SBOM (SBOM_MISSING)', async function () {
          const e = withAttestations((atts) => atts.filter((a) => !isReleaseSbom(a)));
          assertBlocked(await world.verify((await publish(world, format, e)).ref), 'sbom', 'SBOM_MISSING');
        });

        it('blocks a format the rule does not allow (SBOM_FORMAT_NOT_ALLOWED)', async function () {
          const images = defaultRules(world.registry.host).replace(
            'formats: [spdx, cyclonedx]',
            'formats: [cyclonedx]',
          );
          const v = await world.verify((await publish(world, format)).ref, world.policy({ images }));
          assertBlocked(v, 'sbom', 'SBOM_FORMAT_NOT_ALLOWED');
        });

        it('blocks SBOMs that fail their schema or list nothing (SBOM_INVALID)', async function () {
          const { packages: _dropped, ...noPackages } = spdxDocument();
          void _dropped;
          const { SPDXID: _id, ...noId } = spdxDocument();
          void _id;
          const bad: unknown[] = [
            noPackages,
            noId,
            { ...spdxDocument(), spdxVersion: 'SPDX-2.1' },
            { Data: '{"spdxVersion": "SPDX-2.3", truncated' },
          ];
          for (const predicate of bad) {
            const e = withAttestations((atts) => [
              ...atts.filter((a) => !isReleaseSbom(a)),
              { predicateType: SPDX_PREDICATE, predicate, signer: RELEASE },
            ]);
            assertBlocked(await world.verify((await publish(world, format, e)).ref), 'sbom', 'SBOM_INVALID');
          }
          const emptyBom = withAttestations((atts) => [
            ...atts.filter((a) => !isReleaseSbom(a)),
            { predicateType: CYCLONEDX_PREDICATE, predicate: cyclonedxDocument('1.5', 0), signer: RELEASE },
          ]);
          assertBlocked(
            await world.verify((await publish(world, format, emptyBom)).ref),
            'sbom',
            'SBOM_INVALID',
          );
        });

        it('blocks an SBOM signed by a signer the sbom requirement does not list', async function () {
          const e = withAttestations((atts) => [
            ...atts.filter((a) => !isReleaseSbom(a)),
            { predicateType: SPDX_PREDICATE, predicate: spdxDocument(), signer: { key: 'ops' } },
          ]);
          assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'sbom',
            'SIGNER_UNTRUSTED',
          );
        });

        it('replay: an SBOM attested for another digest never counts', async function () {
          const e = withAttestations((atts) =>
            atts.map((a) => (isReleaseSbom(a) ? { ...a, subjectDigest: `sha256:${'1'.repeat(64)}` } : a)),
          );
          assertBlocked(await world.verify((await publish(world, format, e)).ref), 'sbom', 'DIGEST_MISMATCH');
        });
      });

      describe('provenance', function () {
        it('blocks an image without provenance (PROVENANCE_MISSING, and no rebuild can match)', async function () {
          const e = withAttestations((atts) => atts.filter((a) => !isReleaseProvenance(a)));
          const v = await world.verify((await publish(world, format, e)).ref);
          assertBlocked(v, 'provenance', 'PROVENANCE_MISSING');
        });

        it('enforces builderId, builderIdRegExp (anchored) and sourceRepository', async function () {
          const p = await publish(world, format);
          const rule = (extra: string): string =>
            defaultRules(world.registry.host).replace(
              'provenance: { signers: [release] }',
              `provenance: { signers: [release], ${extra} }`,
            );
          assertAllowed(
            await world.verify(
              p.ref,
              world.policy({ images: rule('builderId: "https://github.com/actions/runner/github-hosted"') }),
            ),
          );
          assertAllowed(
            await world.verify(
              p.ref,
              world.policy({ images: rule('builderIdRegExp: "https://github\\\\.com/actions/.+"') }),
            ),
          );
          assertAllowed(
            await world.verify(
              p.ref,
              world.policy({ images: rule('sourceRepository: "https://github.com/acme/app"') }),
            ),
          );
          for (const extra of [
            'builderId: "https://github.com/actions/runner/self-hosted"',
            'builderIdRegExp: "github\\\\.com/actions"',
            'sourceRepository: "https://github.com/acme/other"',
          ]) {
            assertBlocked(
              await world.verify(p.ref, world.policy({ images: rule(extra) })),
              'provenance',
              'PROVENANCE_CONSTRAINT',
            );
          }
        });

        it('blocks provenance without a builder, and a non-in-toto DSSE payload (PROVENANCE_INVALID)', async function () {
          const noBuilder = slsaV1();
          (noBuilder.runDetails as Record<string, unknown>).builder = {};
          const e = withAttestations((atts) =>
            atts.map((a) => (isReleaseProvenance(a) ? { ...a, predicate: noBuilder } : a)),
          );
          assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'provenance',
            'PROVENANCE_INVALID',
          );
          const wrongType = withAttestations((atts) =>
            atts.map((a) => (isReleaseProvenance(a) ? { ...a, payloadType: 'application/json' } : a)),
          );
          assertBlocked(
            await world.verify((await publish(world, format, wrongType)).ref),
            'provenance',
            'PROVENANCE_INVALID',
          );
        });

        it('malformed statements: not JSON, or a wrong _type, never count', async function () {
          const notJson = withAttestations((atts) =>
            atts.map((a) =>
              isReleaseProvenance(a)
                ? { ...a, rawPayload: Buffer.from('{"_type": "https://in-toto.io/Statement/v1", ') }
                : a,
            ),
          );
          assertBlocked(
            await world.verify((await publish(world, format, notJson)).ref),
            'provenance',
            'PROVENANCE_INVALID',
          );
          const wrongStatement = withAttestations((atts) =>
            atts.map((a) =>
              isReleaseProvenance(a)
                ? {
                    ...a,
                    rawPayload: Buffer.from(
                      JSON.stringify({
                        _type: 'https://in-toto.io/Statement/v2',
                        subject: [],
                        predicateType: SLSA_V1,
                        predicate: slsaV1(),
                      }),
                    ),
                  }
                : a,
            ),
          );
          assertBlocked(
            await world.verify((await publish(world, format, wrongStatement)).ref),
            'provenance',
            'PROVENANCE_INVALID',
          );
        });
      });

      describe('rebuild quorum', function () {
        it('blocks with one rebuilder out of the two required', async function () {
          const e = withAttestations((atts) => atts.filter((a) => !isRebuildB(a)));
          const f = assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'reproducible',
            'REBUILD_QUORUM_NOT_MET',
          );
          assert.match(f.found, /^1 of 2/);
        });

        it('counts a duplicate rebuilder once', async function () {
          const e = withAttestations((atts) => [
            ...atts.filter((a) => !isRebuildB(a)),
            { predicateType: VSA_V1, predicate: vsa(), signer: { key: 'rebuilderA' } },
          ]);
          const f = assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'reproducible',
            'REBUILD_QUORUM_NOT_MET',
          );
          assert.match(f.found, /^1 of 2/);
        });

        it('two rebuilder names for one key count once, however the rule orders them', async function () {
          // rebuilder-a2 is rebuilder-a's key under another name; listing it as an SBOM signer puts it
          // before rebuilder-a when provenance is checked, while VSAs try rebuilder-a first.
          const yaml = world
            .policyYaml({
              images: `images:
  - match: ["${world.registry.host}/acme/**"]
    signature: { signers: [release, ops] }
    sbom: { signers: [release, rebuilder-a2] }
    provenance: { signers: [release] }
    reproducible: { rebuilders: [rebuilder-a, rebuilder-a2, rebuilder-b], threshold: 2 }
`,
            })
            .replace(
              '  rebuilder-b:\n',
              '  rebuilder-a2:\n    key: { publicKeyFile: ./keys/rebuilderA.pub }\n  rebuilder-b:\n',
            );
          const policy = parseTrustPolicy(yaml, { baseDir: world.dir });
          const e = withAttestations((atts) => [
            ...atts.filter((a) => !isRebuildB(a)),
            { predicateType: VSA_V1, predicate: vsa(), signer: { key: 'rebuilderA' } },
          ]);
          const f = assertBlocked(
            await world.verify((await publish(world, format, e)).ref, policy),
            'reproducible',
            'REBUILD_QUORUM_NOT_MET',
          );
          assert.match(f.found, /^1 of 2/);
        });

        it('a rebuild from another commit does not count because it shares a base image with the original', async function () {
          const withBaseImage = (p: Record<string, unknown>): Record<string, unknown> => {
            (p.buildDefinition as { resolvedDependencies: unknown[] }).resolvedDependencies.push({
              uri: 'pkg:docker/alpine@3.20',
              digest: { sha256: 'e'.repeat(64) },
            });
            return p;
          };
          const e = withAttestations((atts) =>
            atts.map((a) =>
              isReleaseProvenance(a)
                ? { ...a, predicate: withBaseImage(slsaV1()) }
                : isRebuildA(a)
                  ? { ...a, predicate: withBaseImage(slsaV1({ commit: 'b'.repeat(40) })) }
                  : a,
            ),
          );
          const f = assertBlocked(
            await world.verify((await publish(world, format, e)).ref),
            'reproducible',
            'REBUILD_QUORUM_NOT_MET',
          );
          assert.match(f.found, /^1 of 2/);
        });

        it('does not count a rebuild from another commit, a FAILED VSA, a VSA for another digest, or an unlisted rebuilder', async function () {
          const changes: ((a: Evidence['attestations'][number]) => Evidence['attestations'][number])[] = [
            (a) => (isRebuildA(a) ? { ...a, predicate: slsaV1({ commit: 'b'.repeat(40) }) } : a),
            (a) =>
              isRebuildA(a)
                ? { ...a, predicate: slsaV1({ repo: 'git+https://github.com/evil/app@refs/tags/v1.2.3' }) }
                : a,
            (a) => (isRebuildB(a) ? { ...a, predicate: vsa('FAILED') } : a),
            (a) => (isRebuildB(a) ? { ...a, subjectDigest: `sha256:${'2'.repeat(64)}` } : a),
            (a) => (isRebuildB(a) ? { ...a, signer: { key: 'stranger' } } : a),
          ];
          for (const change of changes) {
            const e = withAttestations((atts) => atts.map(change));
            assertBlocked(
              await world.verify((await publish(world, format, e)).ref),
              'reproducible',
              'REBUILD_QUORUM_NOT_MET',
            );
          }
        });

        it('counts a third rebuilder and SLSA v0.2 rebuild provenance', async function () {
          const e = withAttestations((atts) => [
            ...atts.filter((a) => !isRebuildB(a)),
            {
              predicateType: SLSA_V02,
              predicate: slsaV02({ builderId: 'https://rebuilder-c.example' }),
              signer: { key: 'rebuilderC' },
            },
          ]);
          const v = await world.verify((await publish(world, format, e)).ref);
          assertAllowed(v);
          assert.deepEqual(
            [...(v.satisfied.find((s) => s.requirement === 'reproducible')?.by ?? [])].sort(),
            ['rebuilder-a', 'rebuilder-c'],
          );
        });

        if (format === 'referrer') {
          it('never counts unsigned evidence (an unsigned in-toto referrer)', async function () {
            const e = withAttestations((atts) => atts.filter((a) => !isRebuildB(a)));
            const p = await publish(world, format, e);
            // an unsigned VSA statement attached as a plain OCI referrer
            const statement = Buffer.from(
              JSON.stringify({
                _type: 'https://in-toto.io/Statement/v1',
                subject: [{ name: 'app', digest: { sha256: p.digest.slice(7) } }],
                predicateType: VSA_V1,
                predicate: vsa(),
              }),
            );
            const img = p.image as { manifest: Buffer; mediaType: string };
            const subject = { mediaType: img.mediaType, digest: p.digest, size: img.manifest.length };
            const referrer = buildArtifactManifest({
              artifactType: 'application/vnd.in-toto+json',
              subject,
              annotations: { 'dev.sigstore.bundle.predicateType': VSA_V1 },
              layers: [blobOf('application/vnd.in-toto+json', statement)],
            });
            const d = await pushImage(world.pusher, 'acme/app', referrer);
            await addToReferrersFallback(world.pusher, 'acme/app', p.digest, {
              ...d,
              artifactType: 'application/vnd.in-toto+json',
              annotations: { 'dev.sigstore.bundle.predicateType': VSA_V1 },
            });
            const f = assertBlocked(await world.verify(p.ref), 'reproducible', 'REBUILD_QUORUM_NOT_MET');
            assert.match(f.found, /^1 of 2/);
          });

          it('malformed bundle JSON in a referrer never counts', async function () {
            const e = happyEvidence();
            e.corruptBundles = {
              0: Buffer.from('{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", '),
            };
            assertBlocked(
              await world.verify((await publish(world, format, e)).ref),
              'signature',
              'SIGNATURE_INVALID',
            );
          });
        }

        if (format === 'cosign') {
          it('a malformed DSSE envelope in an .att layer never counts', async function () {
            const e = withAttestations((atts) =>
              atts.map((a) =>
                isReleaseSbom(a)
                  ? {
                      ...a,
                      rawEnvelope: Buffer.from('{"payloadType": "application/vnd.in-toto+json", "payload": '),
                    }
                  : a,
              ),
            );
            const f = assertBlocked(
              await world.verify((await publish(world, format, e)).ref),
              'sbom',
              'SBOM_INVALID',
            );
            assert.match(f.found, /not JSON/);
          });

          it('malformed simple-signing payloads never count', async function () {
            for (const raw of ['not json', JSON.stringify({ critical: { type: 'something else' } })]) {
              const e = {
                ...happyEvidence(),
                signatures: [{ signer: RELEASE, rawPayload: Buffer.from(raw) }],
              };
              assertBlocked(
                await world.verify((await publish(world, format, e)).ref),
                'signature',
                'SIGNATURE_INVALID',
              );
            }
          });
        }
      });

      describe('multi-platform', function () {
        const full = (): Evidence => happyEvidence();
        it('default (deployed): the index digest must carry the evidence', async function () {
          const onlyPlatforms = await publishIndex(world, format, (w) =>
            w === 'index' ? undefined : full(),
          );
          assertBlocked(await world.verify(onlyPlatforms.ref), 'signature', 'SIGNATURE_MISSING');
          const onlyIndex = await publishIndex(world, format, (w) => (w === 'index' ? full() : undefined));
          assertAllowed(await world.verify(onlyIndex.ref));
        });

        it('each: every platform manifest must satisfy the rule, and the failing one is named', async function () {
          const images = defaultRules(world.registry.host).replace(
            '- name: acme',
            '- name: acme\n    platforms: each',
          );
          const policy = world.policy({ images });
          const both = await publishIndex(world, format, (w) => (w === 'index' ? undefined : full()));
          const v = await world.verify(both.ref, policy);
          assertAllowed(v);
          assert.equal(v.satisfied.filter((s) => s.requirement === 'signature').length, 2);
          const armMissing = await publishIndex(world, format, (w) => (w === 'amd64' ? full() : undefined));
          const blocked = await world.verify(armMissing.ref, policy);
          const f = assertBlocked(blocked, 'signature', 'SIGNATURE_MISSING');
          assert.match(f.subject ?? '', /linux\/arm64/);
          assert.ok(!blocked.findings.some((x) => (x.subject ?? '').includes('amd64')));
        });

        it('a BuildKit provenance attestation in the index is unsigned and never meets the provenance requirement', async function () {
          const repo = `acme/buildkit-${format}`;
          const amd64 = buildImage({
            seed: `buildkit-${format}-${Date.now()}`,
            platform: { os: 'linux', architecture: 'amd64' },
          });
          // what `docker buildx build --provenance=true` adds: an unsigned in-toto manifest beside the image
          const { attestation, index } = buildKitIndex(amd64, SLSA_V1, slsaV1());
          const amd64Descriptor = await pushImage(world.pusher, repo, amd64);
          await pushImage(world.pusher, repo, attestation);
          const indexDigest = await world.pusher.putManifest(repo, index, OCI_INDEX, 'v1');
          // everything else the rule asks for, signed, on the platform image: only provenance is left to BuildKit
          const e = withAttestations((atts) =>
            atts.filter((a) => !(a.predicateType === SLSA_V1 && a.signer === RELEASE)),
          );
          await attachEvidence(world, format, repo, { ...amd64Descriptor, manifest: amd64.manifest }, e);
          const images = defaultRules(world.registry.host).replace(
            '- name: acme',
            '- name: acme\n    platforms: each',
          );
          const v = await world.verify(
            `${world.registry.host}/${repo}@${indexDigest}`,
            world.policy({ images }),
          );
          const f = assertBlocked(v, 'provenance', 'PROVENANCE_MISSING');
          assert.match(f.subject ?? '', /linux\/amd64/);
          assert.match(f.found, /1 unsigned attestation \(never counted\)/);
          // and the attestation manifest is not taken for a platform to verify
          assert.ok(!v.findings.some((x) => (x.subject ?? '').includes('unknown')));
        });

        it('both: the index and each platform manifest must satisfy the rule', async function () {
          const images = defaultRules(world.registry.host).replace(
            '- name: acme',
            '- name: acme\n    platforms: both',
          );
          const policy = world.policy({ images });
          const platformsOnly = await publishIndex(world, format, (w) =>
            w === 'index' ? undefined : full(),
          );
          const f = assertBlocked(
            await world.verify(platformsOnly.ref, policy),
            'signature',
            'SIGNATURE_MISSING',
          );
          assert.equal(f.subject, undefined);
          const all = await publishIndex(world, format, () => full());
          assertAllowed(await world.verify(all.ref, policy));
        });
      });
    });
  }

  describe('malformed attachments: skipped and noted, never blocking, never counting', function () {
    const REPO = 'acme/app';
    const subjectOf = (p: Published): Descriptor => {
      const img = p.image as { manifest: Buffer; mediaType: string };
      return { mediaType: img.mediaType, digest: p.digest, size: img.manifest.length };
    };
    /** Pushes `artifact` and lists it in the referrers tag-schema index of `p`, as `entry` says. */
    const listReferrer = async (
      p: Published,
      artifact: OciImage,
      entry: (d: Descriptor) => Descriptor = (d) => d,
    ): Promise<Descriptor> => {
      const d = await pushImage(world.pusher, REPO, artifact);
      await addToReferrersFallback(
        world.pusher,
        REPO,
        p.digest,
        entry({ ...d, artifactType: SIGSTORE_BUNDLE_V03 }),
      );
      return d;
    };

    interface Malformed {
      name: string;
      source: string;
      reason: string;
      /** The signature finding's code when nothing valid is attached besides it. */
      alone: VerificationCode;
      /** Attaches the malformed item to `p`; returns what the note must name. */
      attach(p: Published): Promise<string>;
    }
    const MALFORMED: Malformed[] = [
      {
        name: 'a Sigstore bundle referrer with no bundle layer',
        source: 'referrer',
        reason: 'NO_BUNDLE_LAYER',
        alone: 'SIGNATURE_MISSING',
        attach: async (p) =>
          (
            await listReferrer(
              p,
              buildArtifactManifest({
                artifactType: SIGSTORE_BUNDLE_V03,
                subject: subjectOf(p),
                layers: [blobOf('text/plain', Buffer.from('not a bundle'))],
              }),
            )
          ).digest,
      },
      {
        name: 'a bundle referrer whose layer blob is garbage JSON',
        source: 'referrer',
        reason: 'MALFORMED_PAYLOAD',
        alone: 'SIGNATURE_INVALID',
        attach: async (p) =>
          (
            await listReferrer(
              p,
              buildArtifactManifest({
                artifactType: SIGSTORE_BUNDLE_V03,
                subject: subjectOf(p),
                layers: [blobOf(SIGSTORE_BUNDLE_V03, Buffer.from('{"hello": ["world"], "signatures": 7}'))],
              }),
            )
          ).digest,
      },
      {
        // distribution refuses to store a non-JSON manifest (checked here); what anyone can push instead is a
        // listing that does not match the manifest it names (distribution accepts any size in an index).
        name: 'a referrer that cannot be read as listed (a non-JSON manifest is refused by the registry)',
        source: 'referrer',
        reason: 'DESCRIPTOR_MISMATCH',
        alone: 'SIGNATURE_MISSING',
        attach: async (p) => {
          const garbage = Buffer.from('this is not a manifest');
          const res = await fetch(`${world.registry.url}/v2/${REPO}/manifests/${rawSha256(garbage)}`, {
            method: 'PUT',
            body: garbage,
            headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
          });
          assert.equal(res.status, 400, 'the registry stores no non-JSON manifest');
          await res.arrayBuffer();
          const artifact = buildArtifactManifest({
            artifactType: SIGSTORE_BUNDLE_V03,
            subject: subjectOf(p),
            layers: [blobOf(SIGSTORE_BUNDLE_V03, Buffer.from('{"x":1}'))],
          });
          return (await listReferrer(p, artifact, (d) => ({ ...d, size: d.size + 1 }))).digest;
        },
      },
      {
        name: 'a cosign .sig layer with garbage',
        source: 'cosign-sig',
        reason: 'MALFORMED_PAYLOAD',
        alone: 'SIGNATURE_INVALID',
        attach: async (p) => {
          const payload = Buffer.from([0x00, 0x67, 0x61, 0x72, 0x62, 0xff, 0xfe]);
          await attachCosignSignatures(world.pusher, REPO, p.digest, [{ payload, signature: 'AAAA' }], {
            append: true,
          });
          return rawSha256(payload);
        },
      },
    ];

    const noteFor = (v: ImageVerdict, m: Malformed, attachment: string): VerdictNote => {
      const notes = (v.notes ?? []).filter((n) => n.attachment === attachment);
      assert.equal(notes.length, 1, `one note for ${attachment}: ${JSON.stringify(v.notes, null, 1)}`);
      const n = notes[0] as VerdictNote;
      assert.deepEqual([n.code, n.source, n.reason], ['ATTACHMENT_IGNORED', m.source, m.reason]);
      assert.ok(n.message.includes(attachment) && n.message.includes('ignored'));
      return n;
    };

    for (const format of FORMATS) {
      for (const m of MALFORMED) {
        it(`${format} evidence plus ${m.name}: still allowed, with a note`, async function () {
          const p = await publish(world, format);
          const attachment = await m.attach(p);
          const v = await world.verify(p.ref);
          assertAllowed(v);
          noteFor(v, m, attachment);
          assert.equal(v.notes?.length, 1);
          assert.deepEqual(v.satisfied.map((x) => x.requirement).sort(), [
            'provenance',
            'reproducible',
            'sbom',
            'signature',
          ]);
        });
      }
    }

    for (const m of MALFORMED) {
      it(`no valid evidence plus ${m.name}: blocked (${m.alone}), the finding and a note say what was ignored`, async function () {
        const p = await publish(world, 'referrer', { signatures: [], attestations: [] });
        const attachment = await m.attach(p);
        const v = await world.verify(p.ref);
        const f = assertBlocked(v, 'signature', m.alone);
        assert.ok(f.found.includes(attachment.slice(0, 19)), f.found);
        noteFor(v, m, attachment);
        assert.deepEqual(v.satisfied, []);
        for (const [requirement, code] of [
          ['sbom', 'SBOM_MISSING'],
          ['provenance', 'PROVENANCE_MISSING'],
          ['reproducible', 'REBUILD_QUORUM_NOT_MET'],
        ] as const) {
          assertBlocked(v, requirement, code);
        }
      });
    }

    /** Re-lists every referrer of `p` as `rewrap` changes its manifest (same blobs: valid, signed bundles). */
    const rewrapReferrers = async (
      p: Published,
      rewrap: (json: { layers: Descriptor[] }) => void,
    ): Promise<string[]> => {
      const fallback = await rawManifest(world.registry.url, REPO, digestTag(p.digest));
      const entries = (JSON.parse(fallback.bytes.toString()) as { manifests: Descriptor[] }).manifests;
      const wrapped: Descriptor[] = [];
      for (const e of entries) {
        const json = JSON.parse((await rawManifest(world.registry.url, REPO, e.digest)).bytes.toString()) as {
          layers: Descriptor[];
        };
        rewrap(json);
        const bytes = Buffer.from(JSON.stringify(json));
        const digest = await world.pusher.putManifest(REPO, bytes, OCI_MANIFEST, rawSha256(bytes));
        wrapped.push({ ...e, digest, size: bytes.length });
      }
      const index = Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: wrapped }),
      );
      await world.pusher.putManifest(REPO, index, OCI_INDEX, digestTag(p.digest));
      return wrapped.map((w) => w.digest);
    };

    const wrappers: [string, string, (json: { layers: Descriptor[] }) => void][] = [
      [
        'its bundle layer typed as something else',
        'NO_BUNDLE_LAYER',
        (j) => j.layers.forEach((l) => (l.mediaType = 'application/json')),
      ],
      [
        'its bundle layer descriptor understating the size',
        'DESCRIPTOR_MISMATCH',
        (j) => j.layers.forEach((l) => (l.size = 16)),
      ],
    ];
    for (const [what, reason, rewrap] of wrappers) {
      it(`valid signed bundles in malformed referrers (${what}) never satisfy a requirement`, async function () {
        const p = await publish(world, 'referrer');
        assertAllowed(await world.verify(p.ref));
        const wrapped = await rewrapReferrers(p, rewrap);
        assert.equal(wrapped.length, 5);
        const v = await world.verify(p.ref);
        assert.equal(v.allowed, false);
        assert.deepEqual(v.satisfied, []);
        assert.deepEqual(v.findings.map((f) => f.code).sort(), [
          'PROVENANCE_MISSING',
          'REBUILD_QUORUM_NOT_MET',
          'SBOM_MISSING',
          'SIGNATURE_MISSING',
        ]);
        assert.deepEqual(
          (v.notes ?? []).map((n) => [n.attachment, n.reason]).sort(),
          wrapped.map((d) => [d, reason]).sort(),
        );
      });
    }

    it('platforms: each — a malformed referrer on one platform manifest is noted with that subject', async function () {
      const images = defaultRules(world.registry.host).replace(
        '- name: acme',
        '- name: acme\n    platforms: each',
      );
      const p = await publishIndex(world, 'cosign', (w) => (w === 'index' ? undefined : happyEvidence()));
      const arm64 = p.platforms[1];
      assert.ok(arm64 && arm64.platform?.architecture === 'arm64');
      const subject = { mediaType: arm64.mediaType, digest: arm64.digest, size: arm64.manifest.length };
      const bad = await pushImage(
        world.pusher,
        'acme/multi',
        buildArtifactManifest({
          artifactType: SIGSTORE_BUNDLE_V03,
          subject,
          layers: [blobOf('text/plain', Buffer.from('not a bundle'))],
        }),
      );
      await addToReferrersFallback(world.pusher, 'acme/multi', arm64.digest, {
        ...bad,
        artifactType: SIGSTORE_BUNDLE_V03,
      });
      const v = await world.verify(p.ref, world.policy({ images }));
      assertAllowed(v);
      assert.equal(v.notes?.length, 1);
      assert.equal(v.notes?.[0]?.attachment, bad.digest);
      assert.match(v.notes?.[0]?.subject ?? '', new RegExp(`^${arm64.digest} \\(linux/arm64\\)$`));
    });

    it('a referrer manifest served as non-JSON bytes matching its digest: skipped; bytes not matching: REGISTRY_ERROR', async function () {
      const proxy = await new FaultProxy(world.registry.url).start();
      try {
        const policy = world.policy({ images: defaultRules(proxy.host) });
        const p = await publish(world, 'referrer');
        const ref = `${proxy.host}/${REPO}@${p.digest}`;
        assertAllowed(await world.verify(ref, policy));
        const fallback = await rawManifest(world.registry.url, REPO, digestTag(p.digest));
        const index = JSON.parse(fallback.bytes.toString()) as { manifests: Descriptor[] };
        const body = Buffer.from('{not json at all');
        const bogus = {
          mediaType: OCI_MANIFEST,
          digest: rawSha256(body),
          size: body.length,
          artifactType: SIGSTORE_BUNDLE_V03,
        };
        const at = (reference: string): RegExp => new RegExp(`^/v2/${REPO}/manifests/${reference}$`);
        proxy.setFaults([
          {
            path: at(digestTag(p.digest)),
            action: {
              kind: 'replace',
              body: Buffer.from(JSON.stringify({ ...index, manifests: [...index.manifests, bogus] })),
              dropDigestHeader: true,
            },
          },
          { path: at(bogus.digest), action: { kind: 'replace', body, dropDigestHeader: true } },
        ]);
        const v = await world.verify(ref, policy);
        assertAllowed(v);
        assert.deepEqual(
          v.notes?.map((n) => [n.attachment, n.reason]),
          [[bogus.digest, 'MALFORMED_MANIFEST']],
        );
        // The registry serving other bytes for a valid referrer is not a pusher's doing: fail closed.
        const first = index.manifests[0];
        assert.ok(first);
        proxy.setFaults([{ path: at(first.digest), action: { kind: 'corrupt' } }]);
        assertBlocked(await world.verify(ref, policy), 'registry', 'REGISTRY_ERROR');
      } finally {
        await proxy.close();
      }
    });
  });

  describe(`index size cap (platforms: each, at most ${MAX_INDEX_MANIFESTS} manifests)`, function () {
    const REPO = 'acme/wide';
    let platforms: OciImage[];
    const wide = (): ResolvedTrustPolicy =>
      world.policy({
        images: `images:
  - name: wide
    match: ["${world.registry.host}/${REPO}"]
    platforms: each
    signature: { signers: [ops] }
`,
      });

    before(async function () {
      // Small manifests, each signed by the ops key (node crypto + the loopback Rekor): fast enough to push 65.
      platforms = Array.from({ length: MAX_INDEX_MANIFESTS + 1 }, (_, i) =>
        buildImage({
          seed: `wide-${Date.now()}`,
          platform: { os: 'linux', architecture: 'amd64', variant: `v${i}` },
          layerBytes: 16,
        }),
      );
      for (const img of platforms) {
        const d = await pushImage(world.pusher, REPO, img);
        await attachEvidence(
          world,
          'cosign',
          REPO,
          { ...d, manifest: img.manifest },
          {
            signatures: [{ signer: { key: 'ops' } }],
            attestations: [],
          },
        );
      }
    });

    it(`an index of exactly ${MAX_INDEX_MANIFESTS} signed platform manifests is verified and allowed`, async function () {
      const index = buildIndex(platforms.slice(0, MAX_INDEX_MANIFESTS));
      await pushImage(world.pusher, REPO, index, 'at-cap');
      const v = await world.verify(`${world.registry.host}/${REPO}@${index.digest}`, wide());
      assertAllowed(v);
      assert.equal(v.satisfied.filter((s) => s.requirement === 'signature').length, MAX_INDEX_MANIFESTS);
    });

    it(`an index of ${MAX_INDEX_MANIFESTS + 1} is blocked with INDEX_TOO_LARGE before any platform manifest is read`, async function () {
      const index = buildIndex(platforms);
      await pushImage(world.pusher, REPO, index, 'over-cap');
      const image = `${world.registry.host}/${REPO}@${index.digest}`;
      const client = createRegistryClient({});
      try {
        const v = await createImageVerifier({
          policy: wide(),
          registry: client,
          trustedRoot: loadTrustedRoot(world.mock.trustedRoot),
        }).verify(image);
        const f = assertBlocked(v, 'policy', 'INDEX_TOO_LARGE');
        assert.deepEqual(v.findings.length, 1);
        assert.ok(
          f.found.includes(index.digest) && f.found.includes(String(MAX_INDEX_MANIFESTS + 1)),
          f.found,
        );
        assert.ok(f.found.includes(`${world.registry.host}/${REPO}`), f.found);
        assert.ok(f.expected.includes(String(MAX_INDEX_MANIFESTS)), f.expected);
        assert.equal(client.stats().requests, 1, 'only the index itself was read');
      } finally {
        client.close();
      }
      // The same index under platforms: deployed verifies only the index: no cap, an ordinary verdict.
      const deployed = world.policy({
        images: `images:
  - name: wide
    match: ["${world.registry.host}/${REPO}"]
    signature: { signers: [ops] }
`,
      });
      assertBlocked(await world.verify(image, deployed), 'signature', 'SIGNATURE_MISSING');
    });
  });

  describe('policy-level outcomes', function () {
    it('blocks an image no rule matches, unless unmatchedImages: allow', async function () {
      const p = await publish(
        world,
        'referrer',
        { signatures: [], attestations: [] },
        { repo: 'other/tool' },
      );
      assertBlocked(await world.verify(p.ref), 'policy', 'NO_MATCHING_RULE');
      const v = await world.verify(p.ref, world.policy({ extra: 'unmatchedImages: allow\n' }));
      assertAllowed(v);
    });

    it('an exemption in force allows that digest only, and stops working after its expiry', async function () {
      const p = await publish(world, 'referrer', { signatures: [], attestations: [] });
      const other = await publish(world, 'referrer', { signatures: [], attestations: [] });
      const policy = world.policy({
        extra: `exemptions:
  - image: ${world.registry.host}/acme/app@${p.digest}
    reason: vendor image, rebuild pending
    ticket: SEC-123
    expires: 2026-12-31
`,
      });
      const before = await world.verify(p.ref, policy, new Date('2026-12-31T23:59:00Z'));
      assert.equal(before.allowed, true);
      assert.equal(before.exemption?.ticket, 'SEC-123');
      // the waived findings are still reported
      assert.ok(before.findings.some((f) => f.code === 'SIGNATURE_MISSING'));
      const after = await world.verify(p.ref, policy, new Date('2027-01-01T00:00:01Z'));
      assertBlocked(after, 'exemption', 'EXEMPTION_EXPIRED');
      assertBlocked(after, 'signature', 'SIGNATURE_MISSING');
      assert.equal(after.exemption, undefined);
      assertBlocked(
        await world.verify(other.ref, policy, new Date('2026-06-01T00:00:00Z')),
        'signature',
        'SIGNATURE_MISSING',
      );
    });

    it('a missing repository or digest is a blocked verdict with REGISTRY_ERROR, never an exception', async function () {
      const v = await world.verify(`${world.registry.host}/acme/nothing@sha256:${'3'.repeat(64)}`);
      assertBlocked(v, 'registry', 'REGISTRY_ERROR');
      const bad = await world.verify('Not A Reference!!');
      assertBlocked(bad, 'registry', 'REGISTRY_ERROR');
    });

    it('caches per digest: a second verify of the same digest sends no registry request', async function () {
      const client = createRegistryClient({});
      const verifier = createImageVerifier({
        policy: world.policy(),
        registry: client,
        trustedRoot: loadTrustedRoot(world.mock.trustedRoot),
      });
      const p = await publish(world, 'referrer');
      assertAllowed(await verifier.verify(p.ref));
      const requests = client.stats().requests;
      assertAllowed(await verifier.verify(p.ref));
      assert.equal(client.stats().requests, requests);
    });

    it('an image built by the builders but not pushed with attachments is blocked in every requirement', async function () {
      const img = buildImage({ seed: `bare-${Date.now()}` });
      await pushImage(world.pusher, 'acme/bare', img, 'v1');
      const v = await world.verify(`${world.registry.host}/acme/bare@${img.digest}`);
      assert.deepEqual(
        v.findings.map((f) => f.code).sort(),
        ['PROVENANCE_MISSING', 'REBUILD_QUORUM_NOT_MET', 'SBOM_MISSING', 'SIGNATURE_MISSING'].sort(),
      );
    });
  });
});
