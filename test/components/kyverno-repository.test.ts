import * as assert from 'node:assert/strict';
import { KyvernoRenderError } from '../../components/kyverno/errors';
import { renderKyvernoPolicies } from '../../components/kyverno/render-policies';
import { sharedPath } from '../support/shared';
import { crdValidator, schemaErrors } from './support/crd-schemas';
import { loadFixturePolicy, trustPolicyDocument } from './support/trust-policy-fixture';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered policies are JSON trees. */

/**
 * A rule's `repository` (signatures and attestations stored elsewhere, cosign's COSIGN_REPOSITORY) in
 * both admission forms: the ImageValidatingPolicy attestors that rule uses read from it
 * (`cosign.source.repository`), the ClusterPolicy rule carries it (`verifyImages[].repository`), and the
 * same signer in a rule without one stays a separate attestor reading beside the image.
 */

const NOW = new Date('2026-01-01T00:00:00Z');

function documentWithRepository(repository: string): Record<string, unknown> {
  const doc = trustPolicyDocument();
  const images = doc.images as Record<string, unknown>[];
  images[0]!.repository = repository;
  // the same release identity, in a rule whose evidence is beside the image
  images.push({ match: ['ghcr.io/acme-beside/**'], signature: { signers: ['acme-ci'] } });
  return doc;
}

function render(repository = 'GHCR.io/acme/signatures') {
  const [ivp, cp] = renderKyvernoPolicies(loadFixturePolicy(documentWithRepository(repository)), {
    kinds: ['ImageValidatingPolicy', 'ClusterPolicy'],
    now: NOW,
  }) as any[];
  return { ivp, cp };
}

describe('Kyverno: signatures stored in another repository (rule `repository`)', () => {
  it('ImageValidatingPolicy: the rule’s attestors read from the repository; the same signer elsewhere does not', () => {
    const { ivp } = render();
    const attestors: any[] = ivp.spec.attestors;
    const elsewhere = attestors.filter((a) => a.cosign.source?.repository === 'ghcr.io/acme/signatures');
    // every signer rule 0 names (release identity and the three rebuilders), normalised repository
    assert.deepEqual(elsewhere.map((a) => a.name.replace(/^s\d+_/, '')).sort(), [
      'acme_ci',
      'rebuilder_a',
      'rebuilder_b',
      'rebuilder_k',
    ]);
    const beside = attestors.filter((a) => a.name.endsWith('_acme_ci') && a.cosign.source === undefined);
    assert.equal(beside.length, 1, 'acme-ci in the rule without repository is its own attestor');
    const validations: { expression: string; message: string }[] = ivp.spec.validations;
    const rule0 = validations.filter((v) => v.message.startsWith('images[0]'));
    const rule2 = validations.filter((v) => v.message.startsWith('images[2]'));
    const sourced = elsewhere.map((a) => `attestors.${a.name}`);
    for (const v of rule0) {
      assert.ok(
        sourced.some((id) => v.expression.includes(id)),
        v.message,
      );
      assert.ok(!v.expression.includes(`attestors.${beside[0].name}`), v.message);
    }
    assert.ok(rule2[0]!.expression.includes(`attestors.${beside[0].name}`));
    assert.ok(!sourced.some((id) => rule2[0]!.expression.includes(id)));
  });

  it('ClusterPolicy: the rule carries the repository; other rules do not', () => {
    const { cp } = render();
    const verify = (i: number) => cp.spec.rules.find((r: any) => r.name === `images-${i}`).verifyImages[0];
    assert.equal(verify(0).repository, 'ghcr.io/acme/signatures');
    assert.equal(verify(1).repository, undefined);
    assert.equal(verify(2).repository, undefined);
  });

  const dir = sharedPath('schemas/kyverno', 'kyverno-repository CRD schemas', 2);
  (dir ? it : it.skip)('both forms validate against the Kyverno v1.19 CRD schemas', () => {
    const { ivp, cp } = render();
    const ivpSchema = crdValidator(`${dir}/policies.kyverno.io_imagevalidatingpolicies.yaml`, 'v1');
    const cpSchema = crdValidator(`${dir}/kyverno.io_clusterpolicies.yaml`, 'v1');
    assert.ok(ivpSchema(ivp), schemaErrors(ivpSchema));
    assert.ok(cpSchema(cp), schemaErrors(cpSchema));
    // the check can fail: the schema types the field (the API server prunes unknown ones instead)
    const mistyped: any = structuredClone(ivp);
    mistyped.spec.attestors.find((a: any) => a.cosign.source).cosign.source.repository = 42;
    assert.equal(ivpSchema(mistyped), false);
    const mistypedCp: any = structuredClone(cp);
    mistypedCp.spec.rules[0].verifyImages[0].repository = ['ghcr.io/acme/signatures'];
    assert.equal(cpSchema(mistypedCp), false);
  });

  it('a repository that is not registry/path is refused with a coded error (plain data, no loader)', () => {
    const policy = loadFixturePolicy(documentWithRepository('ghcr.io/acme/signatures'));
    (policy.images[0] as { repository?: string }).repository = `ghcr.io/acme/x@sha256:${'a'.repeat(64)}`;
    assert.throws(
      () => renderKyvernoPolicies(policy, { now: NOW }),
      (e: unknown) => e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE',
    );
  });
});
