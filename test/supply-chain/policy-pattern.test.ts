import { strict as assert } from 'node:assert';
import { RE2JS } from 're2js';
import {
  anchoredSource,
  compileAnchoredPattern,
  matchesAnchored,
  PolicyPatternError,
} from '../../policy-pack/supply-chain/anchored-regexp';
import { PolicyError } from '../../policy-pack/supply-chain/policy-error';
import { provenanceConstraintProblem } from '../../policy-pack/supply-chain/provenance';
import type { CertificateIdentity } from '../../policy-pack/supply-chain/sigstore/certificate-identity';
import { matchKeylessSigner, namesScheme } from '../../policy-pack/supply-chain/sigstore/identity-match';
import { parseTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { KeylessSigner } from '../../policy-pack/supply-chain/types';

/**
 * Trust-policy patterns are RE2 (the dialect Kyverno/cosign use for the same policy), anchored, and
 * matched in linear time. These tests run the pure core; the real-certificate identity cases are in
 * sigstore/bundle-verifier.test.ts and verify-image.e2e.test.ts.
 */

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const RELEASE_SUBJECT = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3';
/** The subjectRegExp of the issue's example policy, exactly as written there. */
const ISSUE_SUBJECT_REGEXP =
  '^https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v.+$';

/** A policy with one keyless signer and one rule, so that each test changes one pattern. */
function policyWith(keyless: Record<string, string>, builderIdRegExp?: string): object {
  return {
    apiVersion: 'trustops.dev/v1alpha1',
    kind: 'TrustPolicy',
    signers: {
      release: { keyless: { ...('issuerRegExp' in keyless ? {} : { issuer: GITHUB_ISSUER }), ...keyless } },
    },
    images: [
      {
        name: 'acme',
        match: ['registry.example.com/acme/**'],
        signature: { signers: ['release'] },
        provenance: {
          signers: ['release'],
          ...(builderIdRegExp !== undefined ? { builderIdRegExp } : {}),
        },
      },
    ],
  };
}

function load(doc: object): ReturnType<typeof parseTrustPolicy> {
  return parseTrustPolicy(doc, { baseDir: '/nonexistent', source: 'policy.yaml' });
}

function policyError(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a PolicyError');
}

function uri(subject: string, issuer = GITHUB_ISSUER): CertificateIdentity {
  return { uri: subject, issuer, claims: {} };
}

function email(address: string, issuer = GITHUB_ISSUER): CertificateIdentity {
  return { email: address, issuer, claims: {} };
}

function signer(subjectRegExp: string): KeylessSigner {
  return { issuer: GITHUB_ISSUER, subjectRegExp };
}

describe('trust-policy patterns: RE2, anchored, linear time', function () {
  describe('pathological patterns return (no catastrophic backtracking)', function () {
    // With a backtracking engine each of these takes exponential time on the crafted input: the test
    // would hang, not fail. No timing assertion: returning with the right answer is the check.
    const crafted = 'a'.repeat(50_000) + '!';
    const pathological = ['^(a+)+$', '^(a|aa)+$', '(a*)*b', '(?:a|a)*$', '(x+x+)+y', '((a+)+)+'];

    for (const pattern of pathological) {
      it(`${pattern} against a 50,000-character crafted subject is a mismatch`, function () {
        assert.equal(compileAnchoredPattern(pattern).matches(crafted), false);
        assert.equal(matchesAnchored(pattern, crafted), false);
      });
    }

    it('the same patterns still match what they describe (the mismatch above is not a refusal)', function () {
      assert.equal(matchesAnchored('^(a+)+$', 'a'.repeat(50_000)), true);
      assert.equal(matchesAnchored('^(a|aa)+$', 'a'.repeat(50_000)), true);
    });

    it('as a keyless subjectRegExp: a crafted certificate subject is IDENTITY mismatch, not a stall', function () {
      const policy = load(policyWith({ subjectRegExp: 'https://(a+)+\\.example/x' }));
      const s = policy.resolvedSigners.release?.keyless;
      assert.ok(s);
      const subject = `https://${'a'.repeat(50_000)}!.example/x`;
      assert.deepEqual(matchKeylessSigner(s, uri(subject))?.field, 'subject');
      assert.equal(matchKeylessSigner(s, uri('https://aaa.example/x')), undefined);
    });

    it('as an issuerRegExp and a builderIdRegExp: crafted values are mismatches', function () {
      const s: KeylessSigner = { issuerRegExp: 'https://(a|aa)+\\.example', subject: RELEASE_SUBJECT };
      assert.equal(
        matchKeylessSigner(s, uri(RELEASE_SUBJECT, `https://${'a'.repeat(50_000)}!.example`))?.field,
        'issuer',
      );
      const problem = provenanceConstraintProblem(
        { version: 'v1', builderId: `https://${'a'.repeat(50_000)}!`, sources: [] },
        { signers: ['release'], builderIdRegExp: 'https://(a+)+' },
      );
      assert.ok(problem !== undefined, 'a crafted builder id must not satisfy the constraint');
    });
  });

  describe('JavaScript-only constructs are rejected at policy load (POLICY_BAD_REGEXP)', function () {
    const jsOnly: [string, string][] = [
      ['lookahead', 'https://github\\.com/acme/(?=app).+'],
      ['negative lookahead', 'https://github\\.com/(?!evil).+'],
      ['lookbehind', 'https://github\\.com/(?<=com/)acme/.+'],
      ['negative lookbehind', 'https://github\\.com/(?<!evil/)acme/.+'],
      ['backreference', 'https://github\\.com/(acme)/\\1/.+'],
      ['named backreference', 'https://github\\.com/(?<o>acme)/\\k<o>/.+'],
      ['atomic group', 'https://github\\.com/(?>acme)/.+'],
      ['possessive quantifier', 'https://github\\.com/acme/.++'],
      ['\\u escape', 'https://github\\.com/\\u0061cme/.+'],
      ['\\c control escape', 'https://github\\.com/acme/\\cA.+'],
    ];

    for (const [what, pattern] of jsOnly) {
      it(`${what}: ${pattern}`, function () {
        const e = policyError(() => load(policyWith({ subjectRegExp: pattern })));
        assert.equal(e.code, 'POLICY_BAD_REGEXP');
        assert.equal(e.problems.length, 1);
        const [problem] = e.problems;
        assert.equal(problem?.path, '/signers/release/keyless/subjectRegExp');
        // The problem names the signer and the pattern (data, not wording).
        assert.ok(problem?.message.includes('"release"'));
        assert.ok(problem?.message.includes(pattern));
        assert.throws(() => compileAnchoredPattern(pattern), PolicyPatternError);
      });
    }

    it('issuerRegExp and builderIdRegExp are checked the same way, every problem at once', function () {
      const e = policyError(() =>
        load(
          policyWith({ subjectRegExp: 'x(?=y)', issuerRegExp: '(a)\\1' }, 'https://github\\.com/(?!evil)'),
        ),
      );
      assert.deepEqual(e.problems.map((p) => [p.code, p.path]).sort(), [
        ['POLICY_BAD_REGEXP', '/images/0/provenance/builderIdRegExp'],
        ['POLICY_BAD_REGEXP', '/signers/release/keyless/issuerRegExp'],
        ['POLICY_BAD_REGEXP', '/signers/release/keyless/subjectRegExp'],
      ]);
      const builder = e.problems.find((p) => p.path.endsWith('builderIdRegExp'));
      assert.ok(builder?.message.includes('"acme"'), 'the problem names the rule');
    });

    it('a pattern that escapes the anchors is rejected: a)|(b would be ^(?:a)|(b)$', function () {
      // JavaScript's RegExp accepted this wrapped form, anchoring neither alternative.
      assert.doesNotThrow(() => new RegExp(anchoredSource('https://github\\.com/acme/.+)|(.*')));
      const e = policyError(() => load(policyWith({ subjectRegExp: 'https://github\\.com/acme/.+)|(.*' })));
      assert.equal(e.code, 'POLICY_BAD_REGEXP');
    });

    it('a \\Q quote left open is rejected: it would swallow the closing anchors', function () {
      // The bare pattern is valid RE2; only its anchored form breaks.
      assert.doesNotThrow(() => RE2JS.compile('https://\\Qgithub.com'));
      assert.throws(() => compileAnchoredPattern('https://\\Qgithub.com'), PolicyPatternError);
      const e = policyError(() => load(policyWith({ subjectRegExp: 'https://\\Qgithub.com' })));
      assert.equal(e.code, 'POLICY_BAD_REGEXP');
      // Closed, it is an ordinary RE2 literal.
      assert.equal(matchesAnchored('https://\\Qgithub.com\\E/.+', 'https://github.com/acme'), true);
      assert.equal(matchesAnchored('https://\\Qgithub.com\\E/.+', 'https://githubxcom/acme'), false);
    });

    it('a pattern RE2 rejects matches nothing when a signer skips policy load (fail closed)', function () {
      assert.equal(matchesAnchored('(?=.*).*', 'anything'), false);
      assert.equal(matchKeylessSigner(signer('.*(?=x)'), uri('https://x'))?.field, 'subject');
    });
  });

  describe('RE2 syntax that JavaScript lacks is handled per RE2', function () {
    it('(?i) flags: case-insensitive, and the example loads', function () {
      const policy = load(policyWith({ subjectRegExp: '(?i)https://github\\.com/ACME/.+' }));
      const s = policy.resolvedSigners.release?.keyless;
      assert.ok(s);
      assert.equal(matchKeylessSigner(s, uri(RELEASE_SUBJECT)), undefined);
      assert.equal(matchKeylessSigner(s, uri(RELEASE_SUBJECT.toUpperCase())), undefined);
      assert.equal(matchKeylessSigner(s, uri(`https://evil.example/${RELEASE_SUBJECT}`))?.field, 'subject');
      // A scoped flag group applies only inside it.
      assert.equal(matchesAnchored('(?i:ACME)/app', 'acme/app'), true);
      assert.equal(matchesAnchored('(?i:ACME)/app', 'acme/APP'), false);
    });

    it('\\z, \\A, POSIX classes, \\x{..}, (?P<name>) and (?s) compile and match as RE2 defines them', function () {
      const cases: [string, string, boolean][] = [
        ['acme\\z', 'acme', true],
        ['\\Aacme', 'acme', true],
        ['[[:alpha:]]+/[[:digit:]]+', 'acme/42', true],
        ['[[:alpha:]]+/[[:digit:]]+', 'acme/4x', false],
        ['\\x{61}cme', 'acme', true],
        ['(?P<owner>[a-z]+)/app', 'acme/app', true],
        ['(?s)a.b', 'a\nb', true],
        ['a.b', 'a\nb', false],
        ['\\pL+', 'ąćme', true],
      ];
      for (const [pattern, input, expected] of cases) {
        assert.equal(matchesAnchored(pattern, input), expected, `${pattern} on ${JSON.stringify(input)}`);
        assert.doesNotThrow(() => load(policyWith({ subjectRegExp: `https://${pattern}` })), pattern);
      }
    });

    it('escapes JavaScript accepts but RE2 does not know are rejected, not reinterpreted', function () {
      for (const pattern of ['\\Z', '\\e', '\\y']) {
        assert.throws(() => compileAnchoredPattern(pattern), PolicyPatternError, pattern);
      }
    });
  });

  describe('anchoring', function () {
    it("the issue example's pattern: an evil prefix or suffix around an allowed subject is a mismatch", function () {
      const s = signer(ISSUE_SUBJECT_REGEXP);
      assert.equal(matchKeylessSigner(s, uri(RELEASE_SUBJECT)), undefined);
      for (const subject of [
        `evil${RELEASE_SUBJECT}`,
        `https://evil.example/${RELEASE_SUBJECT}`,
        `${RELEASE_SUBJECT}\nevil`,
        'https://github.com/acme/app/sub/.github/workflows/release.yml@refs/tags/v1',
        'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
      ]) {
        assert.equal(matchKeylessSigner(s, uri(subject))?.field, 'subject', subject);
      }
      // A suffix still matches here only because the pattern itself ends in `.+`: that is the author's choice.
      assert.equal(matchKeylessSigner(s, uri(`${RELEASE_SUBJECT}evil`)), undefined);
    });

    it('a pattern written without ^/$ is anchored: acme does not match xacmex, alternations stay inside', function () {
      assert.equal(matchesAnchored('acme', 'acme'), true);
      for (const input of ['xacmex', 'xacme', 'acmex', 'acme\n', '\nacme']) {
        assert.equal(matchesAnchored('acme', input), false, JSON.stringify(input));
      }
      assert.equal(matchesAnchored('acme|corp', 'corp'), true);
      assert.equal(matchesAnchored('acme|corp', 'acmex'), false);
      assert.equal(matchesAnchored('acme|corp', 'xcorp'), false);
      // (?m) inside the pattern cannot loosen the outer anchors.
      assert.equal(matchesAnchored('(?m)acme$', 'acme\nevil'), false);
      assert.equal(matchesAnchored('(?m)^acme', 'evil\nacme'), false);
      assert.equal(anchoredSource('acme|corp'), '^(?:acme|corp)$');
    });

    it('ordinary patterns match exactly as the JavaScript RegExp they replace did', function () {
      // Differential check against the previous engine on patterns and subjects both dialects share.
      const patterns = [
        ISSUE_SUBJECT_REGEXP,
        'https://github\\.com/acme/.+',
        'https://github\\.com/acme/[^/]+/\\.github/workflows/(release|deploy)\\.yml@refs/(tags|heads)/.*',
        '.+@acme\\.com',
        'token\\.actions',
        'https://github\\.com/actions/runner/v[0-9]{1,3}(\\.\\d+)*',
        '[\\w.-]+@example\\.(com|org)',
      ];
      const subjects = [
        RELEASE_SUBJECT,
        `evil${RELEASE_SUBJECT}`,
        'https://github.com/acme/app/.github/workflows/deploy.yml@refs/heads/main',
        'https://github.com/acme/app/.github/workflows/release.yml@refs/pull/1/merge',
        'https://github.com/actions/runner/v2.1.0',
        'https://github.com/actions/runner/v2x',
        'release@acme.com',
        'release@acme.com.evil',
        'a.b-c@example.org',
        'token.actions',
        'https://token.actions.githubusercontent.com',
        '',
      ];
      for (const pattern of patterns) {
        const js = new RegExp(anchoredSource(pattern));
        for (const subject of subjects) {
          assert.equal(matchesAnchored(pattern, subject), js.test(subject), `${pattern} on ${subject}`);
        }
      }
    });
  });

  describe('identity confusion: email vs URI SAN', function () {
    it('an email pattern never matches a URI SAN that ends in the address, with or without RE2 groups', function () {
      const attacker = uri('https://evil.example/x@acme.com');
      for (const pattern of [
        '.+@acme\\.com',
        '(?i:.+@acme\\.com)',
        '(?:release|ops)@acme\\.com',
        '[[:alnum:]]+@acme\\.com',
      ]) {
        assert.equal(namesScheme(pattern), false, pattern);
        const s = signer(pattern);
        assert.equal(matchKeylessSigner(s, attacker)?.field, 'subject', pattern);
      }
      assert.equal(matchKeylessSigner(signer('(?i:.+@acme\\.com)'), email('Release@ACME.com')), undefined);
      assert.equal(
        matchKeylessSigner(signer('(?:release|ops)@acme\\.com'), email('ops@acme.com')),
        undefined,
      );
    });

    it('a URI pattern never matches an email SAN; a literal or escaped colon names a scheme', function () {
      for (const pattern of [
        'https://.*',
        '(?i)https://.*',
        '(?:https)://.*',
        'https\\://.*',
        '[a-z]+[:]//.*',
      ]) {
        assert.equal(namesScheme(pattern), true, pattern);
      }
      // An escaped parenthesis starts no group: `\(?:` is an optional `(` then a literal colon.
      assert.equal(namesScheme('mailto\\(?:x'), true);
      assert.equal(matchKeylessSigner(signer('https://.*'), email('release@acme.com'))?.field, 'subject');
      assert.equal(matchKeylessSigner(signer('(?i)HTTPS://.*'), uri('https://x')), undefined);
    });
  });
});
