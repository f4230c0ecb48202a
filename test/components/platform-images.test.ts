import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  KYVERNO_CHART,
  KYVERNO_IMAGE_REPOSITORIES,
  KYVERNO_IMAGES,
  kyvernoImageReferences,
  type KyvernoImage,
} from '../../components/kyverno/kyverno';
import { SPIRE_IMAGE_REPOSITORIES, SPIRE_IMAGES, spireImageReferences } from '../../components/spire/spire';
import { DIGEST_PINNED_IMAGE } from '../../components/validation';
import { parseReference, repositoryName } from '../../policy-pack/registry/reference';
import { trustPolicyFromPackConfig } from '../../stacks/trust-policy';
import { sharedPath } from '../support/shared';
import { readYaml } from './support/chart-values';
import { KYVERNO_DIGESTS, SPIRE_DIGESTS } from './support/pinned-digests';

/* eslint-disable @typescript-eslint/no-explicit-any -- chart values are untyped YAML trees. */

function chartImage(block: {
  registry?: string | null;
  defaultRegistry?: string;
  repository: string;
}): string {
  return `${block.registry || block.defaultRegistry}/${block.repository}`;
}

describe('platform images: pinned by digest, from the charts registries, under the publishers signers', () => {
  const kyvernoValues = sharedPath(
    'schemas/charts/kyverno-3.9.0/values.yaml',
    'platform images (kyverno chart)',
    1,
  );
  (kyvernoValues ? it : it.skip)('Kyverno: the repositories are the chart 3.9.0 defaults', () => {
    const v = readYaml(kyvernoValues!) as any;
    const fromChart: Record<KyvernoImage, string> = {
      kyverno: chartImage(v.admissionController.container.image),
      kyvernopre: chartImage(v.admissionController.initContainer.image),
      'background-controller': chartImage(v.backgroundController.image),
      'cleanup-controller': chartImage(v.cleanupController.image),
      'reports-controller': chartImage(v.reportsController.image),
      'kyverno-cli': chartImage(v.crds.migration.image),
      'readiness-checker': chartImage(v.webhooksCleanup.image),
    };
    assert.deepEqual(KYVERNO_IMAGE_REPOSITORIES, fromChart);
  });

  const spireCharts = sharedPath('schemas/charts/spire-0.30.0', 'platform images (spire charts)', 1);
  (spireCharts ? it : it.skip)(
    'SPIRE: the repositories and pinned tags are the chart 0.30.0 defaults',
    () => {
      const server = readYaml(`${spireCharts}/spire-server__values.yaml`) as any;
      const agent = readYaml(`${spireCharts}/spire-agent__values.yaml`) as any;
      const csi = readYaml(`${spireCharts}/spiffe-csi-driver__values.yaml`) as any;
      const chart = readYaml(`${spireCharts}/spire__Chart.yaml`) as any;
      assert.deepEqual(SPIRE_IMAGE_REPOSITORIES, {
        'spire-server': chartImage(server.image),
        'spire-controller-manager': chartImage(server.controllerManager.image),
        'spire-agent': chartImage(agent.image),
        'spiffe-csi-driver': chartImage(csi.image),
        'csi-node-driver-registrar': chartImage(csi.nodeDriverRegistrar.image),
      });
      const refs = spireImageReferences({ imageDigests: SPIRE_DIGESTS });
      assert.ok(
        refs.includes(`ghcr.io/spiffe/spire-server:${chart.appVersion}@${SPIRE_DIGESTS['spire-server']}`),
      );
      assert.ok(
        refs.includes(
          `ghcr.io/spiffe/spire-controller-manager:${server.controllerManager.image.tag}@${SPIRE_DIGESTS['spire-controller-manager']}`,
        ),
      );
      assert.ok(
        refs.includes(
          `registry.k8s.io/sig-storage/csi-node-driver-registrar:${csi.nodeDriverRegistrar.image.tag}@${SPIRE_DIGESTS['csi-node-driver-registrar']}`,
        ),
      );
    },
  );

  it('every platform image is pinned by digest and falls under a rule requiring its publisher signature', () => {
    const policy = trustPolicyFromPackConfig(
      path.join(__dirname, '..', '..', 'examples', 'policy-pack-config.json'),
      path.join(__dirname, '..', '..', 'policy-pack'),
    );
    const expected: [string[], string][] = [
      [
        kyvernoImageReferences({ imageDigests: KYVERNO_DIGESTS, readinessCheckerTag: 'v0.1.0' }),
        'kyverno-release',
      ],
      [
        spireImageReferences({ imageDigests: SPIRE_DIGESTS }).filter((r) => r.startsWith('ghcr.io/spiffe/')),
        'spiffe-release',
      ],
      [
        spireImageReferences({ imageDigests: SPIRE_DIGESTS }).filter((r) => r.startsWith('registry.k8s.io/')),
        'kubernetes-release',
      ],
    ];
    assert.equal(
      expected.reduce((n, [refs]) => n + refs.length, 0),
      KYVERNO_IMAGES.length + SPIRE_IMAGES.length,
    );
    for (const [refs, signer] of expected) {
      for (const ref of refs) {
        assert.match(ref, DIGEST_PINNED_IMAGE, ref);
        const parsed = parseReference(ref);
        assert.ok(parsed.digest, `${ref} carries its digest`);
        const rule = policy.ruleFor(repositoryName(parsed));
        assert.ok(rule, `${ref} is covered by a rule of the example trust policy`);
        assert.deepEqual(rule.rule.signature?.signers, [signer], ref);
      }
    }
    // The publishers' identities are keyless GitHub/Google release identities, not keys we hold.
    assert.match(
      policy.resolvedSigners['kyverno-release']!.keyless!.subjectRegExp!,
      /github\\.com\/kyverno\/kyverno/,
    );
    assert.match(policy.resolvedSigners['spiffe-release']!.keyless!.subjectRegExp!, /github\\.com\/spiffe\//);
    assert.equal(KYVERNO_CHART.appVersion, 'v1.19.0');
  });
});
