import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PolicyError, type PolicyErrorCode } from '../../policy-pack/supply-chain/policy-error';
import {
  exemptionExpiry,
  loadTrustPolicyFile,
  parseTrustPolicy,
} from '../../policy-pack/supply-chain/trust-policy';

/** The issue's example, exactly as written. */
const ISSUE_EXAMPLE = `apiVersion: trustops.dev/v1alpha1
kind: TrustPolicy
signers:
  release:
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: ^https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v.+$
  ops:
    key:
      publicKeyFile: ./keys/ops.pub
  rebuilder-a:
    key: { publicKeyFile: ./keys/rebuilder-a.pub }
  rebuilder-b:
    key: { publicKeyFile: ./keys/rebuilder-b.pub }
images:
  - match: ["registry.example.com/acme/**"]
    signature: { signers: [release, ops] }
    sbom: { signers: [release], formats: [spdx, cyclonedx] }
    provenance: { signers: [release] }
    reproducible: { rebuilders: [rebuilder-a, rebuilder-b], threshold: 2 }
exemptions:
  - image: registry.example.com/acme/legacy@sha256:0000000000000000000000000000000000000000000000000000000000000000
    reason: vendor image, rebuild pending
    ticket: SEC-123
    expires: 2026-12-31
`;

function pem(type: 'ec' | 'ed25519' | 'rsa', opts: Record<string, unknown> = {}): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const { publicKey } = generateKeyPairSync(type as any, opts as any) as unknown as {
    publicKey: { export(o: object): string | Buffer };
  };
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

function problemCodes(fn: () => unknown): PolicyErrorCode[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    assert.equal(e.code, e.problems[0]?.code);
    return e.problems.map((p) => p.code);
  }
  assert.fail('expected a PolicyError');
}

describe('trust policy', function () {
  let dir: string;

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-policy-'));
    fs.mkdirSync(path.join(dir, 'keys'));
    for (const k of ['ops', 'rebuilder-a', 'rebuilder-b']) {
      fs.writeFileSync(path.join(dir, 'keys', `${k}.pub`), pem('ec', { namedCurve: 'P-256' }));
    }
    fs.writeFileSync(path.join(dir, 'policy.yaml'), ISSUE_EXAMPLE);
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("accepts the issue's example exactly as written and resolves its key files", function () {
    const p = loadTrustPolicyFile(path.join(dir, 'policy.yaml'));
    assert.equal(p.kind, 'TrustPolicy');
    assert.deepEqual(Object.keys(p.resolvedSigners).sort(), ['ops', 'rebuilder-a', 'rebuilder-b', 'release']);
    assert.match(p.resolvedSigners.ops?.key?.publicKeyPem ?? '', /BEGIN PUBLIC KEY/);
    assert.equal(p.resolvedSigners.ops?.key?.requireTransparencyLog, true);
    assert.equal(p.resolvedSigners.release?.keyless?.issuer, 'https://token.actions.githubusercontent.com');
    assert.deepEqual(p.trustedRootSource, { kind: 'embedded', name: 'public-good' });
  });

  it('accepts the same policy as JSON text and as an object', function () {
    const asObject = loadTrustPolicyFile(path.join(dir, 'policy.yaml'));
    const json = JSON.stringify({
      apiVersion: asObject.apiVersion,
      kind: asObject.kind,
      signers: asObject.signers,
      images: asObject.images,
      exemptions: asObject.exemptions,
    });
    const fromJson = parseTrustPolicy(json, { baseDir: dir });
    const fromObject = parseTrustPolicy(JSON.parse(json) as object, { baseDir: dir });
    assert.deepEqual(fromJson.images, asObject.images);
    assert.deepEqual(fromObject.resolvedSigners, asObject.resolvedSigners);
  });

  describe('rule matching', function () {
    const policy = (): ReturnType<typeof parseTrustPolicy> =>
      parseTrustPolicy(
        `apiVersion: trustops.dev/v1alpha1
kind: TrustPolicy
signers: { s: { key: { publicKey: ${JSON.stringify(pem('ed25519'))} } } }
images:
  - name: one-level
    match: ["ghcr.io/acme/*"]
    signature: { signers: [s] }
  - name: deep
    match: ["ghcr.io/**", "127.0.0.1:5000/team/**"]
    signature: { signers: [s] }
`,
        { baseDir: dir },
      );

    it('`*` stays within a segment, `**` spans segments, the first matching rule applies', function () {
      const p = policy();
      assert.equal(p.ruleFor('ghcr.io/acme/app')?.name, 'one-level');
      assert.equal(p.ruleFor('ghcr.io/acme/app/sub')?.name, 'deep');
      assert.equal(p.ruleFor('ghcr.io/other/x')?.name, 'deep');
      assert.equal(p.ruleFor('127.0.0.1:5000/team/a/b')?.name, 'deep');
      assert.equal(p.ruleFor('127.0.0.1:5001/team/a'), undefined);
      assert.equal(p.ruleFor('docker.io/library/nginx'), undefined);
      // a lookalike host is not the registry
      assert.equal(p.ruleFor('ghcr.io.evil.example/acme/app'), undefined);
    });

    it('an unnamed rule is reported as images[<index>]', function () {
      const p = loadTrustPolicyFile(path.join(dir, 'policy.yaml'));
      assert.equal(p.ruleFor('registry.example.com/acme/app')?.name, 'images[0]');
    });
  });

  describe('keys', function () {
    const withKey = (key: string): string => `apiVersion: trustops.dev/v1alpha1
kind: TrustPolicy
signers: { k: { key: { publicKey: ${JSON.stringify(key)} } } }
images: [{ match: ["x/**"], signature: { signers: [k] } }]
`;

    it('accepts ECDSA P-256 and P-384, Ed25519 and RSA >= 2048', function () {
      for (const key of [
        pem('ec', { namedCurve: 'P-256' }),
        pem('ec', { namedCurve: 'P-384' }),
        pem('ed25519'),
        pem('rsa', { modulusLength: 2048 }),
      ]) {
        assert.ok(parseTrustPolicy(withKey(key), { baseDir: dir }).resolvedSigners.k?.key);
      }
    });

    it('rejects other curves, short RSA keys and non-keys (POLICY_BAD_KEY)', function () {
      for (const key of [
        pem('ec', { namedCurve: 'secp256k1' }),
        pem('ec', { namedCurve: 'P-521' }),
        pem('rsa', { modulusLength: 1024 }),
        '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      ]) {
        assert.deepEqual(
          problemCodes(() => parseTrustPolicy(withKey(key), { baseDir: dir })),
          ['POLICY_BAD_KEY'],
        );
      }
    });

    it('a missing key file is POLICY_KEY_FILE_UNREADABLE', function () {
      const yaml = ISSUE_EXAMPLE.replace('./keys/ops.pub', './keys/missing.pub');
      assert.deepEqual(
        problemCodes(() => parseTrustPolicy(yaml, { baseDir: dir })),
        ['POLICY_KEY_FILE_UNREADABLE'],
      );
    });

    it('requireTransparencyLog: false is the one opt-out a key signer has', function () {
      const yaml = ISSUE_EXAMPLE.replace(
        'publicKeyFile: ./keys/ops.pub',
        'publicKeyFile: ./keys/ops.pub\n      requireTransparencyLog: false',
      );
      assert.equal(
        parseTrustPolicy(yaml, { baseDir: dir }).resolvedSigners.ops?.key?.requireTransparencyLog,
        false,
      );
    });
  });

  describe('malformed and invalid documents: every problem, coded', function () {
    it('malformed YAML and JSON are POLICY_SYNTAX', function () {
      assert.deepEqual(
        problemCodes(() => parseTrustPolicy('signers: [unclosed', { baseDir: dir })),
        ['POLICY_SYNTAX'],
      );
      assert.deepEqual(
        problemCodes(() => parseTrustPolicy('{"apiVersion": "trustops.dev/v1alpha1",', { baseDir: dir })),
        ['POLICY_SYNTAX'],
      );
      // a duplicated key would silently drop a signer
      assert.deepEqual(
        problemCodes(() =>
          parseTrustPolicy(ISSUE_EXAMPLE.replace('  ops:\n', '  release:\n'), { baseDir: dir }),
        ),
        ['POLICY_SYNTAX'],
      );
    });

    it('schema violations are POLICY_SCHEMA: wrong apiVersion, unknown fields, both issuer forms, empty rules', function () {
      const cases = [
        ISSUE_EXAMPLE.replace('trustops.dev/v1alpha1', 'trustops.dev/v2'),
        ISSUE_EXAMPLE.replace('kind: TrustPolicy', 'kind: TrustPolicy\nunknownField: 1'),
        ISSUE_EXAMPLE.replace('      issuer: https://', '      issuerRegExp: x\n      issuer: https://'),
        ISSUE_EXAMPLE.replace(/images:[\s\S]*exemptions:/, 'images: []\nexemptions:'),
        ISSUE_EXAMPLE.replace('threshold: 2', 'threshold: 0'),
        ISSUE_EXAMPLE.replace('expires: 2026-12-31', 'expires: next year'),
        ISSUE_EXAMPLE.replace('@sha256:0000', '@sha256:zz00'),
        ISSUE_EXAMPLE.replace('formats: [spdx, cyclonedx]', 'formats: [spdx, swid]'),
        ISSUE_EXAMPLE.replace(
          '    signature: { signers: [release, ops] }\n    sbom: { signers: [release], formats: [spdx, cyclonedx] }\n    provenance: { signers: [release] }\n    reproducible: { rebuilders: [rebuilder-a, rebuilder-b], threshold: 2 }\n',
          '',
        ),
        '42',
      ];
      for (const yaml of cases) {
        const codes = problemCodes(() => parseTrustPolicy(yaml, { baseDir: dir }));
        assert.ok(
          codes.length > 0 && codes.every((c) => c === 'POLICY_SCHEMA'),
          `${yaml.slice(0, 60)}: ${codes.join()}`,
        );
      }
    });

    it('lists every semantic problem at once: unknown signers, bad regexps, impossible thresholds, bad dates', function () {
      const yaml = ISSUE_EXAMPLE.replace('signers: [release, ops]', 'signers: [release, nobody]')
        .replace('subjectRegExp: ^https', 'subjectRegExp: ^(https')
        .replace('threshold: 2', 'threshold: 3')
        .replace('expires: 2026-12-31', 'expires: 2026-02-30');
      const codes = problemCodes(() => parseTrustPolicy(yaml, { baseDir: dir }));
      assert.deepEqual([...codes].sort(), [
        'POLICY_BAD_EXEMPTION',
        'POLICY_BAD_REGEXP',
        'POLICY_BAD_THRESHOLD',
        'POLICY_UNKNOWN_SIGNER',
      ]);
    });

    it('regexps are RE2: JS-only constructs are POLICY_BAD_REGEXP at the field, RE2-only syntax loads', function () {
      for (const jsOnly of ['(?=v)', '(?<=tags/)', '(v)\\1']) {
        const yaml = ISSUE_EXAMPLE.replace('@refs/tags/v.+$', `@refs/tags/${jsOnly}.+$`);
        let error: unknown;
        try {
          parseTrustPolicy(yaml, { baseDir: dir });
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof PolicyError, jsOnly);
        assert.deepEqual(
          error.problems.map((p) => [p.code, p.path]),
          [['POLICY_BAD_REGEXP', '/signers/release/keyless/subjectRegExp']],
          jsOnly,
        );
      }
      const re2Only = ISSUE_EXAMPLE.replace('subjectRegExp: ^https', 'subjectRegExp: (?i)^https');
      assert.equal(
        parseTrustPolicy(re2Only, { baseDir: dir }).resolvedSigners.release?.keyless?.subjectRegExp,
        '(?i)^https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v.+$',
      );
    });

    it('a rebuilder listed twice is rejected (uniqueItems), so it cannot make up a threshold', function () {
      const yaml = ISSUE_EXAMPLE.replace(
        'rebuilders: [rebuilder-a, rebuilder-b]',
        'rebuilders: [rebuilder-a, rebuilder-a]',
      );
      assert.ok(problemCodes(() => parseTrustPolicy(yaml, { baseDir: dir })).includes('POLICY_SCHEMA'));
    });

    it('two rebuilder names for one public key are one rebuilder for the threshold (POLICY_BAD_THRESHOLD)', function () {
      const yaml = ISSUE_EXAMPLE.replace(
        'key: { publicKeyFile: ./keys/rebuilder-b.pub }',
        'key: { publicKeyFile: ./keys/rebuilder-a.pub }',
      );
      assert.deepEqual(
        problemCodes(() => parseTrustPolicy(yaml, { baseDir: dir })),
        ['POLICY_BAD_THRESHOLD'],
      );
    });

    it('an unreadable policy file is POLICY_UNREADABLE; a bad trusted root file POLICY_TRUSTED_ROOT_UNREADABLE', function () {
      assert.deepEqual(
        problemCodes(() => loadTrustPolicyFile(path.join(dir, 'nope.yaml'))),
        ['POLICY_UNREADABLE'],
      );
      fs.writeFileSync(path.join(dir, 'bad_root.json'), '{"mediaType": ');
      const yaml = `${ISSUE_EXAMPLE}trustedRoot: { file: ./bad_root.json }\n`;
      assert.deepEqual(
        problemCodes(() => parseTrustPolicy(yaml, { baseDir: dir })),
        ['POLICY_TRUSTED_ROOT_UNREADABLE'],
      );
    });

    it('a trusted root file is read relative to the policy', function () {
      fs.writeFileSync(
        path.join(dir, 'root.json'),
        '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}',
      );
      const p = parseTrustPolicy(`${ISSUE_EXAMPLE}trustedRoot: { file: ./root.json }\n`, { baseDir: dir });
      assert.equal(p.trustedRootSource.kind, 'file');
    });
  });

  describe('exemptions', function () {
    it('name one digest; work through the last second of their expiry day and not after', function () {
      const p = loadTrustPolicyFile(path.join(dir, 'policy.yaml'));
      const digest = `sha256:${'0'.repeat(64)}`;
      const inForce = p.exemptionFor(
        'registry.example.com/acme/legacy',
        digest,
        new Date('2026-12-31T23:59:59Z'),
      );
      assert.equal(inForce?.expired, false);
      assert.equal(inForce?.exemption.ticket, 'SEC-123');
      const expired = p.exemptionFor(
        'registry.example.com/acme/legacy',
        digest,
        new Date('2027-01-01T00:00:00Z'),
      );
      assert.equal(expired?.expired, true);
      assert.equal(
        p.exemptionFor('registry.example.com/acme/legacy', `sha256:${'1'.repeat(64)}`, new Date(0)),
        undefined,
      );
      assert.equal(p.exemptionFor('registry.example.com/acme/other', digest, new Date(0)), undefined);
    });

    it('dates: a day ends at 23:59:59.999 UTC, date-times are exact, impossible dates are rejected', function () {
      assert.equal(exemptionExpiry('2026-12-31')?.toISOString(), '2026-12-31T23:59:59.999Z');
      assert.equal(exemptionExpiry('2026-06-01T12:00:00Z')?.toISOString(), '2026-06-01T12:00:00.000Z');
      assert.equal(exemptionExpiry('2026-02-30'), undefined);
    });

    it('an impossible date-time never rolls over into a later day (it would extend the exemption)', function () {
      // Date.parse reads 2026-02-30T00:00Z as 2 March and 24:00 as the next midnight.
      for (const bad of [
        '2026-02-30T00:00Z',
        '2026-04-31T12:00:00Z',
        '2026-12-31T24:00Z',
        '2026-12-31T23:59:60Z',
      ]) {
        assert.equal(exemptionExpiry(bad), undefined, bad);
        const yaml = ISSUE_EXAMPLE.replace('expires: 2026-12-31', `expires: "${bad}"`);
        assert.deepEqual(
          problemCodes(() => parseTrustPolicy(yaml, { baseDir: dir })),
          ['POLICY_BAD_EXEMPTION'],
        );
      }
      assert.equal(exemptionExpiry('2026-12-31t10:00+02:00')?.toISOString(), '2026-12-31T08:00:00.000Z');
      assert.equal(exemptionExpiry('2028-02-29 23:00:00.5Z')?.toISOString(), '2028-02-29T23:00:00.500Z');
    });
  });
});
