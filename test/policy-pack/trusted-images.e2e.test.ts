import { strict as assert } from 'node:assert';
import { parse as parseYaml } from 'yaml';
import { addToReferrersFallback } from '../../cli/oci/attach';
import { blobOf } from '../../cli/oci/digest';
import { buildArtifactManifest } from '../../cli/oci/image';
import { SIGSTORE_BUNDLE_V03 } from '../../cli/oci/media-types';
import { pushImage } from '../../cli/oci/target';
import { startAnalyzer, type AnalyzerSession, type ResourceInput } from '../../cli/analyzer';
import { buildPackConfig, type PackConfig } from '../../policy-pack/config';
import type { TrustPolicy } from '../../policy-pack/supply-chain/types';
import { startRegistry } from '../support/registry';
import {
  defaultRules,
  happyEvidence,
  publish,
  RELEASE,
  SLSA_V1,
  SPDX_PREDICATE,
  startWorld,
  VSA_V1,
  vsa,
  type Evidence,
  type World,
} from '../supply-chain/support/world';
import { PACK_DIR, deployment, messages, summary } from './support/pack';

/**
 * trusted-images and images-pinned-by-digest through the real protocol, against a real registry with
 * evidence signed by the real Sigstore libraries (keyless through the loopback mock, rebuilders by key).
 * Every negative case starts from the compliant image and removes one thing.
 */

const DEPLOYMENT = 'kubernetes:apps/v1:Deployment';

function trustPolicyOf(world: World, o: { images?: string; extra?: string } = {}): TrustPolicy {
  // The pack reads trust material from the policy (the mock's root, written by the world).
  const extra = `trustedRoot:\n  file: ./trusted_root.json\n${o.extra ?? ''}`;
  return parseYaml(world.policyYaml({ ...o, extra })) as TrustPolicy;
}

function configOf(
  world: World,
  o: { images?: string; extra?: string } = {},
  overrides: PackConfig = {},
): PackConfig {
  return buildPackConfig({
    trustPolicy: trustPolicyOf(world, o),
    trustPolicyBaseDir: world.dir,
    allowedPrefixes: [world.registry.host],
    overrides,
  });
}

/**
 * The compliant image: signature, SPDX SBOM and SLSA provenance by the release identity, and PASSED
 * verification summaries from two of the three rebuilders. (A rebuilder's own provenance counts only
 * when it matches the release provenance, so VSAs keep the quorum independent of the provenance case.)
 */
function compliantEvidence(): Evidence {
  const e = happyEvidence();
  const attestations = e.attestations.filter((a) => !(a.predicateType === SLSA_V1 && a.signer !== RELEASE));
  attestations.push({ predicateType: VSA_V1, predicate: vsa(), signer: { key: 'rebuilderC' } });
  return { ...e, attestations };
}

const withoutAttestation = (drop: (a: Evidence['attestations'][number]) => boolean): Evidence => {
  const e = compliantEvidence();
  return { ...e, attestations: e.attestations.filter((a) => !drop(a)) };
};

describe('trusted-images through the analyzer protocol (real registry, real signatures)', function () {
  let world: World;
  let analyzer: AnalyzerSession;
  const workload = (image: string, name = 'web'): ResourceInput => ({
    type: DEPLOYMENT,
    name,
    properties: deployment([image]),
  });

  before(async function () {
    world = await startWorld();
    analyzer = await startAnalyzer({ packDir: PACK_DIR });
  });
  after(async function () {
    await analyzer?.close();
    await world?.stop();
  });
  beforeEach(async function () {
    await analyzer.configure(configOf(world));
  });

  it('a compliant Deployment passes every policy (signature, SBOM, provenance, 2-of-3 rebuilds, digest pin)', async function () {
    for (const format of ['referrer', 'cosign'] as const) {
      const p = await publish(world, format, compliantEvidence());
      assert.deepEqual(summary(await analyzer.analyze(workload(p.ref))), [], format);
    }
  });

  const removals: [string, () => Evidence, string][] = [
    ['signature', () => ({ ...compliantEvidence(), signatures: [] }), 'SIGNATURE_MISSING'],
    ['SBOM', () => withoutAttestation((a) => a.predicateType === SPDX_PREDICATE), 'SBOM_MISSING'],
    [
      'provenance',
      () => withoutAttestation((a) => a.predicateType === SLSA_V1 && a.signer === RELEASE),
      'PROVENANCE_MISSING',
    ],
    [
      'rebuild quorum (one of two rebuilds)',
      () => withoutAttestation((a) => a.predicateType === VSA_V1),
      'REBUILD_QUORUM_NOT_MET',
    ],
  ];
  for (const [what, evidence, code] of removals) {
    it(`removing the ${what} gives exactly one mandatory ${code}`, async function () {
      // Alternate formats so both attachment schemes are covered by the negative cases too.
      const format = removals.findIndex((r) => r[0] === what) % 2 === 0 ? 'referrer' : 'cosign';
      const p = await publish(world, format, evidence());
      const r = await analyzer.analyze(workload(p.ref));
      assert.deepEqual(summary(r), [`trusted-images mandatory ${code}`]);
      const m = messages(r, 'trusted-images')[0]!;
      // Names resource, container, image, requirement, expected and found.
      assert.match(
        m,
        /^\[[A-Z_]+\] web \(kubernetes:apps\/v1:Deployment\): container "c0" \(spec\.template\.spec\.containers\[0\]\.image\) image "/,
      );
      assert.ok(m.includes(p.ref) && m.includes(': expected ') && m.includes('; found '), m);
    });
  }

  it('removing the digest pin gives exactly one mandatory NOT_PINNED (the tag still verifies)', async function () {
    const p = await publish(world, 'referrer', compliantEvidence());
    const r = await analyzer.analyze(workload(p.tagRef));
    assert.deepEqual(summary(r), ['images-pinned-by-digest mandatory NOT_PINNED']);
  });

  it('remediate pins a tag to the digest verified in this run, and never pins an image that fails', async function () {
    await analyzer.configure(configOf(world, {}, { 'images-pinned-by-digest': 'remediate' }));
    const good = await publish(world, 'referrer', compliantEvidence());
    const rem = await analyzer.remediate(workload(good.tagRef));
    assert.equal(rem.remediations.length, 1);
    const props = rem.remediations[0]!.properties as ReturnType<typeof deployment>;
    const image = (props.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
      .containers[0]!.image;
    assert.equal(image, `${world.registry.host}/acme/app@${good.digest}`);
    assert.deepEqual(
      summary(await analyzer.analyze({ type: DEPLOYMENT, name: 'web', properties: props })),
      [],
    );

    const unsigned = await publish(world, 'referrer', { ...compliantEvidence(), signatures: [] });
    assert.deepEqual((await analyzer.remediate(workload(unsigned.tagRef))).remediations, []);
    // The engine then analyzes the unremediated resource: remediate is reported as mandatory.
    assert.deepEqual(summary(await analyzer.analyze(workload(unsigned.tagRef))), [
      'images-pinned-by-digest mandatory NOT_PINNED',
      'trusted-images mandatory SIGNATURE_MISSING',
    ]);
  });

  it('an exemption in force is advisory with reason, ticket and expiry; an expired one blocks', async function () {
    const p = await publish(world, 'referrer', { ...compliantEvidence(), signatures: [] });
    const exemption = (expires: string): string =>
      `exemptions:\n  - image: ${p.ref}\n    reason: vendor image awaiting signing\n    ticket: SEC-42\n    expires: "${expires}"\n`;
    await analyzer.configure(configOf(world, { extra: exemption('2099-12-31') }));
    const r = await analyzer.analyze(workload(p.ref));
    assert.deepEqual(summary(r), ['trusted-images advisory EXEMPTION_IN_FORCE']);
    const m = messages(r, 'trusted-images')[0]!;
    for (const part of ['vendor image awaiting signing', 'SEC-42', '2099-12-31', 'SIGNATURE_MISSING'])
      assert.ok(m.includes(part), m);

    await analyzer.configure(configOf(world, { extra: exemption('2020-01-01') }));
    assert.deepEqual(summary(await analyzer.analyze(workload(p.ref))), [
      'trusted-images mandatory EXEMPTION_EXPIRED',
      'trusted-images mandatory SIGNATURE_MISSING',
    ]);
  });

  it('a malformed referrer next to a compliant image is one advisory ATTACHMENT_IGNORED, never a block', async function () {
    const p = await publish(world, 'referrer', compliantEvidence());
    const img = p.image as { manifest: Buffer; mediaType: string };
    const bogus = await pushImage(
      world.pusher,
      'acme/app',
      buildArtifactManifest({
        artifactType: SIGSTORE_BUNDLE_V03,
        subject: { mediaType: img.mediaType, digest: p.digest, size: img.manifest.length },
        layers: [blobOf('text/plain', Buffer.from('not a bundle'))],
      }),
    );
    await addToReferrersFallback(world.pusher, 'acme/app', p.digest, {
      ...bogus,
      artifactType: SIGSTORE_BUNDLE_V03,
    });
    await analyzer.configure(configOf(world));
    const r = await analyzer.analyze(workload(p.ref));
    assert.deepEqual(summary(r), ['trusted-images advisory ATTACHMENT_IGNORED']);
    const m = messages(r, 'trusted-images')[0]!;
    for (const part of [bogus.digest, 'NO_BUNDLE_LAYER', p.digest]) assert.ok(m.includes(part), m);
  });

  it('init containers and Cloud Run services are verified too, each image named', async function () {
    const good = await publish(world, 'referrer', compliantEvidence());
    const bad = await publish(
      world,
      'referrer',
      withoutAttestation((a) => a.predicateType === SPDX_PREDICATE),
    );
    const pod = deployment([good.ref]);
    (pod.spec as Record<string, Record<string, Record<string, unknown>>>).template!.spec!.initContainers = [
      { name: 'migrate', image: bad.ref },
    ];
    const r = await analyzer.analyze({ type: DEPLOYMENT, name: 'web', properties: pod });
    assert.deepEqual(summary(r), ['trusted-images mandatory SBOM_MISSING']);
    assert.match(messages(r, 'trusted-images')[0]!, /initContainer "migrate"/);
    const run = await analyzer.analyze({
      type: 'gcp:cloudrunv2/service:Service',
      name: 'api',
      properties: {
        template: {
          containers: [
            { name: 'api', image: good.ref },
            { name: 'side', image: bad.ref },
          ],
        },
      },
    });
    assert.deepEqual(summary(run), ['trusted-images mandatory SBOM_MISSING']);
  });

  it('a helm.sh/v3 Release hides its workloads: mandatory by default, level configurable', async function () {
    const release: ResourceInput = {
      type: 'kubernetes:helm.sh/v3:Release',
      name: 'rel',
      properties: { chart: 'nginx' },
    };
    assert.deepEqual(summary(await analyzer.analyze(release)), ['trusted-images mandatory WORKLOADS_HIDDEN']);
    await analyzer.configure(configOf(world, {}, { 'trusted-images': { hiddenWorkloadsLevel: 'advisory' } }));
    assert.deepEqual(summary(await analyzer.analyze(release)), ['trusted-images advisory WORKLOADS_HIDDEN']);
  });

  it('a trust policy that passes the schema but cannot be resolved blocks every image (POLICY_INVALID)', async function () {
    const broken = trustPolicyOf(world) as unknown as { signers: Record<string, unknown> };
    broken.signers.ops = { key: { publicKeyFile: './keys/missing.pub' } };
    await analyzer.configure(
      buildPackConfig({
        trustPolicy: broken as unknown as TrustPolicy,
        trustPolicyBaseDir: world.dir,
        allowedPrefixes: [world.registry.host],
      }),
    );
    const p = await publish(world, 'referrer', compliantEvidence());
    const r = await analyzer.analyze(workload(p.ref));
    assert.deepEqual(summary(r), ['trusted-images mandatory POLICY_INVALID']);
    assert.match(messages(r, 'trusted-images')[0]!, /missing\.pub/);
  });

  it('a stopped registry is a mandatory REGISTRY_ERROR violation, not an RPC error', async function () {
    const gone = await startRegistry();
    const host = gone.host;
    await gone.stop();
    await analyzer.configure(
      buildPackConfig({
        trustPolicy: trustPolicyOf(world, { images: defaultRules(host) }),
        trustPolicyBaseDir: world.dir,
        allowedPrefixes: [host],
      }),
    );
    const r = await analyzer.analyze(workload(`${host}/acme/app@sha256:${'c'.repeat(64)}`));
    assert.deepEqual(summary(r), ['trusted-images mandatory REGISTRY_ERROR']);
    assert.match(messages(r, 'trusted-images')[0]!, new RegExp(host.replace(/\./g, '\\.')));
  });
});
