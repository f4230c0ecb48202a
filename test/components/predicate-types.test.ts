import * as assert from 'node:assert/strict';
import { renderKyvernoPolicies } from '../../components/kyverno/render-policies';
import * as admission from '../../components/kyverno/predicate-types';
import {
  CYCLONEDX_SPEC_VERSIONS,
  isProvenancePredicate,
  isVsaPredicate,
  PROVENANCE_PREDICATE_TYPES,
  SBOM_PREDICATE_TYPES,
  sbomFormatOf,
  VSA_PREDICATE_TYPES,
} from '../../policy-pack/supply-chain/predicate-types';
import { evidenceKindOf } from '../../policy-pack/supply-chain/signer-order';
import { loadFixturePolicy, trustPolicyDocument } from './support/trust-policy-fixture';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered policies are JSON trees. */

/**
 * One list of SBOM / provenance / VSA predicate types: what the verifier counts is exactly what the
 * rendered admission policy asks Kyverno for, in both directions, over the listed types and over
 * look-alikes (other versions, spellings, families).
 */

type Kind = 'sbom' | 'provenance' | 'vsa';

/** What the verifier accepts a predicate type as (the functions the rule evaluation uses). */
function verifierKind(t: string): Kind | undefined {
  if (sbomFormatOf(t) !== undefined) return 'sbom';
  if (isProvenancePredicate(t)) return 'provenance';
  if (isVsaPredicate(t)) return 'vsa';
  return undefined;
}

/** The predicate types the rendered ImageValidatingPolicy declares, by what it uses them for. */
function admissionTypes(): Map<string, Kind> {
  const doc = trustPolicyDocument();
  const rule = (doc.images as Record<string, unknown>[])[0]!;
  rule.sbom = { signers: ['acme-ci'], formats: ['spdx', 'cyclonedx'] };
  const [ivp, cp] = renderKyvernoPolicies(loadFixturePolicy(doc), {
    kinds: ['ImageValidatingPolicy', 'ClusterPolicy'],
    now: new Date('2026-01-01T00:00:00Z'),
  }) as any[];
  const out = new Map<string, Kind>();
  for (const a of ivp.spec.attestations as { name: string; intoto: { type: string } }[]) {
    const kind: Kind = a.name.startsWith('sbom_')
      ? 'sbom'
      : a.name.startsWith('provenance_')
        ? 'provenance'
        : 'vsa';
    out.set(a.intoto.type, kind);
  }
  // The ClusterPolicy form names one type per requirement; each must be in the list too.
  for (const r of cp.spec.rules as any[]) {
    for (const v of r.verifyImages ?? []) {
      for (const att of v.attestations ?? []) {
        assert.ok(
          verifierKind(att.predicateType),
          `ClusterPolicy asks for ${att.predicateType}, which the pack does not count`,
        );
      }
    }
  }
  return out;
}

const LOOK_ALIKES = [
  'https://spdx.dev/Document/v2.1',
  'https://spdx.dev/Document/v3.0',
  'https://spdx.dev/Document/2.4',
  'https://spdx.dev/document',
  'http://spdx.dev/Document',
  'https://spdx.dev/Document/',
  'https://cyclonedx.org/bom/v1.0',
  'https://cyclonedx.org/bom/v1.1',
  'https://cyclonedx.org/bom/v1.8',
  'https://cyclonedx.org/bom/1.10',
  'https://cyclonedx.org/bom/v1.6.1',
  'https://cyclonedx.org/schema',
  'https://slsa.dev/provenance/v0.3',
  'https://slsa.dev/provenance/v1.0',
  'https://slsa.dev/provenance/v1.1',
  'https://slsa.dev/provenance',
  'https://slsa.dev/verification_summary/v0.1',
  'https://slsa.dev/verification_summary/v1.1',
  'https://in-toto.io/attestation/vulns',
  'https://cosign.sigstore.dev/attestation/v1',
];

describe('one list of predicate types: the verifier and the Kyverno renderer', () => {
  it('the renderer re-exports the pack list (no copy to drift)', () => {
    assert.equal(admission.SBOM_PREDICATE_TYPES, SBOM_PREDICATE_TYPES);
    assert.equal(admission.PROVENANCE_PREDICATE_TYPES, PROVENANCE_PREDICATE_TYPES);
    assert.equal(admission.VSA_PREDICATE_TYPES, VSA_PREDICATE_TYPES);
    assert.equal(admission.REBUILD_PREDICATE_TYPE, VSA_PREDICATE_TYPES[0]);
  });

  it('the list holds what producers publish: SPDX 2.2/2.3, CycloneDX 1.2-1.7, SLSA provenance v0.1/v0.2/v1, VSA v0.2/v1', () => {
    assert.deepEqual([...CYCLONEDX_SPEC_VERSIONS], ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7']);
    for (const t of [
      'https://spdx.dev/Document',
      'https://spdx.dev/Document/v2.3',
      'https://cyclonedx.org/bom',
      'https://cyclonedx.org/bom/v1.7',
      'https://cyclonedx.org/bom/1.2',
      'https://slsa.dev/provenance/v0.1',
      'https://slsa.dev/provenance/v0.2',
      'https://slsa.dev/provenance/v1',
      'https://slsa.dev/verification_summary/v0.2',
      'https://slsa.dev/verification_summary/v1',
    ]) {
      assert.ok(verifierKind(t), `${t} is accepted`);
    }
  });

  it('every type the verifier accepts is asked for at admission, for the same requirement', () => {
    const rendered = admissionTypes();
    const listed = [
      ...SBOM_PREDICATE_TYPES.spdx,
      ...SBOM_PREDICATE_TYPES.cyclonedx,
      ...PROVENANCE_PREDICATE_TYPES,
      ...VSA_PREDICATE_TYPES,
    ];
    for (const t of listed) {
      const kind = verifierKind(t);
      assert.ok(kind, `${t} is in the list, so the verifier accepts it`);
      assert.equal(rendered.get(t), kind, `${t} is declared at admission as ${kind}`);
      assert.equal(evidenceKindOf(t), kind, `${t} is checked against the ${kind} signers first`);
    }
  });

  it('every type admission asks for is one the verifier accepts, for the same requirement', () => {
    for (const [t, kind] of admissionTypes()) assert.equal(verifierKind(t), kind, t);
  });

  it('look-alikes (other versions and spellings) are accepted by neither', () => {
    const rendered = admissionTypes();
    for (const t of LOOK_ALIKES) {
      assert.equal(verifierKind(t), undefined, `the verifier does not count ${t}`);
      assert.equal(rendered.has(t), false, `admission does not ask for ${t}`);
    }
  });
});
