import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EXPLANATIONS } from '../../cli/explain/catalog';
import { EXIT, EXIT_TABLE } from '../../cli/exit-codes';
import type { FileValidation } from '../../cli/policy/validate-file';
import { hintFor } from '../../policy-pack/supply-chain/rule-evaluation';
import type { TrustPolicy, VerificationCode } from '../../policy-pack/supply-chain/types';
import { runInProcess } from '../conformance/run-cli';

const REPO = path.resolve(__dirname, '..', '..');
const EXAMPLE_POLICY = path.join(REPO, 'examples', 'trust-policy.yaml');
const EXAMPLE_CONFIG = path.join(REPO, 'examples', 'policy-pack-config.json');

/**
 * The commands users expect (explain, policy validate, pack-config, kyverno render -o), the help and
 * usage-error conventions, and the exit-code table, command by command.
 */
describe('trustops commands: exit codes, help and usage errors', function () {
  let dir: string;
  const file = (name: string, content: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trustops-commands-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('the exit-code table, command by command', () => {
    const brokenPack = (): string => {
      const pack = path.join(dir, 'broken-pack');
      mkdirSync(path.join(pack, 'dist'), { recursive: true });
      copyFileSync(path.join(REPO, 'policy-pack', 'PulumiPolicy.yaml'), path.join(pack, 'PulumiPolicy.yaml'));
      writeFileSync(
        path.join(pack, 'package.json'),
        '{"name":"broken","version":"0.0.1","main":"dist/index.js"}',
      );
      writeFileSync(path.join(pack, 'dist', 'index.js'), 'process.exit(7);\n');
      return pack;
    };
    const cases: [string, () => string[], number][] = [
      ['explain a known code', () => ['explain', 'SIGNATURE_MISSING'], EXIT.OK],
      ['explain --list', () => ['explain', '--list'], EXIT.OK],
      ['explain an unknown code', () => ['explain', 'NOT_A_CODE'], EXIT.USAGE],
      ['explain without a code', () => ['explain'], EXIT.USAGE],
      ['policy validate a valid trust policy', () => ['policy', 'validate', EXAMPLE_POLICY], EXIT.OK],
      ['policy validate a valid pack config', () => ['policy', 'validate', EXAMPLE_CONFIG], EXIT.OK],
      [
        'policy validate a file that does not exist',
        () => ['policy', 'validate', path.join(dir, 'none.yaml')],
        EXIT.USAGE,
      ],
      [
        'policy validate an invalid trust policy',
        () => [
          'policy',
          'validate',
          file('bad.yaml', 'apiVersion: trustops.dev/v1alpha1\nkind: TrustPolicy\nsigners: {}\nimages: []\n'),
        ],
        EXIT.USAGE,
      ],
      [
        'policy validate with a pack that cannot start',
        () => ['policy', 'validate', EXAMPLE_CONFIG, '--policy-pack', brokenPack()],
        EXIT.INTERNAL,
      ],
      ['pack-config for a valid trust policy', () => ['pack-config', '--policy', EXAMPLE_POLICY], EXIT.OK],
      [
        'pack-config for a missing trust policy',
        () => ['pack-config', '--policy', path.join(dir, 'none.yaml')],
        EXIT.USAGE,
      ],
      [
        'pack-config with a mirror that does not exist',
        () => [
          'pack-config',
          '--policy',
          EXAMPLE_POLICY,
          '--registry-mirror',
          `ghcr.io=oci-layout:${path.join(dir, 'no-layout')}`,
        ],
        EXIT.USAGE,
      ],
      ['kyverno render', () => ['kyverno', 'render', '--policy', EXAMPLE_POLICY], EXIT.OK],
      [
        'kyverno render a missing policy',
        () => ['kyverno', 'render', '--policy', path.join(dir, 'none.yaml')],
        EXIT.USAGE,
      ],
      [
        'verify a malformed reference',
        () => ['verify', 'Not A Reference', '--policy', EXAMPLE_POLICY],
        EXIT.USAGE,
      ],
      [
        'verify a malformed digest',
        () => ['verify', `ghcr.io/acme/app@sha256:${'0'.repeat(12)}`, '--policy', EXAMPLE_POLICY],
        EXIT.USAGE,
      ],
      [
        'verify with an unreadable policy',
        () => ['verify', 'ghcr.io/acme/app:1', '--policy', path.join(dir, 'none.yaml')],
        EXIT.USAGE,
      ],
      [
        'verify-bundle without a bundle file',
        () => [
          'verify-bundle',
          '--bundle',
          path.join(dir, 'none.json'),
          '--key',
          EXAMPLE_POLICY,
          EXAMPLE_POLICY,
        ],
        EXIT.USAGE,
      ],
      ['deploy without a pack', () => ['deploy', '--stack', 'apps-example'], EXIT.USAGE],
      ['an unknown command', () => ['verfy'], EXIT.USAGE],
      ['an unknown option', () => ['verify', 'ghcr.io/acme/app:1', '--polcy', EXAMPLE_POLICY], EXIT.USAGE],
      ['--help', () => ['verify', '--help'], EXIT.OK],
      ['--version', () => ['--version'], EXIT.OK],
    ];
    for (const [what, argv, code] of cases) {
      it(`${what}: exit ${code}`, async () => {
        const o = await runInProcess(argv());
        assert.equal(o.exitCode, code, `${o.stdout}\n${o.stderr}`);
        if (code === EXIT.INTERNAL) assert.match(o.stderr, /internal error/);
      });
    }
  });

  it('usage errors are one line and a --help hint (no help dump), with a suggestion for a mistyped option or command', async () => {
    const option = await runInProcess(['verify', 'ghcr.io/acme/app:1', '--polcy', EXAMPLE_POLICY]);
    assert.deepEqual(option.stderr.trimEnd().split('\n'), [
      "error: unknown option '--polcy'",
      '(Did you mean --policy?)',
      "Run 'trustops verify --help' for usage.",
    ]);
    const command = await runInProcess(['verfy']);
    assert.match(command.stderr, /\(Did you mean verify\?\)/);
    assert.ok(command.stderr.trimEnd().split('\n').length <= 3, command.stderr);
    const missing = await runInProcess(['kyverno', 'render']);
    assert.deepEqual(missing.stderr.trimEnd().split('\n'), [
      "error: required option '--policy <file>' not specified",
      "Run 'trustops kyverno render --help' for usage.",
    ]);
    const deploy = await runInProcess(['deploy', '--stack', 'apps-example']);
    assert.match(deploy.stderr, /^trustops: deploy refuses to run without a policy pack/);
    assert.ok(!/trustops:? trustops/.test(deploy.stderr), deploy.stderr);
  });

  it('every command: help ends with the exit-code table; no (default: []) or (default: false); one stated default per option', async () => {
    const commands = [
      ['verify'],
      ['verify-bundle'],
      ['policy', 'validate'],
      ['pack-config'],
      ['explain'],
      ['deploy'],
      ['preview'],
      ['kyverno', 'render'],
      ['demo'],
    ];
    for (const c of commands) {
      const o = await runInProcess([...c, '--help']);
      assert.equal(o.exitCode, 0, c.join(' '));
      for (const e of EXIT_TABLE)
        assert.ok(o.stdout.includes(`  ${e.code}  ${e.meaning}`), `${c.join(' ')}: exit ${e.code}`);
      assert.ok(!/\(default: (\[\]|false)\)/.test(o.stdout), `${c.join(' ')}: ${o.stdout}`);
      // an option's description, with its wrapped lines, names at most one default
      const options = o.stdout.slice(o.stdout.indexOf('Options:'), o.stdout.indexOf('Exit codes:'));
      for (const entry of options.split(/\n(?= {2}-)/)) {
        assert.ok((entry.match(/default/gi) ?? []).length <= 1, `${c.join(' ')}: ${entry}`);
      }
    }
  });

  it('docs/cli.md and the README show the same exit-code table the commands use', () => {
    const docs = readFileSync(path.join(REPO, 'docs', 'cli.md'), 'utf8');
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    for (const e of EXIT_TABLE) {
      assert.match(
        docs,
        new RegExp(`^\\| ${e.code} \\| ${e.name} \\| `, 'm'),
        `docs/cli.md row for ${e.code}`,
      );
      assert.match(readme, new RegExp(`^\\| ${e.code} \\| `, 'm'), `README row for ${e.code}`);
    }
    assert.equal((docs.match(/^\| \d \| [A-Z]+ \| /gm) ?? []).length, EXIT_TABLE.length);
  });

  describe('explain', () => {
    it('prints what a code means and the same fix a finding carries', async () => {
      const o = await runInProcess(['explain', 'rebuild_quorum_not_met']);
      assert.equal(o.exitCode, 0);
      assert.match(o.stdout, /^REBUILD_QUORUM_NOT_MET: /);
      assert.ok(o.stdout.includes(`Fix: ${hintFor('REBUILD_QUORUM_NOT_MET', 'reproducible')}`));
      const bracketed = await runInProcess(['explain', '[SIGNATURE_MISSING]']);
      assert.ok(bracketed.stdout.includes(hintFor('SIGNATURE_MISSING', 'signature')));
    });

    it('every verification code has an explanation whose fix is the hint findings carry', () => {
      const codes: VerificationCode[] = [
        'SIGNATURE_MISSING',
        'SIGNATURE_INVALID',
        'DIGEST_MISMATCH',
        'SBOM_MISSING',
        'SBOM_INVALID',
        'SBOM_FORMAT_NOT_ALLOWED',
        'PROVENANCE_MISSING',
        'PROVENANCE_INVALID',
        'PROVENANCE_CONSTRAINT',
        'REBUILD_QUORUM_NOT_MET',
      ];
      for (const code of codes) {
        const e = EXPLANATIONS.find((x) => x.code === code);
        assert.equal(e?.fix, hintFor(code, 'signature'), code);
      }
      assert.equal(new Set(EXPLANATIONS.map((e) => e.code)).size, EXPLANATIONS.length);
      for (const e of EXPLANATIONS) assert.ok(e.title && e.meaning && e.fix, e.code);
    });
  });

  describe('policy validate', () => {
    const validate = async (
      p: string,
    ): Promise<{ exitCode: number; result: FileValidation; text: string }> => {
      const json = await runInProcess(['policy', 'validate', p, '--json']);
      const text = await runInProcess(['policy', 'validate', p]);
      return {
        exitCode: json.exitCode,
        result: JSON.parse(json.stdout) as FileValidation,
        text: text.stdout,
      };
    };

    it('says which kind of file it is and that it is valid', async () => {
      const policy = await validate(EXAMPLE_POLICY);
      assert.equal(policy.result.kind, 'TrustPolicy');
      assert.equal(policy.result.valid, true);
      assert.match(policy.text, /a trust policy \(8 signers, 4 rules, 2 exemptions\): valid/);
      const config = await validate(EXAMPLE_CONFIG);
      assert.equal(config.result.kind, 'PackConfig');
      assert.equal(config.result.valid, true);
      assert.match(config.text, /a policy pack config for trustops@\d/);
    });

    it('a rule without requirements is one message naming the alternatives, not one line per anyOf branch; located, coded', async () => {
      const doc = readFileSync(EXAMPLE_POLICY, 'utf8').replace(
        '    match: ["ghcr.io/spiffe/**"]\n    signature: { signers: [spiffe-release] }',
        '    match: ["ghcr.io/spiffe/**"]\n    platforms: each',
      );
      const p = path.join(path.dirname(EXAMPLE_POLICY), `.tmp-${process.pid}-norequirement.yaml`);
      writeFileSync(p, doc);
      try {
        const { exitCode, result } = await validate(p);
        assert.equal(exitCode, EXIT.USAGE);
        assert.deepEqual(result.problems, [
          {
            code: 'POLICY_SCHEMA',
            path: '/images/2',
            message: 'must have at least one of: signature, sbom, provenance, reproducible',
          },
        ]);
      } finally {
        rmSync(p, { force: true });
      }
    });

    it('a keyless signer with both issuer forms, and an unknown key, are located problems', async () => {
      const p = file(
        'two-issuers.yaml',
        [
          'apiVersion: trustops.dev/v1alpha1',
          'kind: TrustPolicy',
          'signers:',
          '  ci:',
          '    keyless: { issuer: https://a.example, issuerRegExp: "https://.*", subject: x }',
          'images:',
          '  - match: ["ghcr.io/acme/**"]',
          '    signatur: { signers: [ci] }',
          '    signature: { signers: [ci] }',
          '',
        ].join('\n'),
      );
      const { result } = await validate(p);
      assert.deepEqual(
        result.problems.map((x) => [x.code, x.path, x.message]),
        [
          [
            'POLICY_SCHEMA',
            '/signers/ci/keyless',
            'must have exactly one of: issuer, issuerRegExp (found issuer and issuerRegExp)',
          ],
          ['POLICY_SCHEMA', '/images/0/signatur', 'unknown key'],
        ],
      );
    });

    it('a pack config with a misspelt key or policy is refused with the key path, as Configure refuses it', async () => {
      const config = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as Record<
        string,
        Record<string, unknown>
      >;
      const ti = config['trusted-images']!;
      config['trusted-images'] = { enforcementLevel: 'mandatory', trustPolcy: ti['trustPolicy'] };
      config['allowed-registrys'] = { allowedPrefixes: ['x'] } as never;
      const { exitCode, result, text } = await validate(file('typo.json', JSON.stringify(config)));
      assert.equal(exitCode, EXIT.USAGE);
      assert.deepEqual(result.problems.map((x) => [x.code, x.path]).sort(), [
        ['CONFIG_INVALID', '/allowed-registrys'],
        ['CONFIG_INVALID', '/trusted-images/trustPolcy'],
      ]);
      assert.match(text, /CONFIG_INVALID at \/trusted-images\/trustPolcy: unknown key/);
    });

    it('a trust policy inside a pack config is checked by its own loader (coded, located under the policy)', async () => {
      const config = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as Record<
        string,
        { trustPolicy: TrustPolicy }
      >;
      config['trusted-images']!.trustPolicy.images[0]!.signature = { signers: ['nobody'] };
      const { result } = await validate(file('unknown-signer.json', JSON.stringify(config)));
      assert.equal(result.valid, false);
      assert.ok(
        result.problems.some(
          (x) =>
            x.code === 'POLICY_UNKNOWN_SIGNER' && x.path.startsWith('/trusted-images/trustPolicy/images/0'),
        ),
        JSON.stringify(result.problems),
      );
    });
  });

  describe('pack-config', () => {
    it('inlines every key as PEM, puts the trust policy in both image policies, derives prefixes; the pack accepts it', async () => {
      const out = path.join(dir, 'pack-config.json');
      const o = await runInProcess([
        'pack-config',
        '--policy',
        EXAMPLE_POLICY,
        '--out',
        out,
        '--insecure-registry',
        'registry.internal',
      ]);
      assert.equal(o.exitCode, 0, o.stderr);
      const config = JSON.parse(readFileSync(out, 'utf8')) as Record<string, Record<string, unknown>>;
      const ti = config['trusted-images']!;
      const pin = config['images-pinned-by-digest']!;
      assert.deepEqual(pin['trustPolicy'], ti['trustPolicy']);
      assert.deepEqual(pin['registry'], ti['registry']);
      assert.deepEqual(ti['registry'], { insecureRegistries: ['registry.internal'] });
      const signers = (ti['trustPolicy'] as TrustPolicy).signers;
      assert.equal(
        signers['ops']?.key?.publicKey,
        readFileSync(path.join(REPO, 'examples', 'keys', 'ops.pub'), 'utf8'),
      );
      assert.ok(!JSON.stringify(config).includes('publicKeyFile'));
      assert.deepEqual(config['allowed-registries']?.['allowedPrefixes'], [
        'registry.example.com/acme',
        'ghcr.io/kyverno',
        'reg.kyverno.io/kyverno',
        'ghcr.io/spiffe',
        'registry.k8s.io/sig-storage',
      ]);
      assert.match(o.stderr, /allowedPrefixes derived/);
      const valid = await runInProcess(['policy', 'validate', out]);
      assert.equal(valid.exitCode, 0, valid.stdout);
      assert.ok(!valid.stdout.includes('publicKeyFile'), valid.stdout);
    });

    it('explicit prefixes win; stdout without --out', async () => {
      const o = await runInProcess([
        'pack-config',
        '--policy',
        EXAMPLE_POLICY,
        '--allowed-prefix',
        'ghcr.io/acme',
      ]);
      const config = JSON.parse(o.stdout) as Record<string, Record<string, unknown>>;
      assert.deepEqual(config['allowed-registries']?.['allowedPrefixes'], ['ghcr.io/acme']);
    });
  });

  it('the rendered ImageValidatingPolicy is reviewable: named variables, one short validation per rule requirement', async () => {
    const o = await runInProcess(['kyverno', 'render', '--policy', EXAMPLE_POLICY]);
    const ivp = parseYaml(o.stdout.split(/^---\n/m)[1]!) as {
      spec: {
        variables: { name: string; expression: string }[];
        validations: { expression: string; message: string }[];
      };
    };
    const policy = parseYaml(readFileSync(EXAMPLE_POLICY, 'utf8')) as TrustPolicy;
    assert.deepEqual(
      ivp.spec.variables.map((v) => v.name),
      ['allImages', 'checkedImages', ...policy.images.map((_, i) => `rule${i}Images`)],
    );
    for (const v of ivp.spec.validations.filter((x) => /^images\[\d+\]/.test(x.message))) {
      const rule = /^images\[(\d+)\]/.exec(v.message)![1];
      assert.ok(v.expression.startsWith(`variables.rule${rule}Images.all(image, `), v.message);
    }
    // was 87,823 bytes with a 24,474-character line for the example policy (then 7 signers, 1 exemption;
    // 8 signers, 2 exemptions and a signatures repository since)
    assert.ok(o.stdout.length < 36_000, `${o.stdout.length} bytes`);
    assert.ok(Math.max(...o.stdout.split('\n').map((l) => l.length)) < 7_500);
  });

  it('kyverno render -o FILE writes what stdout would show', async () => {
    const out = path.join(dir, 'ivpol.yaml');
    const printed = await runInProcess(['kyverno', 'render', '--policy', EXAMPLE_POLICY]);
    const written = await runInProcess(['kyverno', 'render', '--policy', EXAMPLE_POLICY, '-o', out]);
    assert.equal(written.exitCode, 0);
    assert.equal(written.stdout, '');
    // the annotation of the next exemption expiry is the same; nothing depends on the clock otherwise
    assert.equal(readFileSync(out, 'utf8'), printed.stdout);
  });
});
