import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadStackSettings } from '../../cli/preview/stack-config';
import {
  KYVERNO_CHART,
  KYVERNO_IMAGE_REPOSITORIES,
  KYVERNO_IMAGES,
  KYVERNO_REGISTRY,
  kyvernoImageReferences,
  type KyvernoImage,
} from '../../components/kyverno/kyverno';
import { KYVERNO_RELEASE, SPIRE_RELEASE, type PublishedRelease } from '../../components/platform-images';
import {
  SPIRE_CHARTS,
  SPIRE_IMAGE_REPOSITORIES,
  SPIRE_IMAGES,
  spireImageReferences,
  type SpireImage,
} from '../../components/spire/spire';
import { DIGEST_PINNED_IMAGE } from '../../components/validation';
import { parseReference, repositoryName } from '../../policy-pack/registry/reference';
import { loadTrustPolicyFile } from '../../policy-pack/supply-chain/trust-policy';
import { trustPolicyFromPackConfig } from '../../stacks/trust-policy';
import { sharedPath } from '../support/shared';
import { readYaml } from './support/chart-values';

/* eslint-disable @typescript-eslint/no-explicit-any -- chart values are untyped YAML trees. */

const REPO = path.resolve(__dirname, '..', '..');
const ZERO = `sha256:${'0'.repeat(64)}`;

function chartRepository(block: { repository: string }, registry: string): string {
  return `${registry}/${block.repository}`;
}

/** What each publisher really publishes (its release documentation), as the example trust policy must require. */
const PUBLISHER_RULES: Record<string, { signature: string[]; provenance?: string[]; repository?: string }> = {
  kyverno: {
    signature: ['kyverno-release'],
    provenance: ['kyverno-provenance'],
    repository: 'ghcr.io/kyverno/signatures',
  },
  spire: { signature: ['spiffe-release'] },
  'kubernetes-sig-storage': { signature: ['kubernetes-release'] },
};

describe('platform images: pinned to the digests their publishers released, verified by the platform itself', () => {
  const kyvernoValues = sharedPath(
    'schemas/charts/kyverno-3.9.0/values.yaml',
    'platform images (kyverno chart)',
    1,
  );
  (kyvernoValues ? it : it.skip)(
    "Kyverno: the chart's repositories (values of 3.9.0), all on ghcr.io where Kyverno publishes",
    () => {
      const v = readYaml(kyvernoValues!) as any;
      assert.equal(
        v.global.image.registry,
        null,
        'the chart has a global registry override the component sets',
      );
      const fromChart: Record<KyvernoImage, string> = {
        kyverno: chartRepository(v.admissionController.container.image, KYVERNO_REGISTRY),
        kyvernopre: chartRepository(v.admissionController.initContainer.image, KYVERNO_REGISTRY),
        'background-controller': chartRepository(v.backgroundController.image, KYVERNO_REGISTRY),
        'cleanup-controller': chartRepository(v.cleanupController.image, KYVERNO_REGISTRY),
        'reports-controller': chartRepository(v.reportsController.image, KYVERNO_REGISTRY),
        'kyverno-cli': chartRepository(v.crds.migration.image, KYVERNO_REGISTRY),
        'readiness-checker': chartRepository(v.webhooksCleanup.image, KYVERNO_REGISTRY),
      };
      assert.deepEqual(KYVERNO_IMAGE_REPOSITORIES, fromChart);
    },
  );

  const spireCharts = sharedPath('schemas/charts/spire-0.30.0', 'platform images (spire charts)', 1);
  (spireCharts ? it : it.skip)(
    'SPIRE: the repositories and pinned tags are the chart 0.30.0 defaults',
    () => {
      const server = readYaml(`${spireCharts}/spire-server__values.yaml`) as any;
      const agent = readYaml(`${spireCharts}/spire-agent__values.yaml`) as any;
      const csi = readYaml(`${spireCharts}/spiffe-csi-driver__values.yaml`) as any;
      const chart = readYaml(`${spireCharts}/spire__Chart.yaml`) as any;
      const defaultRepo = (b: { registry: string; repository: string }) => `${b.registry}/${b.repository}`;
      assert.deepEqual(SPIRE_IMAGE_REPOSITORIES, {
        'spire-server': defaultRepo(server.image),
        'spire-controller-manager': defaultRepo(server.controllerManager.image),
        'spire-agent': defaultRepo(agent.image),
        'spiffe-csi-driver': defaultRepo(csi.image),
        'csi-node-driver-registrar': defaultRepo(csi.nodeDriverRegistrar.image),
      });
      // The umbrella chart's appVersion lags; the subcharts deploy SPIRE 1.15.2, which is what is pinned.
      assert.equal(chart.appVersion, SPIRE_CHARTS.spire.appVersion);
      const refs = spireImageReferences({});
      assert.ok(refs.includes(`ghcr.io/spiffe/spire-server:1.15.2@${SPIRE_RELEASE.digests['spire-server']}`));
      assert.ok(
        refs.includes(
          `ghcr.io/spiffe/spire-controller-manager:${server.controllerManager.image.tag}@${SPIRE_RELEASE.digests['spire-controller-manager']}`,
        ),
      );
      assert.ok(
        refs.includes(
          `registry.k8s.io/sig-storage/csi-node-driver-registrar:${csi.nodeDriverRegistrar.image.tag}@${SPIRE_RELEASE.digests['csi-node-driver-registrar']}`,
        ),
      );
    },
  );

  it('the releases pinned are Kyverno v1.19.1 (chart 3.9.1) and SPIRE 1.15.2; no digest is made up', () => {
    assert.equal(KYVERNO_RELEASE.version, KYVERNO_CHART.appVersion);
    assert.equal(KYVERNO_CHART.version, '3.9.1');
    assert.equal(SPIRE_RELEASE.version, SPIRE_CHARTS.spire.spireVersion);
    for (const release of [KYVERNO_RELEASE, SPIRE_RELEASE] as PublishedRelease<string>[]) {
      for (const [image, d] of Object.entries(release.digests)) {
        assert.match(d!, /^sha256:[a-f0-9]{64}$/, image);
        assert.notEqual(d, ZERO);
        assert.equal(
          release.required[image],
          undefined,
          `${image} is either published or required, not both`,
        );
      }
    }
    assert.deepEqual(Object.keys(KYVERNO_RELEASE.required), ['readiness-checker']);
    assert.deepEqual(Object.keys(SPIRE_RELEASE.required), ['spiffe-csi-driver']);
  });

  for (const stack of ['platform-example', 'demo']) {
    it(`${stack}: every image is pinned to its published digest or is a documented required input`, () => {
      const config = loadStackSettings(REPO, stack).config;
      const kyverno = JSON.parse(config['trustops:kyverno']!) as {
        imageDigests: Record<KyvernoImage, string>;
      };
      const spire = JSON.parse(config['trustops:spire']!) as { imageDigests: Record<SpireImage, string> };
      for (const [release, digests, images] of [
        [KYVERNO_RELEASE, kyverno.imageDigests, KYVERNO_IMAGES],
        [SPIRE_RELEASE, spire.imageDigests, SPIRE_IMAGES],
      ] as [PublishedRelease<string>, Record<string, string>, readonly string[]][]) {
        for (const image of images) {
          const d = digests[image];
          if (release.required[image] !== undefined) {
            assert.equal(d, ZERO, `${image}: a required input, left as the documented placeholder`);
          } else {
            assert.equal(d, release.digests[image], `${image}: the published digest`);
          }
        }
      }
    });
  }

  it('every platform image falls under a rule requiring what its publisher publishes, or a visible, expiring exemption', () => {
    const policy = loadTrustPolicyFile(path.join(REPO, 'examples', 'trust-policy.yaml'));
    const fromPackConfig = trustPolicyFromPackConfig(
      path.join(REPO, 'examples', 'policy-pack-config.json'),
      path.join(REPO, 'policy-pack'),
    );
    assert.deepEqual(fromPackConfig.images, policy.images);
    assert.deepEqual(fromPackConfig.exemptions, policy.exemptions);
    const config = loadStackSettings(REPO, 'platform-example').config;
    const kyverno = JSON.parse(config['trustops:kyverno']!) as {
      imageDigests: Record<KyvernoImage, string>;
      readinessCheckerTag: string;
    };
    const spire = JSON.parse(config['trustops:spire']!) as { imageDigests: Record<SpireImage, string> };
    const refs = [...kyvernoImageReferences(kyverno), ...spireImageReferences(spire)];
    assert.equal(refs.length, KYVERNO_IMAGES.length + SPIRE_IMAGES.length);
    const now = new Date();
    const exempted: string[] = [];
    for (const ref of refs) {
      assert.match(ref, DIGEST_PINNED_IMAGE, ref);
      const parsed = parseReference(ref);
      const repository = repositoryName(parsed);
      const rule = policy.ruleFor(repository);
      assert.ok(rule, `${ref} is covered by a rule of the example trust policy`);
      const wanted = PUBLISHER_RULES[rule.name];
      assert.ok(wanted, `${ref} falls under the publisher rule ${rule.name}`);
      assert.deepEqual(rule.rule.signature?.signers, wanted.signature, ref);
      assert.deepEqual(rule.rule.provenance?.signers, wanted.provenance, ref);
      assert.equal(rule.rule.repository, wanted.repository, ref);
      const exemption = policy.exemptionFor(repository, parsed.digest!, now);
      if (exemption) {
        assert.equal(exemption.expired, false, `${ref}: the exemption is in force`);
        assert.ok(exemption.exemption.reason.length > 20 && exemption.exemption.ticket, ref);
        assert.ok(
          exemption.expiresAt.getTime() - now.getTime() < 366 * 24 * 3600 * 1000,
          'it expires within a year',
        );
        exempted.push(repository);
      }
    }
    // Only what is unsigned upstream is exempted: spire-controller-manager (no signing step upstream).
    assert.deepEqual(exempted, ['ghcr.io/spiffe/spire-controller-manager']);
    const kyvernoRule = policy.ruleFor('ghcr.io/kyverno/kyverno')!;
    assert.equal(kyvernoRule.rule.provenance?.sourceRepository, 'https://github.com/kyverno/kyverno');
    assert.deepEqual(kyvernoRule.storedIn, { registry: 'ghcr.io', repository: 'kyverno/signatures' });
    // The publishers' identities: their release workflows, anchored, and for the provenance the
    // generator run by kyverno/kyverno.
    const s = policy.resolvedSigners;
    assert.equal(
      s['kyverno-release']!.keyless!.subjectRegExp,
      '^https://github\\.com/kyverno/kyverno/\\.github/workflows/release\\.yaml@refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$',
    );
    assert.deepEqual(s['kyverno-provenance']!.keyless!.claims, {
      sourceRepositoryURI: 'https://github.com/kyverno/kyverno',
    });
    assert.equal(
      s['spiffe-release']!.keyless!.subjectRegExp,
      '^https://github\\.com/spiffe/(spire|spiffe-csi)/\\.github/workflows/release_build\\.yaml@refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$',
    );
  });
});
