import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { buildImage } from '../../cli/oci/image';
import { pushImage } from '../../cli/oci/target';
import { SPIRE_RELEASE } from '../../components/platform-images';
import { createImageVerifier } from '../../policy-pack/image-verifier';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { loadTrustedRoot } from '../../policy-pack/supply-chain/sigstore';
import { loadTrustPolicyFile, type ResolvedTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { ImageVerdict } from '../../policy-pack/supply-chain/types';
import type { MockIdentity } from '../support/sigstore-mock';
import { attachEvidence, startWorld, type Evidence, type World } from '../supply-chain/support/world';

/**
 * The example trust policy's publisher rules against images published the way each publisher really
 * publishes them (identities, storage repository, provenance), signed by the real libraries through the
 * loopback Sigstore and served as ghcr.io / registry.k8s.io through a registry mirror. What the
 * publishers publish passes; one thing changed fails; the image unsigned upstream passes only by its
 * visible, expiring exemption.
 */

const GITHUB = 'https://token.actions.githubusercontent.com';
const KYVERNO_RELEASE: MockIdentity = {
  issuer: GITHUB,
  uri: 'https://github.com/kyverno/kyverno/.github/workflows/release.yaml@refs/tags/v1.19.1',
  claims: { repository: 'kyverno/kyverno', ref: 'refs/tags/v1.19.1' },
};
const GENERATOR =
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0';
const provenanceSigner = (repository: string): MockIdentity => ({
  issuer: GITHUB,
  uri: GENERATOR,
  claims: { repository, ref: 'refs/tags/v1.19.1' },
});
const SPIRE_RELEASE_IDENTITY: MockIdentity = {
  issuer: GITHUB,
  uri: 'https://github.com/spiffe/spire/.github/workflows/release_build.yaml@refs/tags/v1.15.2',
};
const KREL: MockIdentity = {
  issuer: 'https://accounts.google.com',
  email: 'krel-trust@k8s-releng-prod.iam.gserviceaccount.com',
};

/** SLSA v0.2 provenance as slsa-github-generator's container workflow writes it. */
function generatorProvenance(repo = 'kyverno/kyverno'): Record<string, unknown> {
  const source = {
    uri: `git+https://github.com/${repo}@refs/tags/v1.19.1`,
    digest: { sha1: 'c'.repeat(40) },
  };
  return {
    builder: { id: GENERATOR },
    buildType: 'https://github.com/slsa-framework/slsa-github-generator/container@v1',
    invocation: { configSource: { ...source, entryPoint: '.github/workflows/release.yaml' } },
    materials: [source],
  };
}

describe('the platform verifies its own images (example trust policy, publishers as they publish)', function () {
  let world: World;
  let policy: ResolvedTrustPolicy;

  before(async () => {
    world = await startWorld();
    policy = loadTrustPolicyFile(path.resolve(__dirname, '..', '..', 'examples', 'trust-policy.yaml'));
  });
  after(async () => {
    await world?.stop();
  });

  /** ghcr.io and registry.k8s.io are the loopback registry here (a mirror, as --registry-mirror maps). */
  const verify = (image: string): Promise<ImageVerdict> =>
    createImageVerifier({
      policy,
      registry: createRegistryClient({
        mirrors: { 'ghcr.io': world.registry.url, 'registry.k8s.io': world.registry.url },
      }),
      trustedRoot: loadTrustedRoot(world.mock.trustedRoot, 'sigstore mock'),
    }).verify(image);

  /** Pushes an image to `repo` and attaches `evidence`, stored in `storeRepo` (default: beside it). */
  async function published(
    host: string,
    repo: string,
    evidence: Evidence,
    storeRepo = repo,
  ): Promise<string> {
    const image = buildImage({ seed: `${repo}-${Date.now()}-${Math.random()}` });
    const d = await pushImage(world.pusher, repo, image, `t${Date.now()}`);
    await attachEvidence(world, 'cosign', storeRepo, { ...d, manifest: image.manifest }, evidence);
    return `${host}/${repo}:v1.19.1@${image.digest}`;
  }

  const kyvernoEvidence = (o: { provenanceRepo?: string; provenance?: boolean } = {}): Evidence => ({
    signatures: [{ signer: { keyless: KYVERNO_RELEASE } }],
    attestations:
      o.provenance === false
        ? []
        : [
            {
              predicateType: 'https://slsa.dev/provenance/v0.2',
              predicate: generatorProvenance(),
              signer: { keyless: provenanceSigner(o.provenanceRepo ?? 'kyverno/kyverno') },
            },
          ],
  });

  it('Kyverno: its release signature in ghcr.io/kyverno/signatures and its SLSA provenance pass', async () => {
    const ref = await published('ghcr.io', 'kyverno/kyverno', kyvernoEvidence(), 'kyverno/signatures');
    const v = await verify(ref);
    assert.equal(v.allowed, true, JSON.stringify(v.findings, null, 1));
    assert.equal(v.rule, 'kyverno');
    assert.deepEqual(
      v.satisfied.map((s) => [s.requirement, s.by]),
      [
        ['signature', ['kyverno-release']],
        ['provenance', ['kyverno-provenance']],
      ],
    );
  });

  it('Kyverno: signatures beside the image, provenance from another repository, or none, are refused', async () => {
    const beside = await verify(await published('ghcr.io', 'kyverno/kyverno', kyvernoEvidence()));
    assert.deepEqual(
      beside.findings.map((f) => f.code),
      ['SIGNATURE_MISSING', 'PROVENANCE_MISSING'],
    );
    const fork = await verify(
      await published(
        'ghcr.io',
        'kyverno/kyverno',
        kyvernoEvidence({ provenanceRepo: 'evil/kyverno' }),
        'kyverno/signatures',
      ),
    );
    assert.deepEqual(
      fork.findings.map((f) => [f.requirement, f.code]),
      [['provenance', 'SIGNER_UNTRUSTED']],
    );
    const none = await verify(
      await published(
        'ghcr.io',
        'kyverno/kyverno',
        kyvernoEvidence({ provenance: false }),
        'kyverno/signatures',
      ),
    );
    assert.deepEqual(
      none.findings.map((f) => f.code),
      ['PROVENANCE_MISSING'],
    );
  });

  it("SPIRE: its release workflow's keyless signature passes; another workflow's does not", async () => {
    const ok = await verify(
      await published('ghcr.io', 'spiffe/spire-server', {
        signatures: [{ signer: { keyless: SPIRE_RELEASE_IDENTITY } }],
        attestations: [],
      }),
    );
    assert.equal(ok.allowed, true, JSON.stringify(ok.findings, null, 1));
    const prBuild = await verify(
      await published('ghcr.io', 'spiffe/spire-server', {
        signatures: [
          {
            signer: {
              keyless: {
                ...SPIRE_RELEASE_IDENTITY,
                uri: 'https://github.com/spiffe/spire/.github/workflows/pr_build.yaml@refs/heads/main',
              },
            },
          },
        ],
        attestations: [],
      }),
    );
    assert.deepEqual(
      prBuild.findings.map((f) => f.code),
      ['SIGNER_UNTRUSTED'],
    );
  });

  it('Kubernetes sig-storage: signed by krel-trust (Google identity) passes', async () => {
    const v = await verify(
      await published('registry.k8s.io', 'sig-storage/csi-node-driver-registrar', {
        signatures: [{ signer: { keyless: KREL } }],
        attestations: [],
      }),
    );
    assert.equal(v.allowed, true, JSON.stringify(v.findings, null, 1));
  });

  it('spire-controller-manager, unsigned upstream: allowed only by its exemption, which the verdict shows', async () => {
    const digest = SPIRE_RELEASE.digests['spire-controller-manager']!;
    const v = await verify(`ghcr.io/spiffe/spire-controller-manager:0.7.0@${digest}`);
    assert.equal(v.allowed, true);
    assert.equal(v.exemption?.ticket, 'PLAT-101');
    assert.match(v.exemption?.reason ?? '', /unsigned/);
    assert.ok(v.findings.length > 0, 'what it lacks stays listed beside the exemption');
    // Another digest of the same repository gets no exemption.
    const other = await verify(`ghcr.io/spiffe/spire-controller-manager:0.7.0@sha256:${'1'.repeat(64)}`);
    assert.equal(other.allowed, false);
    // After the expiry the exemption blocks, with EXEMPTION_EXPIRED.
    const later = await createImageVerifier({
      policy,
      registry: createRegistryClient({ mirrors: { 'ghcr.io': world.registry.url } }),
      trustedRoot: loadTrustedRoot(world.mock.trustedRoot),
      now: () => new Date('2027-04-01T00:00:00Z'),
    }).verify(`ghcr.io/spiffe/spire-controller-manager:0.7.0@${digest}`);
    assert.equal(later.allowed, false);
    assert.ok(later.findings.some((f) => f.code === 'EXEMPTION_EXPIRED'));
  });
});
