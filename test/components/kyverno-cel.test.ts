import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { renderKyvernoPolicies, type KubernetesObject } from '../../components/kyverno/render-policies';
import type { CollectedEvidence } from '../../policy-pack/supply-chain/evidence';
import { RuleEvaluator } from '../../policy-pack/supply-chain/rule-evaluation';
import type { ResolvedTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import { cyclonedxDocument, slsaV02, slsaV1, spdxDocument, vsa } from '../supply-chain/support/world';
import { admitPod, type SimEvidence, type SimStatement } from './support/kyverno-cel-sim';
import { loadFixturePolicy } from './support/trust-policy-fixture';
import {
  compliantEvidence,
  FIXTURE_BUILDER as BUILDER,
  FIXTURE_SOURCE as SOURCE,
} from './support/compliant-evidence';

/**
 * The rendered admission policy, evaluated as CEL (a real CEL engine with RE2), against the pack's own
 * rule evaluation on the same evidence. The promise: Kyverno never admits what the pack blocks, and the
 * evidence a compliant release publishes passes both.
 */

const DIGEST = `sha256:${'e'.repeat(64)}`;
const IMAGE = `ghcr.io/acme/shop/api@${DIGEST}`;
const NOW = new Date('2026-11-26T00:00:00Z');

function packAllows(policy: ResolvedTrustPolicy, repository: string, ev: SimEvidence): boolean {
  const rule = policy.ruleFor(repository);
  assert.ok(rule, `a rule for ${repository}`);
  const origin = { source: 'referrer-bundle' as const, descriptor: DIGEST };
  const collected: CollectedEvidence = {
    digest: DIGEST,
    signatures: ev.signatures.map((signer) => ({ signer, identity: signer, origin })),
    statements: ev.statements.map((s) => ({
      signer: s.signer,
      identity: s.signer,
      origin,
      statement: {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: repository, digest: { sha256: 'e'.repeat(64) } }],
        predicateType: s.predicateType,
        predicate: s.predicate,
      },
    })),
    rejected: [],
    unsigned: [],
  };
  return new RuleEvaluator(rule, collected).evaluate().findings.length === 0;
}

function attestorSigners(ivp: KubernetesObject, policy: ResolvedTrustPolicy): Map<string, string> {
  const names = Object.keys(policy.resolvedSigners);
  const map = new Map<string, string>();
  for (const a of (ivp.spec as { attestors: { name: string }[] }).attestors) {
    const signer = names.find((n) => a.name.endsWith(`_${n.replace(/[^A-Za-z0-9_]/g, '_')}`));
    assert.ok(signer, `attestor ${a.name} maps to a signer`);
    map.set(a.name, signer);
  }
  return map;
}

describe('rendered admission policy, evaluated as CEL, against the pack on the same evidence', () => {
  const policy = loadFixturePolicy();
  const [ivp] = renderKyvernoPolicies(policy, { now: NOW }) as [KubernetesObject];
  const signerOf = attestorSigners(ivp, policy);
  const admit = (ev: SimEvidence, image = IMAGE) =>
    admitPod(ivp, { containers: [image] }, () => ev, signerOf);

  it('every validation is valid CEL that the engine evaluates (no parse or type errors)', () => {
    const r = admit(compliantEvidence());
    assert.deepEqual(r.failed, []);
    assert.equal(packAllows(policy, 'ghcr.io/acme/shop/api', compliantEvidence()), true);
  });

  it('one missing or wrong piece of evidence: both refuse, each for that requirement', () => {
    const cases: [string, (e: SimEvidence) => SimEvidence, string][] = [
      ['no signature', (e) => ({ ...e, signatures: [] }), '"signature"'],
      ['signature by a stranger', (e) => ({ ...e, signatures: ['stranger'] }), '"signature"'],
      [
        'SBOM by a rebuilder',
        (e) => ({
          ...e,
          statements: e.statements.map((s) =>
            s.predicateType.includes('cyclonedx') ? { ...s, signer: 'rebuilder-a' } : s,
          ),
        }),
        '"sbom"',
      ],
      [
        'SBOM with no components',
        (e) => ({
          ...e,
          statements: e.statements.map((s) =>
            s.predicateType.includes('cyclonedx') ? { ...s, predicate: cyclonedxDocument('1.5', 0) } : s,
          ),
        }),
        '"sbom"',
      ],
      [
        'SPDX where the rule wants CycloneDX',
        (e) => ({
          ...e,
          statements: e.statements.map((s) =>
            s.predicateType.includes('cyclonedx')
              ? { ...s, predicateType: 'https://spdx.dev/Document', predicate: spdxDocument(2) }
              : s,
          ),
        }),
        '"sbom"',
      ],
      [
        'provenance from another builder',
        (e) => ({
          ...e,
          statements: e.statements.map((s) =>
            s.predicateType.includes('provenance')
              ? { ...s, predicate: slsaV1({ builderId: 'https://evil.example/builder', repo: SOURCE }) }
              : s,
          ),
        }),
        '"provenance"',
      ],
      [
        'provenance from another repository',
        (e) => ({
          ...e,
          statements: e.statements.map((s) =>
            s.predicateType.includes('provenance')
              ? {
                  ...s,
                  predicate: slsaV1({
                    builderId: BUILDER,
                    repo: 'git+https://github.com/evil/shop@refs/heads/main',
                  }),
                }
              : s,
          ),
        }),
        '"provenance"',
      ],
      [
        'one rebuilder FAILED',
        (e) => ({
          ...e,
          statements: e.statements.map((s) =>
            s.signer === 'rebuilder-k' ? { ...s, predicate: vsa('FAILED') } : s,
          ),
        }),
        '"reproducible"',
      ],
      [
        'one rebuilder missing',
        (e) => ({ ...e, statements: e.statements.filter((s) => s.signer !== 'rebuilder-k') }),
        '"reproducible"',
      ],
      [
        'the same rebuilder twice',
        (e) => ({
          ...e,
          statements: [
            ...e.statements.filter((s) => s.signer !== 'rebuilder-k'),
            {
              signer: 'rebuilder-a',
              predicateType: 'https://slsa.dev/verification_summary/v1',
              predicate: vsa('PASSED'),
            },
          ],
        }),
        '"reproducible"',
      ],
    ];
    for (const [name, change, requirement] of cases) {
      const ev = change(compliantEvidence());
      assert.equal(packAllows(policy, 'ghcr.io/acme/shop/api', ev), false, `${name}: the pack refuses`);
      const r = admit(ev);
      assert.equal(r.allowed, false, `${name}: Kyverno refuses`);
      assert.ok(
        r.failed.every((m) => m.includes(requirement)),
        `${name}: only ${requirement} fails, got ${r.failed.join(' | ')}`,
      );
    }
  });

  it('a tag-only reference and an image no rule matches are refused at admission', () => {
    const tag = admit(compliantEvidence(), 'ghcr.io/acme/shop/api:v1');
    assert.equal(tag.allowed, false);
    assert.ok(tag.failed.some((m) => m.includes('"digest"')));
    const stranger = admit(compliantEvidence(), `quay.io/evil/app@${DIGEST}`);
    assert.equal(stranger.allowed, false);
    assert.ok(stranger.failed.some((m) => m.includes('"policy"')));
    // The exempted image (busybox, by digest, not expired) passes without evidence; its other digests do not.
    const empty: SimEvidence = { signatures: [], statements: [] };
    assert.equal(admit(empty, `busybox@sha256:${'b'.repeat(64)}`).allowed, true);
    assert.equal(admit(empty, `busybox@sha256:${'c'.repeat(64)}`).allowed, false);
  });

  it('never admits what the pack blocks (property over random evidence)', () => {
    const signer = fc.constantFrom(
      'acme-ci',
      'rebuilder-a',
      'rebuilder-b',
      'rebuilder-k',
      'legacy-key',
      'stranger',
    );
    const statement: fc.Arbitrary<SimStatement> = fc.oneof(
      fc.record({
        signer,
        predicateType: fc.constantFrom(
          'https://cyclonedx.org/bom',
          'https://cyclonedx.org/bom/v1.6',
          'https://spdx.dev/Document',
          'https://example.com/sbom',
        ),
        predicate: fc.constantFrom(
          cyclonedxDocument('1.5', 2),
          cyclonedxDocument('1.6', 0),
          spdxDocument(2),
          spdxDocument(0),
        ),
      }),
      fc.record({
        signer,
        predicateType: fc.constantFrom('https://slsa.dev/provenance/v1', 'https://slsa.dev/provenance/v0.2'),
        predicate: fc.constantFrom(
          slsaV1({ builderId: BUILDER, repo: SOURCE }),
          slsaV1({ builderId: BUILDER, repo: 'git+https://github.com/evil/shop@v1' }),
          slsaV1({ builderId: 'https://evil.example/b', repo: SOURCE }),
          slsaV02({ builderId: BUILDER, repo: SOURCE }),
          slsaV02({ builderId: BUILDER, repo: 'https://GitHub.com/acme/shop.git' }),
          { runDetails: { builder: { id: BUILDER } } },
        ),
      }),
      fc.record({
        signer,
        predicateType: fc.constant('https://slsa.dev/verification_summary/v1'),
        predicate: fc.constantFrom(vsa('PASSED'), vsa('FAILED')),
      }),
    );
    // Start from what a compliant release publishes, drop some of it, add random statements: many runs
    // land near the boundary, where a weaker admission policy would show.
    const evidence = fc
      .record({
        keep: fc.array(fc.constantFrom(true, true, true, false), { minLength: 4, maxLength: 4 }),
        signatures: fc.constantFrom(
          ['acme-ci'],
          ['acme-ci', 'stranger'],
          ['rebuilder-a', 'acme-ci'],
          ['stranger'],
        ),
        extra: fc.array(statement, { maxLength: 4 }),
      })
      .map(({ keep, signatures, extra }): SimEvidence => ({
        signatures: [...signatures],
        statements: [...compliantEvidence().statements.filter((_, i) => keep[i]), ...extra],
      }));
    let kyvernoAllowed = 0;
    fc.assert(
      fc.property(evidence, (ev) => {
        if (!admit(ev).allowed) return;
        kyvernoAllowed++;
        assert.equal(
          packAllows(policy, 'ghcr.io/acme/shop/api', ev),
          true,
          `Kyverno admits evidence the pack blocks: ${JSON.stringify(ev)}`,
        );
      }),
      { numRuns: 200 },
    );
    assert.ok(
      kyvernoAllowed >= 5,
      `the property must exercise admitted evidence; only ${kyvernoAllowed} of 200 runs were admitted`,
    );
  });
});
