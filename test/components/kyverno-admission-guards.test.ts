/* eslint-disable @typescript-eslint/no-explicit-any -- rendered policies and pods are JSON trees; the assertions walk them. */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { CANONICAL_HOST_IMAGE_REGEX, isCanonicallySpelled } from '../../components/kyverno/canonical-host';
import { celCanonicalHost } from '../../components/kyverno/admission-guards';
import { celWrittenImageMatches, imageRegexForGlobs } from '../../components/kyverno/image-patterns';
import { renderKyvernoPolicies, type KubernetesObject } from '../../components/kyverno/render-policies';
import { parseReference, repositoryName } from '../../policy-pack/registry/reference';
import { compileRepositoryGlobs } from '../../policy-pack/supply-chain/repository-glob';
import type { ResolvedTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import { sharedPath } from '../support/shared';
import { crdValidator, schemaErrors } from './support/crd-schemas';
import { admitPod, evaluateCel, type SimEvidence } from './support/kyverno-cel-sim';
import { loadFixturePolicy, trustPolicyDocument } from './support/trust-policy-fixture';
import { compliantEvidence } from './support/compliant-evidence';

/**
 * Red-team findings on the rendered admission policies, each tried against real pod objects: an image
 * written with another spelling of a trusted registry's host, and an unsigned image mounted as a volume.
 * The ImageValidatingPolicy runs as CEL (@bufbuild/cel, RE2 like Kyverno); the ClusterPolicy's
 * conditions are evaluated by a reader that knows exactly the shapes the renderer emits (and refuses
 * any other, so a change of shape cannot pass unexamined), with its regular expressions run through
 * the same CEL engine.
 */

const NOW = new Date('2026-11-26T00:00:00Z');
const DIGEST = `sha256:${'e'.repeat(64)}`;
const EXEMPT_DIGEST = `sha256:${'b'.repeat(64)}`;
const CANONICAL = `ghcr.io/acme/shop/api@${DIGEST}`;

/** The same image (as the runtime pulls it) under spellings a glob over the written string misses. */
const BAD_SPELLINGS = [
  `GHCR.IO/acme/shop/api@${DIGEST}`,
  `Ghcr.io/acme/shop/api@${DIGEST}`,
  `ghcr.IO/acme/shop/api:v1@${DIGEST}`,
  `ghcr.io:443/acme/shop/api@${DIGEST}`,
  `ghcr.io:0443/acme/shop/api@${DIGEST}`,
  `ghcr.io:00443/acme/shop/api@${DIGEST}`,
  `ghcr.io./acme/shop/api@${DIGEST}`,
  `ghcr.io.:443/acme/shop/api@${DIGEST}`,
  `GHCR.IO:443/acme/shop/api@${DIGEST}`,
  `docker.io/busybox@${EXEMPT_DIGEST}`,
  `index.docker.io/library/busybox@${EXEMPT_DIGEST}`,
  `registry-1.docker.io/library/nginx@${DIGEST}`,
  `registry.hub.docker.com/acme/app@${DIGEST}`,
  `Docker.IO/library/nginx@${DIGEST}`,
  `LOCALHOST:5000/acme/app@${DIGEST}`,
  `Acme/app@${DIGEST}`,
  `localhost:80/acme/app@${DIGEST}`,
  `127.0.0.1:80/acme/app@${DIGEST}`,
  `127.1:5000/acme/app@${DIGEST}`,
  `0x7f.0.0.1:5000/acme/app@${DIGEST}`,
  `0177.0.0.1:5000/acme/app@${DIGEST}`,
  `2130706433:5000/acme/app@${DIGEST}`,
  `foo.1/acme/app@${DIGEST}`,
  `[::1]:5000/acme/app@${DIGEST}`,
  `[0:0::1]:5000/acme/app@${DIGEST}`,
];

/** Canonical references that must stay admissible by the spelling check. */
const GOOD_SPELLINGS = [
  CANONICAL,
  `ghcr.io/acme/shop/api:v1.2.3@${DIGEST}`,
  `nginx@${DIGEST}`,
  `library/nginx@${DIGEST}`,
  `acme/app@${DIGEST}`,
  `docker.io/library/nginx@${DIGEST}`,
  `docker.io/acme/app@${DIGEST}`,
  `localhost:5000/acme/app@${DIGEST}`,
  `localhost/acme/app@${DIGEST}`,
  `127.0.0.1:5000/acme/app@${DIGEST}`,
  `registry.example.com:8443/legacy/app@${DIGEST}`,
  `registry.example.com:4430/legacy/app@${DIGEST}`,
  `registry.example.com:44/legacy/app@${DIGEST}`,
];

function policyWith(change: (doc: Record<string, unknown>) => void = () => undefined): ResolvedTrustPolicy {
  const doc = trustPolicyDocument();
  change(doc);
  return loadFixturePolicy(doc);
}

function render(policy: ResolvedTrustPolicy): { ivp: any; cp: any } {
  const [ivp, cp] = renderKyvernoPolicies(policy, {
    kinds: ['ImageValidatingPolicy', 'ClusterPolicy'],
    now: NOW,
  }) as [KubernetesObject, KubernetesObject];
  return { ivp, cp };
}

/** Evidence a compliant release of the fixture's acme rule would carry, for every spelling alike. */
const ANY_EVIDENCE: SimEvidence = { signatures: [], statements: [] };

/** Attestor names map to signers by suffix (as kyverno-cel.test.ts does). */
function signerMap(ivp: any, policy: ResolvedTrustPolicy): Map<string, string> {
  const names = Object.keys(policy.resolvedSigners);
  return new Map(
    ivp.spec.attestors.map((a: any) => [
      a.name,
      names.find((n) => a.name.endsWith(`_${n.replace(/[^A-Za-z0-9_]/g, '_')}`))!,
    ]),
  );
}

interface PodShape {
  containers?: string[];
  initContainers?: string[];
  ephemeralContainers?: string[];
  volumes?: Record<string, unknown>[];
}

function podObject(p: PodShape): Record<string, unknown> {
  const c = (images: string[] | undefined, prefix: string) =>
    images?.map((image, i) => ({ name: `${prefix}${i}`, image }));
  const spec: Record<string, unknown> = { containers: c(p.containers, 'c') ?? [] };
  if (p.initContainers) spec.initContainers = c(p.initContainers, 'i');
  if (p.ephemeralContainers) spec.ephemeralContainers = c(p.ephemeralContainers, 'e');
  if (p.volumes) spec.volumes = p.volumes;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec };
}

/** Runs the ImageValidatingPolicy on a Pod; `verified` says which images carry evidence the rule accepts. */
function ivpAdmits(ivp: any, policy: ResolvedTrustPolicy, p: PodShape, evidence: SimEvidence = ANY_EVIDENCE) {
  const images: Record<string, string[]> = {};
  for (const k of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    if (p[k]) images[k] = p[k];
  }
  return admitPod(ivp, images, () => evidence, signerMap(ivp, policy), podObject(p));
}

// ---------------------------------------------------------------------------------------------------
// A reader for the ClusterPolicy guard rules, limited to the shapes the renderer emits.

/** Kyverno wildcard: `*` any run of characters (including `/`), `?` one character. */
function wildcard(pattern: string, s: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(s);
}

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((cur, k) => (cur as any)?.[k], obj);
}

/** RE2 semantics for `regex_match`: the pattern goes through the CEL engine's `matches`. */
function regexMatch(pattern: string, s: string): boolean {
  return evaluateCel('s.matches(p)', { s, p: pattern }) === true;
}

function condition(c: any, element: unknown): boolean {
  const key: string = typeof c.key === 'string' ? c.key : '';
  const regex = /^\{\{ regex_match\('((?:[^'\\]|\\.)*)', (element(?:\.[a-zA-Z]+)+)\) \}\}$/.exec(key);
  if (regex) {
    const subject = at({ element }, regex[2]!);
    assert.equal(typeof subject, 'string', `${regex[2]} resolves to a string`);
    const result = regexMatch(regex[1]!.replace(/\\'/g, "'"), subject as string);
    assert.equal(c.operator, 'Equals');
    return result === c.value;
  }
  const plain = /^\{\{ (element(?:\.[a-zA-Z]+)+) \}\}$/.exec(key);
  if (plain && c.operator === 'AllNotIn') {
    const subject = String(at({ element }, plain[1]!));
    return !(c.value as string[]).some((p) => wildcard(p, subject));
  }
  throw new Error(`the test reader does not know the condition ${JSON.stringify(c)}`);
}

const LISTS: Record<string, (spec: any) => unknown[]> = {
  'request.object.spec.[containers, initContainers, ephemeralContainers][]': (spec) => [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ],
  'request.object.spec.volumes[?image] || `[]`': (spec) => (spec.volumes ?? []).filter((v: any) => v.image),
  'request.object.spec.ephemeralContainers || `[]`': (spec) => spec.ephemeralContainers ?? [],
};

/** True when the ClusterPolicy rule `name` (matching `kind`) denies the Pod. */
function cpDenies(cp: any, name: string, pod: Record<string, unknown>, kind = 'Pod'): boolean {
  const rule = cp.spec.rules.find((r: any) => r.name === name);
  assert.ok(rule, `rule ${name} is rendered`);
  assert.equal(rule.validate.failureAction, 'Enforce');
  assert.deepEqual(rule.match, { any: [{ resources: { kinds: [kind] } }] });
  assert.equal(rule.validate.deny, undefined, 'only foreach rules are emitted');
  return rule.validate.foreach.some((fe: any) => {
    const list = LISTS[fe.list];
    assert.ok(list, `the test reader does not know the list ${fe.list}`);
    return list(pod.spec).some((element) => {
      assert.deepEqual(Object.keys(fe.deny.conditions), ['any'], 'only `any` conditions are emitted');
      return fe.deny.conditions.any.some((c: any) => condition(c, element));
    });
  });
}

describe('admission guards against spelling and image-volume bypasses', () => {
  const allowPolicy = policyWith((d) => (d.unmatchedImages = 'allow'));
  const blockPolicy = policyWith((d) => (d.unmatchedImages = 'block'));
  const noExemptions = policyWith((d) => {
    d.unmatchedImages = 'allow';
    delete d.exemptions;
  });

  describe('the rendered objects validate against the Kyverno CRD schemas', () => {
    const dir = sharedPath('schemas/kyverno', 'kyverno admission-guard CRD schemas', 4);
    (dir ? it : it.skip)('allow, block and no-exemption variants, both kinds', () => {
      const ivpSchema = crdValidator(`${dir}/policies.kyverno.io_imagevalidatingpolicies.yaml`, 'v1');
      const cpSchema = crdValidator(`${dir}/kyverno.io_clusterpolicies.yaml`, 'v1');
      for (const p of [allowPolicy, blockPolicy, noExemptions]) {
        const { ivp, cp } = render(p);
        const names: string[] = cp.spec.rules.map((r: any) => r.name);
        assert.ok(ivpSchema(ivp), schemaErrors(ivpSchema));
        assert.ok(cpSchema(cp), schemaErrors(cpSchema));
        assert.ok(names.includes('image-hosts-canonical'));
        assert.ok(names.includes('image-volumes-exempted-only') || names.includes('image-volumes-denied'));
      }
    });
  });

  describe('host spellings', () => {
    it('the check refuses every bad spelling and keeps every canonical one (CEL and JavaScript agree)', () => {
      for (const image of BAD_SPELLINGS) {
        assert.equal(isCanonicallySpelled(image), false, image);
        assert.equal(evaluateCel(celCanonicalHost('image'), { image }), false, `CEL: ${image}`);
      }
      for (const image of GOOD_SPELLINGS) {
        assert.equal(isCanonicallySpelled(image), true, image);
        assert.equal(evaluateCel(celCanonicalHost('image'), { image }), true, `CEL: ${image}`);
      }
    });

    for (const [label, policy] of [
      ['unmatchedImages: allow', allowPolicy],
      ['unmatchedImages: block', blockPolicy],
    ] as const) {
      it(`ImageValidatingPolicy (${label}): the canonical image is admitted, each bad spelling denied in every container kind`, () => {
        const { ivp } = render(policy);
        const ok = ivpAdmits(ivp, policy, { containers: [CANONICAL] }, compliantEvidence());
        assert.deepEqual(ok.failed, []);
        for (const image of BAD_SPELLINGS) {
          for (const kind of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
            const pod: PodShape =
              kind === 'containers' ? { containers: [image] } : { containers: [CANONICAL], [kind]: [image] };
            const r = ivpAdmits(ivp, policy, pod, compliantEvidence());
            assert.equal(r.allowed, false, `${image} in ${kind}`);
            const hostFailure = r.failed.find((m) => m.includes('"canonical host"'));
            assert.ok(
              hostFailure,
              `${image} in ${kind}: refused for its spelling, got ${r.failed.join(' | ')}`,
            );
            assert.ok(hostFailure.includes(image), `the message names ${image}: ${hostFailure}`);
            assert.ok(!hostFailure.includes('messageExpression error'), hostFailure);
          }
        }
      });
    }

    it('ImageValidatingPolicy (allow): without the spelling check, ghcr.io:443 would have passed unverified', () => {
      const { ivp } = render(allowPolicy);
      const r = ivpAdmits(ivp, allowPolicy, { containers: [`ghcr.io:443/acme/shop/api@${DIGEST}`] });
      // No evidence at all, and the only refusal is the spelling: no rule claims the image.
      assert.deepEqual(
        r.failed.map((m) => /requirement "([^"]+)"/.exec(m)?.[1]),
        ['canonical host'],
      );
    });

    it('ClusterPolicy: the spelling rule denies each bad spelling in every container kind, admits canonical ones', () => {
      for (const policy of [allowPolicy, blockPolicy]) {
        const { cp } = render(policy);
        for (const image of GOOD_SPELLINGS) {
          assert.equal(
            cpDenies(cp, 'image-hosts-canonical', podObject({ containers: [image] })),
            false,
            image,
          );
        }
        for (const image of BAD_SPELLINGS) {
          for (const kind of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
            const pod = podObject({ containers: [CANONICAL], [kind]: [image] });
            assert.equal(cpDenies(cp, 'image-hosts-canonical', pod), true, `${image} in ${kind}`);
          }
        }
        // The regular expression is the one the CEL side uses (one definition for both kinds).
        assert.ok(JSON.stringify(cp).includes(JSON.stringify(CANONICAL_HOST_IMAGE_REGEX).slice(1, -1)));
      }
    });

    it('canonical spellings select the same trust-policy rule as the pack (property over spellings and globs)', () => {
      const written = fc.constantFrom(
        'nginx',
        'library/nginx',
        'docker.io/library/nginx',
        'acme/app',
        'acme/app/x',
        'docker.io/acme/app',
        'docker.io/nginx',
        'index.docker.io/library/nginx',
        'ghcr.io/acme/app',
        'ghcr.io/acme',
        'GHCR.IO/acme/app',
        'ghcr.io:443/acme/app',
        'ghcr.io./acme/app',
        'localhost/acme',
        'localhost:5000/acme/app',
        'localhost:80/acme/app',
        '127.0.0.1:5000/acme/app',
        '127.0.0.1:80/acme/app',
        '127.1:5000/acme/app',
        'a.b/app',
      );
      const glob = fc.constantFrom(
        'docker.io/library/*',
        'docker.io/library/**',
        'docker.io/library/nginx',
        'docker.io/acme/**',
        'docker.io/acme/*',
        'docker.io/*',
        'docker.io/**',
        'docker.io/*/app',
        '*/acme/**',
        '*/app',
        '**',
        'ghcr.io/acme/**',
        'ghcr.io/*',
        'localhost/**',
        'localhost:5000/acme/*',
        'localhost/acme/*',
        '127.0.0.1:5000/**',
        '127.0.0.1/**',
      );
      fc.assert(
        fc.property(
          written,
          fc.array(glob, { minLength: 1, maxLength: 2 }),
          fc.boolean(),
          (w, globs, tagged) => {
            const image = `${w}${tagged ? ':v1' : ''}@${DIGEST}`;
            const canonical = evaluateCel(celCanonicalHost('image'), { image }) === true;
            let normalised: string | undefined;
            try {
              normalised = repositoryName(parseReference(image));
            } catch {
              normalised = undefined;
            }
            // A reference with a host (as Docker reads it) that the pack normalises to another name than
            // written is refused outright: no glob over the written string has to know the other spelling.
            const first = w.split('/')[0]!;
            const hasHost = w.includes('/') && (/[.:A-Z]/.test(first) || first === 'localhost');
            if (hasHost && normalised !== undefined && normalised !== w) {
              assert.equal(canonical, false, `${image} is pulled as ${normalised}`);
            }
            if (!canonical || normalised === undefined) return;
            const pack = compileRepositoryGlobs(globs)(normalised);
            const kyverno =
              evaluateCel(celWrittenImageMatches('image', imageRegexForGlobs(globs)), { image }) === true;
            assert.equal(kyverno, pack, `${image} (${normalised}) vs ${globs.join(', ')}`);
          },
        ),
        { numRuns: 1500 },
      );
    });
  });

  describe('image volumes', () => {
    const exempted = `busybox@${EXEMPT_DIGEST}`;
    const volume = (reference: string | undefined, name = 'tools'): Record<string, unknown> => ({
      name,
      image:
        reference === undefined ? { pullPolicy: 'IfNotPresent' } : { reference, pullPolicy: 'IfNotPresent' },
    });
    const allowedVolumes: [string, Record<string, unknown>[]][] = [
      ['no volumes', []],
      ['an emptyDir', [{ name: 'tmp', emptyDir: {} }]],
      ['the exempted image by its short name', [volume(exempted)]],
      ['the exempted image fully qualified', [volume(`docker.io/library/busybox@${EXEMPT_DIGEST}`)]],
      ['the exempted image with a tag', [volume(`busybox:1.36@${EXEMPT_DIGEST}`)]],
    ];
    const deniedVolumes: [string, Record<string, unknown>[]][] = [
      ['a signed, digest-pinned image (Kyverno cannot verify volumes)', [volume(CANONICAL)]],
      ['a tag-only image', [volume('ghcr.io/acme/shop/api:v1')]],
      ['the exempted repository at another digest', [volume(`busybox@${DIGEST}`)]],
      ['the exempted image spelled with docker.io/<name>', [volume(`docker.io/busybox@${EXEMPT_DIGEST}`)]],
      ['the exempted image under an uppercase host', [volume(`DOCKER.IO/library/busybox@${EXEMPT_DIGEST}`)]],
      ['an expired exemption', [volume(`alpine@sha256:${'c'.repeat(64)}`)]],
      ['an exempted volume next to an unsigned one', [volume(exempted, 'ok'), volume(CANONICAL, 'bad')]],
      ['an image source without a reference', [volume(undefined)]],
    ];

    it('ImageValidatingPolicy: allowed only when every image volume is an active exemption', () => {
      for (const policy of [allowPolicy, blockPolicy]) {
        const { ivp } = render(policy);
        for (const [name, volumes] of allowedVolumes) {
          const r = ivpAdmits(ivp, policy, { containers: [CANONICAL], volumes }, compliantEvidence());
          assert.deepEqual(r.failed, [], name);
        }
        for (const [name, volumes] of deniedVolumes) {
          const r = ivpAdmits(ivp, policy, { containers: [CANONICAL], volumes }, compliantEvidence());
          assert.equal(r.allowed, false, name);
          const failure = r.failed.find((m) => m.includes('"image volume"'));
          assert.ok(failure, `${name}: refused as an image volume, got ${r.failed.join(' | ')}`);
          assert.ok(!failure.includes('messageExpression error'), failure);
        }
      }
      // With no exemption in the trust policy, every image volume is denied.
      const { ivp } = render(noExemptions);
      const r = ivpAdmits(
        ivp,
        noExemptions,
        { containers: [CANONICAL], volumes: [volume(exempted)] },
        compliantEvidence(),
      );
      assert.ok(r.failed.some((m) => m.includes('"image volume"')));
      assert.deepEqual(
        ivpAdmits(
          ivp,
          noExemptions,
          { containers: [CANONICAL], volumes: [{ name: 't', emptyDir: {} }] },
          compliantEvidence(),
        ).failed,
        [],
      );
    });

    it('ClusterPolicy: the same volumes admitted and denied, with and without exemptions', () => {
      for (const policy of [allowPolicy, blockPolicy]) {
        const { cp } = render(policy);
        for (const [name, volumes] of allowedVolumes) {
          assert.equal(
            cpDenies(cp, 'image-volumes-exempted-only', podObject({ containers: [CANONICAL], volumes })),
            false,
            name,
          );
        }
        for (const [name, volumes] of deniedVolumes) {
          if (name === 'an image source without a reference') continue; // Kyverno errors on the missing variable: denied, not evaluable here.
          assert.equal(
            cpDenies(cp, 'image-volumes-exempted-only', podObject({ containers: [CANONICAL], volumes })),
            true,
            name,
          );
        }
      }
      const { cp } = render(noExemptions);
      assert.equal(
        cpDenies(
          cp,
          'image-volumes-denied',
          podObject({ containers: [CANONICAL], volumes: [volume(exempted)] }),
        ),
        true,
      );
      assert.equal(
        cpDenies(
          cp,
          'image-volumes-denied',
          podObject({ containers: [CANONICAL], volumes: [{ name: 't', emptyDir: {} }] }),
        ),
        false,
      );
      assert.equal(cpDenies(cp, 'image-volumes-denied', podObject({ containers: [CANONICAL] })), false);
    });
  });

  describe('ephemeral containers (kubectl debug, the pods/ephemeralcontainers subresource)', () => {
    it('the ImageValidatingPolicy receives the subresource, so debug containers get every check', () => {
      const { ivp } = render(allowPolicy);
      const rules = ivp.spec.matchConstraints.resourceRules;
      assert.ok(
        rules.some(
          (r: any) => r.resources.includes('pods/ephemeralcontainers') && r.operations.includes('UPDATE'),
        ),
      );
      // The Pod as the subresource request carries it: an unsigned debug image fails verification.
      const unsigned = ivpAdmits(ivp, allowPolicy, {
        containers: [CANONICAL],
        ephemeralContainers: [CANONICAL],
      });
      assert.equal(unsigned.allowed, false);
      assert.ok(unsigned.failed.some((m) => m.includes('"signature"')));
    });

    it('the ClusterPolicy refuses debug containers on the subresource unless their image is exempted', () => {
      for (const policy of [allowPolicy, blockPolicy]) {
        const { cp } = render(policy);
        const name = 'debug-containers-exempted-only';
        const pod = (images: string[]) => podObject({ containers: [CANONICAL], ephemeralContainers: images });
        assert.equal(cpDenies(cp, name, pod([`busybox@${EXEMPT_DIGEST}`]), 'Pod/ephemeralcontainers'), false);
        assert.equal(cpDenies(cp, name, pod([]), 'Pod/ephemeralcontainers'), false);
        for (const image of [
          CANONICAL,
          `busybox@${DIGEST}`,
          `busybox:latest`,
          `docker.io/busybox@${EXEMPT_DIGEST}`,
        ]) {
          assert.equal(cpDenies(cp, name, pod([image]), 'Pod/ephemeralcontainers'), true, image);
        }
      }
      const { cp } = render(noExemptions);
      const pod = podObject({ containers: [CANONICAL], ephemeralContainers: [`busybox@${EXEMPT_DIGEST}`] });
      assert.equal(cpDenies(cp, 'debug-containers-denied', pod, 'Pod/ephemeralcontainers'), true);
    });
  });
});
