import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileRepositoryGlobs } from '../../policy-pack/supply-chain/repository-glob';
import { KyvernoRenderError } from '../../components/kyverno/errors';
import {
  clusterPolicyImageReferences,
  celWrittenImageMatches,
  clusterPolicySkipReferences,
  imageRegexForExemption,
  imageRegexForGlobs,
} from '../../components/kyverno/image-patterns';
import { sourceRepositoryRegex } from '../../components/kyverno/cel-requirements';
import { REBUILD_PREDICATE_TYPE, SBOM_PREDICATE_TYPES } from '../../components/kyverno/predicate-types';
import { normaliseRepositoryUri } from '../../policy-pack/supply-chain/provenance';
import { sbomFormatOf } from '../../policy-pack/supply-chain/sbom';
import { loadTrustPolicyFile } from '../../policy-pack/supply-chain/trust-policy';
import * as path from 'node:path';
import { renderKyvernoPolicies, type KubernetesObject } from '../../components/kyverno/render-policies';
import { sharedPath } from '../support/shared';
import { crdValidator, schemaErrors } from './support/crd-schemas';
import { evaluateCel } from './support/kyverno-cel-sim';
import { loadFixturePolicy, trustPolicyDocument } from './support/trust-policy-fixture';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered policies are JSON trees; the assertions pin their shape. */

const NOW = new Date('2026-11-26T00:00:00Z');
const DIGEST = `sha256:${'a'.repeat(64)}`;

function render(
  kinds: ('ImageValidatingPolicy' | 'ClusterPolicy')[] = ['ImageValidatingPolicy', 'ClusterPolicy'],
) {
  const policy = loadFixturePolicy();
  const [ivp, cp] = renderKyvernoPolicies(policy, { kinds, now: NOW }) as [
    KubernetesObject,
    KubernetesObject,
  ];
  return { policy, ivp: ivp as any, cp: cp as any };
}

describe('Kyverno policy rendered from the trust policy', () => {
  describe('validates against the Kyverno v1.19 CRD schemas', () => {
    const dir = sharedPath('schemas/kyverno', 'kyverno-render CRD schemas', 4);
    (dir ? it : it.skip)(
      'ImageValidatingPolicy (policies.kyverno.io/v1) is accepted by its openAPIV3Schema',
      () => {
        const validate = crdValidator(`${dir}/policies.kyverno.io_imagevalidatingpolicies.yaml`, 'v1');
        const { ivp } = render();
        assert.ok(validate(ivp), schemaErrors(validate));
      },
    );
    (dir ? it : it.skip)('ClusterPolicy (kyverno.io/v1) is accepted by its openAPIV3Schema', () => {
      const validate = crdValidator(`${dir}/kyverno.io_clusterpolicies.yaml`, 'v1');
      const { cp } = render();
      assert.ok(validate(cp), schemaErrors(validate));
    });
    (dir ? it : it.skip)(
      'every variant validates: custom trusted root, unmatched images allowed, claims, the example policy',
      () => {
        const ivpSchema = crdValidator(`${dir}/policies.kyverno.io_imagevalidatingpolicies.yaml`, 'v1');
        const cpSchema = crdValidator(`${dir}/kyverno.io_clusterpolicies.yaml`, 'v1');
        const withRoot = trustPolicyDocument();
        withRoot.trustedRoot = {
          file: require.resolve('../../policy-pack/supply-chain/sigstore/trusted_root.public-good.json'),
        };
        const allow = { ...trustPolicyDocument(), unmatchedImages: 'allow' };
        const claims = trustPolicyDocument();
        (claims.signers as any)['acme-ci'].keyless.claims = {
          sourceRepositoryURI: 'https://github.com/acme/shop',
        };
        const policies = [
          loadFixturePolicy(withRoot),
          loadFixturePolicy(allow),
          loadFixturePolicy(claims),
          loadTrustPolicyFile(path.join(__dirname, '..', '..', 'examples', 'trust-policy.yaml')),
        ];
        for (const p of policies) {
          const [ivp, cp] = renderKyvernoPolicies(p, {
            kinds: ['ImageValidatingPolicy', 'ClusterPolicy'],
            now: NOW,
          });
          assert.ok(ivpSchema(ivp), schemaErrors(ivpSchema));
          assert.ok(cpSchema(cp), schemaErrors(cpSchema));
        }
      },
    );
    (dir ? it : it.skip)(
      'the schemas are strict enough to refuse a broken policy (the check can fail)',
      () => {
        const ivpSchema = crdValidator(`${dir}/policies.kyverno.io_imagevalidatingpolicies.yaml`, 'v1');
        const cpSchema = crdValidator(`${dir}/kyverno.io_clusterpolicies.yaml`, 'v1');
        const { ivp, cp } = render();
        const brokenIvp = structuredClone(ivp);
        delete brokenIvp.spec.attestors;
        brokenIvp.spec.failurePolicy = 'Sometimes';
        assert.equal(ivpSchema(brokenIvp), false);
        const brokenCp = structuredClone(cp);
        brokenCp.spec.rules[0].verifyImages[0].attestors[0].count = 0;
        brokenCp.spec.rules[0].verifyImages[0].failureAction = 'Maybe';
        assert.equal(cpSchema(brokenCp), false);
      },
    );
  });

  it('one trust policy: every requirement the pack applies appears in the ImageValidatingPolicy', () => {
    const { policy, ivp } = render(['ImageValidatingPolicy']);
    // What the pack applies to an image of acme: its own rule lookup over the normalised repository.
    const packRule = policy.ruleFor('ghcr.io/acme/shop/api');
    assert.ok(packRule);
    const rule = packRule.rule;
    const attestors: any[] = ivp.spec.attestors;
    const idOf = (signer: string): string => {
      const a = attestors.find((x) => x.name.endsWith(`_${signer.replace(/-/g, '_')}`));
      assert.ok(a, `attestor for ${signer}`);
      return a.name;
    };
    // Signers: every resolved signer the rule names is an attestor with the SAME identity (regexps anchored).
    const ci = attestors.find((a) => a.name === idOf('acme-ci'));
    assert.deepEqual(ci.cosign.keyless.identities, [
      {
        issuer: policy.resolvedSigners['acme-ci']!.keyless!.issuer,
        subjectRegExp: `^(?:${policy.resolvedSigners['acme-ci']!.keyless!.subjectRegExp})$`,
      },
    ]);
    const rk = attestors.find((a) => a.name === idOf('rebuilder-k'));
    assert.equal(rk.cosign.key.data, policy.resolvedSigners['rebuilder-k']!.key!.publicKeyPem);
    assert.equal(rk.cosign.ctlog.insecureIgnoreTlog, undefined, 'the transparency log stays required');
    const legacy = attestors.find((a) => a.name === idOf('legacy-key'));
    assert.equal(legacy.cosign.ctlog.insecureIgnoreTlog, true, 'the policy opted legacy-key out of the log');

    const validations: { expression: string; message: string }[] = ivp.spec.validations;
    const forRule0 = validations.filter((v) => v.message.startsWith('images[0]'));
    const expr = (req: string): string => {
      const v = forRule0.find((x) => x.message.includes(`requirement "${req}"`));
      assert.ok(v, `a validation for ${req}`);
      return v.expression;
    };
    // Signature by exactly the rule's signers.
    assert.ok(expr('signature').includes(`verifyImageSignatures(image, [attestors.${idOf('acme-ci')}]) > 0`));
    // SBOM: every predicate type the pack accepts for the rule's format (and no other format), signed
    // by the rule's SBOM signers, listing at least one component.
    assert.deepEqual(
      ivp.spec.attestations.filter((a: any) => a.name.startsWith('sbom_')).map((a: any) => a.intoto.type),
      rule.sbom!.formats!.flatMap((f) => SBOM_PREDICATE_TYPES[f]),
    );
    for (const t of [
      'https://cyclonedx.org/bom',
      'https://cyclonedx.org/bom/v1.6',
      'https://cyclonedx.org/bom/1.5',
    ]) {
      assert.equal(sbomFormatOf(t), 'cyclonedx', `${t} is an SBOM type the pack accepts`);
      assert.ok(
        ivp.spec.attestations.some((a: any) => a.intoto.type === t),
        `${t} is accepted at admission`,
      );
    }
    for (const a of ivp.spec.attestations.filter((x: any) => x.name.startsWith('sbom_'))) {
      assert.equal(
        sbomFormatOf(a.intoto.type),
        'cyclonedx',
        `${a.intoto.type} is one the pack accepts as CycloneDX`,
      );
    }
    assert.ok(expr('sbom').includes(`attestations.sbom_cyclonedx_0, [attestors.${idOf('acme-ci')}]) > 0`));
    assert.ok(expr('sbom').includes('.predicate.components) > 0'));
    assert.ok(!expr('sbom').includes('sbom_spdx'));
    // Provenance: signers and the anchored builder constraint, for SLSA v1 and v0.2.
    const prov = expr('provenance');
    assert.ok(prov.includes(`attestations.provenance_slsa_v1, [attestors.${idOf('acme-ci')}]) > 0`));
    assert.ok(prov.includes('predicate.runDetails.builder.id.matches'));
    assert.ok(prov.includes('predicate.builder.id.matches'));
    assert.ok(prov.includes(`^(?:${rule.provenance!.builderIdRegExp!.replace(/\\/g, '\\\\')})$`));
    const sourceRe = sourceRepositoryRegex(rule.provenance!.sourceRepository!).replace(/\\/g, '\\\\');
    assert.ok(
      prov.includes(`resolvedDependencies.exists(d, `) && prov.includes(sourceRe),
      'v1 source constraint',
    );
    assert.ok(prov.includes(`materials.exists(m, `), 'v0.2 source constraint');
    // Rebuild quorum: each listed rebuilder's own VSA (one attestation per rebuilder, so its payload is
    // its own) must have PASSED, and at least `threshold` of them.
    const rebuild = expr('reproducible');
    for (const r of rule.reproducible!.rebuilders) {
      const id = idOf(r);
      assert.ok(
        rebuild.includes(
          `verifyAttestationSignatures(image, attestations.rebuild_vsa_${id}, [attestors.${id}]) > 0`,
        ),
        `${r} checked on its own`,
      );
      assert.ok(
        rebuild.includes(
          `extractPayload(image, attestations.rebuild_vsa_${id}).predicate.verificationResult == 'PASSED'`,
        ),
      );
    }
    assert.ok(rebuild.includes(`.filter(ok, ok).size() >= ${rule.reproducible!.threshold}`));
    assert.ok(ivp.spec.attestations.some((a: any) => a.intoto.type === REBUILD_PREDICATE_TYPE));
    // Enforcement cannot be soft.
    assert.deepEqual(ivp.spec.validationActions, ['Deny']);
    assert.equal(ivp.spec.failurePolicy, 'Fail');
    assert.equal(ivp.spec.validationConfigurations.verifyDigest, true);
    // Digest and unmatched-image requirements are present too.
    assert.ok(validations.some((v) => v.message.includes('requirement "digest"')));
    assert.ok(validations.some((v) => v.message.includes('requirement "policy"')));
  });

  it('one trust policy: every requirement appears in the ClusterPolicy, with the quorum as attestor count', () => {
    const policy = loadFixturePolicy();
    const cp = renderKyvernoPolicies(policy, { kinds: ['ClusterPolicy'], now: NOW })[0] as any;
    const rule = policy.images[0]!;
    const vi = cp.spec.rules[0].verifyImages[0];
    assert.equal(vi.failureAction, 'Enforce');
    assert.equal(cp.spec.failurePolicy, 'Fail');
    // `ghcr.io/acme/**` also covers `ghcr.io/acme` itself in the pack (picomatch), so Kyverno lists both.
    assert.deepEqual(vi.imageReferences, [
      'ghcr.io/acme/*:*',
      'ghcr.io/acme/*@*',
      'ghcr.io/acme:*',
      'ghcr.io/acme@*',
    ]);
    assert.deepEqual(vi.attestors, [
      {
        count: 1,
        entries: [
          {
            keyless: {
              issuer: 'https://token.actions.githubusercontent.com',
              subjectRegExp: `^(?:${policy.resolvedSigners['acme-ci']!.keyless!.subjectRegExp})$`,
              rekor: { url: 'https://rekor.sigstore.dev' },
            },
          },
        ],
      },
    ]);
    const byName = Object.fromEntries(vi.attestations.map((a: any) => [a.name, a]));
    assert.equal(byName.sbom.predicateType, 'https://cyclonedx.org/bom');
    assert.equal(byName.provenance.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(byName.provenance.conditions[0].all[0].value, true);
    assert.equal(byName.rebuild.attestors[0].count, rule.reproducible!.threshold);
    assert.equal(byName.rebuild.attestors[0].entries.length, rule.reproducible!.rebuilders.length);
    // The second rule skips images the first rule covers (first match wins, as in the pack) and exemptions.
    const second = cp.spec.rules[1].verifyImages[0];
    assert.ok(second.skipImageReferences.includes('ghcr.io/acme/*:*'));
    assert.ok(second.skipImageReferences.includes(`docker.io/library/busybox@sha256:${'b'.repeat(64)}`));
    assert.ok(
      second.skipImageReferences.includes(`busybox@sha256:${'b'.repeat(64)}`),
      'Docker Hub short form',
    );
    // Tag-only and unmatched images are refused, as the pack refuses them.
    const last = cp.spec.rules.find((r: any) => r.name === 'images-pinned-and-matched');
    assert.ok(last, 'the pinned-and-matched rule is rendered');
    assert.equal(last.validate.failureAction, 'Enforce');
    const conditions = last.validate.foreach[0].deny.conditions.any;
    assert.equal(conditions[0].key, "{{ contains(element.image, '@sha256:') }}");
    assert.equal(conditions[1].operator, 'AllNotIn');
    assert.ok(conditions[1].value.includes('registry.example.com/legacy/*:*'));
    assert.ok(conditions[1].value.includes(`busybox@sha256:${'b'.repeat(64)}`));
    assert.ok(
      !second.skipImageReferences.some((r: string) => r.includes('alpine')),
      'expired exemption left out',
    );
    assert.equal(second.attestors[0].entries[0].keys.rekor.ignoreTlog, true);
  });

  it('selects images by the same globs as the pack (property: regex over written refs == picomatch over repositories)', () => {
    const segment = fc.constantFrom('a', 'b', 'ab', 'a.b', 'a-b');
    const globSegment = fc.constantFrom('a', 'b', '*', '**', 'a*', '*b', 'ab', '?', 'a?', '*a*');
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.array(fc.array(globSegment, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 2 }),
        // Tags and digests made of the same letters as the names: a wildcard must not run into them.
        fc.constantFrom('v1', 'a', 'ab', 'b'),
        fc.constantFrom(DIGEST, `sha256:${'b'.repeat(64)}`),
        (repoSegs, globsSegs, tag, digest) => {
          const repository = `ghcr.io/${repoSegs.join('/')}`;
          const globs = globsSegs.map((g) => `ghcr.io/${g.join('/')}`);
          const pack = compileRepositoryGlobs(globs)(repository);
          const re = new RegExp(imageRegexForGlobs(globs));
          assert.equal(re.test(`${repository}@${digest}`), pack, `${repository} vs ${globs.join(',')}`);
          assert.equal(
            re.test(`${repository}:${tag}@${digest}`),
            pack,
            `${repository}:${tag} vs ${globs.join(',')}`,
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('ClusterPolicy wildcards: imageReferences cover at least what the pack matches, skips at most (property)', () => {
    // Kyverno's wildcard: `*` is any run of characters (including `/`), `?` one character.
    const kyvernoMatch = (pattern: string, s: string): boolean =>
      new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      ).test(s);
    const segment = fc.constantFrom('a', 'b', 'ab', 'a.b');
    const globSegment = fc.constantFrom('a', 'b', '*', '**', 'a*', 'ab', '?');
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.array(fc.array(globSegment, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 2 }),
        fc.boolean(),
        fc.constantFrom('v1', 'a', 'b/c', 'ab'),
        (repoSegs, globsSegs, byDigest, tag) => {
          const repository = `ghcr.io/${repoSegs.join('/')}`;
          const ref = byDigest ? `${repository}@${DIGEST}` : `${repository}:${tag}`;
          const globs = globsSegs.map((g) => `ghcr.io/${g.join('/')}`);
          const pack = compileRepositoryGlobs(globs)(repository);
          const covered = clusterPolicyImageReferences(globs).some((p) => kyvernoMatch(p, ref));
          const skipped = clusterPolicySkipReferences(globs).some((p) => kyvernoMatch(p, ref));
          if (pack)
            assert.ok(covered, `${ref} is matched by ${globs.join(',')} in the pack but not in Kyverno`);
          if (skipped)
            assert.ok(
              pack,
              `${ref} would be skipped by later rules though the pack does not match ${globs.join(',')}`,
            );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('provenance source constraint: the regex accepts exactly the URIs the pack normalises to the same repository (property)', () => {
    // Node 20's RegExp has no inline (?i:...) group: expand it into per-letter classes for this check.
    const jsRegex = (re: string): RegExp =>
      new RegExp(
        re.replace(
          /\(\?i:([^)]*)\)/g,
          (_, body: string) =>
            `(?:${body.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)})`,
        ),
      );
    const constraint = 'https://github.com/acme/app';
    const re = jsRegex(sourceRepositoryRegex(constraint));
    const uri = fc
      .record({
        git: fc.boolean(),
        scheme: fc.constantFrom('', 'https://', 'ssh://', 'git://', 'HTTPS://'),
        host: fc.constantFrom('github.com', 'GitHub.com', 'gitlab.com', 'github.co'),
        path: fc.constantFrom(
          '/acme/app',
          '/acme/App',
          '/acme/app2',
          '/acme',
          '/acme/app/sub',
          '/evil/acme/app',
        ),
        gitSuffix: fc.boolean(),
        slash: fc.boolean(),
        ref: fc.constantFrom('', '@refs/heads/main', '@v1.2.3'),
      })
      .map(
        (u) =>
          `${u.git ? 'git+' : ''}${u.scheme}${u.host}${u.path}${u.gitSuffix ? '.git' : ''}${u.slash ? '/' : ''}${u.ref}`,
      );
    fc.assert(
      fc.property(uri, (u) => {
        assert.equal(re.test(u), normaliseRepositoryUri(u) === normaliseRepositoryUri(constraint), u);
      }),
      { numRuns: 500 },
    );
  });

  it('recognises Docker Hub shorthands the way the pack normalises them, and nothing else', () => {
    const selects = (globs: string[], image: string): boolean =>
      evaluateCel(celWrittenImageMatches('image', imageRegexForGlobs(globs)), { image }) === true;
    const nginx = ['docker.io/library/nginx'];
    assert.ok(selects(nginx, `nginx@${DIGEST}`));
    assert.ok(selects(nginx, `library/nginx:1.27@${DIGEST}`));
    assert.ok(selects(nginx, `docker.io/library/nginx@${DIGEST}`));
    // ClusterPolicy wildcards list the Docker Hub host aliases too (Kyverno keeps the host as written).
    assert.ok(
      clusterPolicyImageReferences(['docker.io/library/nginx']).includes('index.docker.io/library/nginx@*'),
    );
    assert.ok(!selects(nginx, `evil.example/nginx@${DIGEST}`));
    assert.ok(!selects(nginx, `docker.io/library/nginx-evil@${DIGEST}`));
    // A short form is a Docker Hub path, never another registry's: `docker.io/library/**` does not
    // take `acme/app` (docker.io/acme/app) or `ghcr.io/acme/app` away from the rules that cover them.
    assert.ok(!selects(['docker.io/library/**'], `acme/app@${DIGEST}`));
    assert.ok(!selects(['docker.io/library/**'], `ghcr.io/acme/app@${DIGEST}`));
    assert.ok(!selects(['docker.io/*'], `nginx@${DIGEST}`), 'nginx is docker.io/library/nginx');
    assert.ok(selects(['docker.io/acme/*'], `acme/app@${DIGEST}`));
    const ex = (image: string): boolean =>
      evaluateCel(
        celWrittenImageMatches(
          'image',
          imageRegexForExemption(`docker.io/library/busybox@sha256:${'b'.repeat(64)}`),
        ),
        { image },
      ) === true;
    assert.ok(ex(`busybox@sha256:${'b'.repeat(64)}`));
    assert.ok(
      !ex(`busybox@sha256:${'c'.repeat(64)}`),
      'another digest of the exempted repository is not exempt',
    );
    assert.ok(!ex(`busybox:latest`));
  });

  it('drops expired exemptions and records when the next one expires', () => {
    const { ivp } = render(['ImageValidatingPolicy']);
    const all = JSON.stringify(ivp.spec.validations);
    assert.ok(all.includes('busybox'));
    assert.ok(!all.includes('alpine'));
    assert.equal(ivp.metadata.annotations['trustops.dev/next-exemption-expiry'], '2099-12-31T23:59:59.999Z');
  });

  it('an exemption whose date does not exist is dropped, never rolled over into a later day', () => {
    const policy = loadFixturePolicy();
    // Date.parse would read 2026-11-31 as 1 December and 2026-11-25T24:00Z as the next midnight.
    for (const expires of ['2026-11-31', '2026-11-31T00:00Z', '2026-11-25T24:00Z']) {
      const exemptions = [{ ...policy.exemptions![0]!, expires }];
      const [ivp] = renderKyvernoPolicies(
        { ...policy, exemptions },
        { kinds: ['ImageValidatingPolicy'], now: NOW },
      );
      const rendered = ivp as any;
      assert.ok(!JSON.stringify(rendered.spec.validations).includes('busybox'), expires);
      assert.equal(rendered.metadata.annotations['trustops.dev/next-exemption-expiry'], undefined, expires);
    }
  });

  it('refuses two rebuilder names for one key or identity (Kyverno would count one summary twice)', () => {
    const policy = loadFixturePolicy();
    for (const [twin, of] of [
      ['rebuilder-k2', 'rebuilder-k'],
      ['rebuilder-a2', 'rebuilder-a'],
    ] as const) {
      const twinned = {
        ...policy,
        resolvedSigners: {
          ...policy.resolvedSigners,
          [twin]: { ...policy.resolvedSigners[of]!, name: twin },
        },
        images: policy.images.map((r, i) =>
          i === 0 ? { ...r, reproducible: { rebuilders: [of, twin, 'rebuilder-b'], threshold: 2 } } : r,
        ),
      };
      assert.throws(
        () => renderKyvernoPolicies(twinned, { now: NOW }),
        (e: unknown) =>
          e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE' && e.message.includes(twin),
        twin,
      );
    }
  });

  it('refuses an email subject pattern with an issuer pattern (Kyverno would also accept a URI SAN it matches)', () => {
    const policy = loadFixturePolicy();
    const release = policy.resolvedSigners['acme-ci']!;
    const withIdentity = (identity: { issuer?: string; issuerRegExp?: string; subjectRegExp: string }) => ({
      ...policy,
      resolvedSigners: {
        ...policy.resolvedSigners,
        'acme-ci': {
          ...release,
          keyless: { ...release.keyless!, issuer: undefined, subject: undefined, ...identity },
        },
      },
    });
    assert.throws(
      () =>
        renderKyvernoPolicies(withIdentity({ issuerRegExp: 'https://.+', subjectRegExp: '.+@acme\\.com' }), {
          now: NOW,
        }),
      (e: unknown) => e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE',
    );
    // the issuer named exactly: Fulcio gives it one kind of SAN
    assert.doesNotThrow(() =>
      renderKyvernoPolicies(
        withIdentity({ issuer: 'https://accounts.example.com', subjectRegExp: '.+@acme\\.com' }),
        { now: NOW },
      ),
    );
    // a URI pattern with an issuer pattern is what the pack checks too
    assert.doesNotThrow(() =>
      renderKyvernoPolicies(
        withIdentity({ issuerRegExp: 'https://.+', subjectRegExp: 'https://github\\.com/acme/.+' }),
        { now: NOW },
      ),
    );
  });

  it('renders trust-policy patterns as the pack anchors them, and refuses what RE2 or a JMESPath raw string cannot carry', () => {
    const policy = loadFixturePolicy();
    const release = policy.resolvedSigners['acme-ci']!;
    const withSubject = (subjectRegExp: string) => ({
      ...policy,
      resolvedSigners: {
        ...policy.resolvedSigners,
        'acme-ci': { ...release, keyless: { ...release.keyless!, subject: undefined, subjectRegExp } },
      },
    });
    const rendered = JSON.stringify(
      renderKyvernoPolicies(withSubject('https://github\\.com/acme/.+'), { now: NOW }),
    );
    assert.ok(rendered.includes(JSON.stringify('^(?:https://github\\.com/acme/.+)$').slice(1, -1)));
    // a lookahead the pack's loader refuses, given to the renderer directly
    assert.throws(
      () => renderKyvernoPolicies(withSubject('https://github\\.com/(?!evil).+'), { now: NOW }),
      (e: unknown) => e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE',
    );
    // a pattern that escapes its anchors if pasted as text
    assert.throws(
      () => renderKyvernoPolicies(withSubject('a)|(b'), { now: NOW }),
      (e: unknown) => e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE',
    );
    const withBuilder = (builderIdRegExp: string) => ({
      ...policy,
      images: policy.images.map((r) =>
        r.provenance ? { ...r, provenance: { ...r.provenance, builderIdRegExp } } : r,
      ),
    });
    assert.ok(
      policy.images.some((r) => r.provenance),
      'the fixture has a provenance requirement',
    );
    const clusterPolicy = { now: NOW, kinds: ['ClusterPolicy' as const] };
    assert.doesNotThrow(() => renderKyvernoPolicies(withBuilder('https://ci\\.example/.+'), clusterPolicy));
    for (const bad of ["it's", 'a\\\\b', 'x{{y', 'x}}y']) {
      assert.throws(
        () => renderKyvernoPolicies(withBuilder(bad), clusterPolicy),
        (e: unknown) => e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE',
        bad,
      );
    }
  });

  it('refuses, with a coded error, what it cannot express faithfully', () => {
    const policy = loadFixturePolicy();
    const withClaim = {
      ...policy,
      resolvedSigners: {
        ...policy.resolvedSigners,
        'acme-ci': {
          name: 'acme-ci',
          keyless: {
            ...policy.resolvedSigners['acme-ci']!.keyless!,
            claims: { runnerEnvironment: 'github-hosted' },
          },
        },
      },
    };
    assert.throws(
      () => renderKyvernoPolicies(withClaim),
      (e: unknown) =>
        e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE' && e.message.includes('acme-ci'),
    );
    const nonGithub = {
      ...policy,
      resolvedSigners: {
        ...policy.resolvedSigners,
        'acme-ci': {
          name: 'acme-ci',
          keyless: {
            ...policy.resolvedSigners['acme-ci']!.keyless!,
            claims: { sourceRepositoryURI: 'https://gitlab.com/acme/app' },
          },
        },
      },
    };
    assert.throws(
      () => renderKyvernoPolicies(nonGithub),
      (e: unknown) => e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE',
    );
    const unknownSigner = {
      ...policy,
      images: [{ match: ['ghcr.io/x/*'], signature: { signers: ['ghost'] } }],
    };
    assert.throws(
      () => renderKyvernoPolicies(unknownSigner),
      (e: unknown) =>
        e instanceof KyvernoRenderError && e.code === 'UNKNOWN_SIGNER' && e.message.includes('ghost'),
    );
    assert.throws(
      () => renderKyvernoPolicies({ ...policy, images: [], unmatchedImages: 'allow' }),
      (e: unknown) => e instanceof KyvernoRenderError && e.code === 'EMPTY_POLICY',
    );
  });

  it('carries a custom trusted root into both policy kinds (same trust material as the pack)', () => {
    const root = require.resolve('../../policy-pack/supply-chain/sigstore/trusted_root.public-good.json');
    const doc = { ...trustPolicyDocument(), trustedRoot: { file: root } };
    const policy = loadFixturePolicy(doc);
    assert.equal(policy.trustedRootSource.kind, 'file');
    const [ivp, cp] = renderKyvernoPolicies(policy, {
      kinds: ['ImageValidatingPolicy', 'ClusterPolicy'],
      now: NOW,
    }) as any[];
    for (const a of ivp.spec.attestors) {
      assert.deepEqual(
        JSON.parse(a.cosign.trustedRoot.value),
        (policy.trustedRootSource as { json: unknown }).json,
      );
    }
    const keyless = cp.spec.rules[0].verifyImages[0].attestors[0].entries[0].keyless;
    assert.match(keyless.roots, /^-----BEGIN CERTIFICATE-----/);
    const json = (policy.trustedRootSource as { json: unknown }).json as {
      certificateAuthorities: { certChain: { certificates: unknown[] } }[];
    };
    const certificates = json.certificateAuthorities.reduce(
      (n, ca) => n + ca.certChain.certificates.length,
      0,
    );
    assert.equal(
      (keyless.roots.match(/BEGIN CERTIFICATE/g) ?? []).length,
      certificates,
      'every Fulcio CA certificate',
    );
    assert.match(keyless.rekor.pubkey, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(keyless.rekor.url, 'https://rekor.sigstore.dev');
    assert.match(keyless.ctlog.pubkey, /^-----BEGIN PUBLIC KEY-----/);
    // Without a usable transparency log there is no faithful rendering: refuse.
    const broken = {
      ...policy,
      trustedRootSource: { kind: 'file' as const, path: 'root.json', json: { tlogs: [] } },
    };
    assert.throws(
      () => renderKyvernoPolicies(broken),
      (e: unknown) =>
        e instanceof KyvernoRenderError && e.code === 'NOT_EXPRESSIBLE' && e.message.includes('root.json'),
    );
  });

  it("a trusted root over TUF: the public-good repository is Kyverno's default; a private mirror is refused", () => {
    const policy = loadFixturePolicy();
    const embedded = JSON.stringify(renderKyvernoPolicies(policy, { now: NOW }));
    const publicGood = {
      ...policy,
      trustedRootSource: {
        kind: 'tuf' as const,
        mirror: 'https://tuf-repo-cdn.sigstore.dev',
        cacheDir: '/tmp/tuf',
      },
    };
    assert.equal(JSON.stringify(renderKyvernoPolicies(publicGood, { now: NOW })), embedded);
    const privateMirror = {
      ...policy,
      trustedRootSource: {
        kind: 'tuf' as const,
        mirror: 'https://tuf.internal.example',
        rootPath: '/etc/tuf/root.json',
        cacheDir: '/tmp/tuf',
      },
    };
    assert.throws(
      () => renderKyvernoPolicies(privateMirror, { now: NOW }),
      (e: unknown) =>
        e instanceof KyvernoRenderError &&
        e.code === 'NOT_EXPRESSIBLE' &&
        e.message.includes('tuf.internal.example'),
    );
  });

  it('maps GitHub repository claims onto the Fulcio extensions Kyverno checks', () => {
    const doc = trustPolicyDocument();
    (doc.signers as any)['acme-ci'].keyless.claims = {
      sourceRepositoryURI: 'https://github.com/acme/shop',
      sourceRepositoryRef: 'refs/heads/main',
    };
    const [ivp] = renderKyvernoPolicies(loadFixturePolicy(doc), { now: NOW }) as any[];
    const ci = ivp.spec.attestors.find((a: any) => a.name.endsWith('_acme_ci'));
    assert.deepEqual(ci.cosign.keyless.additionalExtensions, {
      githubWorkflowRepository: 'acme/shop',
      githubWorkflowRef: 'refs/heads/main',
    });
  });
});
