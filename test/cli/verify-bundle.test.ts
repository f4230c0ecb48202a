import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runInProcess } from '../conformance/run-cli';
import {
  ARTIFACT,
  createFixtures,
  RELEASE_ISSUER,
  RELEASE_URI,
  sha256,
  STATEMENT,
  type Fixtures,
} from '../supply-chain/sigstore/fixtures';

/** `trustops verify-bundle` on @sigstore/mock fixtures: exit codes, argument rules of the conformance protocol. */
describe('trustops verify-bundle', () => {
  let f: Fixtures;
  let dir: string;
  const file = (name: string, content: string | Buffer): string => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  let root: string,
    keyless: string,
    dsse: string,
    keyBundle: string,
    keyNoLog: string,
    pub: string,
    artifact: string;
  const identity = ['--certificate-identity', RELEASE_URI, '--certificate-oidc-issuer', RELEASE_ISSUER];

  before(async () => {
    f = await createFixtures();
    dir = mkdtempSync(path.join(tmpdir(), 'trustops-verify-bundle-'));
    root = file('trusted_root.json', JSON.stringify(f.mock.trustedRoot));
    keyless = file('keyless.sigstore.json', JSON.stringify(f.keylessBlob));
    dsse = file('dsse.sigstore.json', JSON.stringify(f.keylessDsse));
    keyBundle = file('key.sigstore.json', JSON.stringify(f.keyBlob));
    keyNoLog = file('key-nolog.sigstore.json', JSON.stringify(f.keyBlobNoLog));
    pub = file('key.pub', f.opsKey.publicKeyPem);
    artifact = file('artifact', ARTIFACT);
  });
  after(async () => {
    await f?.mock.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 for a keyless bundle, by artifact path and by sha256 digest', async () => {
    for (const target of [artifact, sha256(ARTIFACT)]) {
      const o = await runInProcess([
        'verify-bundle',
        '--bundle',
        keyless,
        ...identity,
        '--trusted-root',
        root,
        target,
      ]);
      assert.equal(o.exitCode, 0, o.stderr);
      assert.match(o.stdout, /^OK: .*signed by https:\/\/github\.com\/acme\/app/);
    }
  });

  it('exits 1 naming the code for another identity, another issuer, another artifact', async () => {
    const cases: [string[], string, RegExp][] = [
      [
        [
          '--certificate-identity',
          'https://github.com/acme/other',
          '--certificate-oidc-issuer',
          RELEASE_ISSUER,
        ],
        artifact,
        /\[IDENTITY_MISMATCH\]/,
      ],
      [
        ['--certificate-identity', RELEASE_URI, '--certificate-oidc-issuer', 'https://accounts.google.com'],
        artifact,
        /\[IDENTITY_MISMATCH\]/,
      ],
      [identity, sha256(Buffer.from('other')), /\[DIGEST_MISMATCH\]/],
      [identity, file('other', 'other'), /\[DIGEST_MISMATCH\]/],
    ];
    for (const [who, target, code] of cases) {
      const o = await runInProcess([
        'verify-bundle',
        '--bundle',
        keyless,
        ...who,
        '--trusted-root',
        root,
        target,
      ]);
      assert.equal(o.exitCode, 1, o.stderr);
      assert.match(o.stderr, code);
    }
  });

  it("cosign's --certificate-identity-regexp / --certificate-oidc-issuer-regexp: anchored RE2, a look-alike never passes", async () => {
    const verify = (who: string[], extra: string[] = []) =>
      runInProcess([
        'verify-bundle',
        '--bundle',
        keyless,
        ...who,
        '--trusted-root',
        root,
        ...extra,
        artifact,
      ]);
    const ok = await verify([
      '--certificate-identity-regexp',
      '^https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v.+$',
      '--certificate-oidc-issuer-regexp',
      'https://token\\.actions\\.githubusercontent\\.com',
    ]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    // mixed: exact identity, issuer by pattern
    assert.equal(
      (await verify(['--certificate-identity', RELEASE_URI, '--certificate-oidc-issuer-regexp', '.*']))
        .exitCode,
      0,
    );
    for (const who of [
      // a pattern is anchored: a prefix of the SAN does not match
      [
        '--certificate-identity-regexp',
        'https://github\\.com/acme',
        '--certificate-oidc-issuer',
        RELEASE_ISSUER,
      ],
      [
        '--certificate-identity-regexp',
        '.*',
        '--certificate-oidc-issuer-regexp',
        'https://accounts\\.google\\.com',
      ],
      ['--certificate-identity-regexp', '.*/evil/.*', '--certificate-oidc-issuer-regexp', '.*'],
    ]) {
      const o = await verify(who);
      assert.equal(o.exitCode, 1, `${who.join(' ')}: ${o.stderr}`);
      assert.match(o.stderr, /\[IDENTITY_MISMATCH\]/);
    }
    for (const who of [
      // exact and pattern together, a pattern that is not RE2, or half an identity: usage (exit 2)
      [
        '--certificate-identity',
        RELEASE_URI,
        '--certificate-identity-regexp',
        '.*',
        '--certificate-oidc-issuer',
        RELEASE_ISSUER,
      ],
      ['--certificate-identity-regexp', '(?=x).*', '--certificate-oidc-issuer', RELEASE_ISSUER],
      ['--certificate-identity-regexp', '.*'],
    ]) {
      assert.equal((await verify(who)).exitCode, 2, who.join(' '));
    }
  });

  it('--json prints the result, verified or not, as JSON', async () => {
    const ok = await runInProcess([
      'verify-bundle',
      '--bundle',
      keyless,
      ...identity,
      '--trusted-root',
      root,
      '--json',
      artifact,
    ]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    const good = JSON.parse(ok.stdout) as { verified: boolean; identity: string; evidence: string[] };
    assert.equal(good.verified, true);
    assert.match(good.identity, /https:\/\/github\.com\/acme\/app/);
    assert.ok(good.evidence.length > 0);
    const bad = await runInProcess([
      'verify-bundle',
      '--bundle',
      keyless,
      ...identity,
      '--trusted-root',
      root,
      '--json',
      file('other2', 'other'),
    ]);
    assert.equal(bad.exitCode, 1);
    assert.deepEqual(
      (({ verified, code }) => ({ verified, code }))(
        JSON.parse(bad.stdout) as { verified: boolean; code: string },
      ),
      { verified: false, code: 'DIGEST_MISMATCH' },
    );
  });

  it('the embedded public-good root (no --trusted-root) does not trust the mock instance', async () => {
    const o = await runInProcess(['verify-bundle', '--bundle', keyless, ...identity, artifact]);
    assert.equal(o.exitCode, 1);
    assert.match(o.stderr, /FAILED \[(CERTIFICATE_INVALID|TLOG_INVALID)\]/);
  });

  it('a DSSE bundle verifies when the artifact is a subject of its in-toto statement, and only then', async () => {
    const ok = await runInProcess([
      'verify-bundle',
      '--bundle',
      dsse,
      ...identity,
      '--trusted-root',
      root,
      artifact,
    ]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    const digestOk = await runInProcess([
      'verify-bundle',
      '--bundle',
      dsse,
      ...identity,
      '--trusted-root',
      root,
      sha256(ARTIFACT),
    ]);
    assert.equal(digestOk.exitCode, 0, digestOk.stderr);
    const statementItself = file('statement.json', STATEMENT);
    const no = await runInProcess([
      'verify-bundle',
      '--bundle',
      dsse,
      ...identity,
      '--trusted-root',
      root,
      statementItself,
    ]);
    assert.equal(no.exitCode, 1);
    assert.match(no.stderr, /\[DIGEST_MISMATCH\]/);
  });

  it('--key verifies a key bundle with a log entry; without log or timestamp evidence it fails', async () => {
    const ok = await runInProcess([
      'verify-bundle',
      '--bundle',
      keyBundle,
      '--key',
      pub,
      '--trusted-root',
      root,
      artifact,
    ]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    const noLog = await runInProcess([
      'verify-bundle',
      '--bundle',
      keyNoLog,
      '--key',
      pub,
      '--trusted-root',
      root,
      artifact,
    ]);
    assert.equal(noLog.exitCode, 1);
    assert.match(noLog.stderr, /\[TIMESTAMP_MISSING\]/);
    const otherKey = file('other.pub', f.otherKey.publicKeyPem);
    const wrong = await runInProcess([
      'verify-bundle',
      '--bundle',
      keyBundle,
      '--key',
      otherKey,
      '--trusted-root',
      root,
      artifact,
    ]);
    assert.equal(wrong.exitCode, 1);
    assert.match(wrong.stderr, /\[KEY_MISMATCH\]/);
  });

  it('FILE_OR_DIGEST: a digest-shaped name that exists on disk is a path (protocol rule)', async () => {
    const cwd = process.cwd();
    const lookalike = sha256(Buffer.from('not the artifact'));
    writeFileSync(path.join(dir, lookalike), ARTIFACT);
    process.chdir(dir);
    try {
      const o = await runInProcess([
        'verify-bundle',
        '--bundle',
        keyless,
        ...identity,
        '--trusted-root',
        root,
        lookalike,
      ]);
      assert.equal(o.exitCode, 0, o.stderr);
    } finally {
      process.chdir(cwd);
    }
  });

  it('usage and configuration errors exit 2', async () => {
    const bad: string[][] = [
      ['verify-bundle', '--bundle', keyless, ...identity, '--key', pub, artifact],
      ['verify-bundle', '--bundle', keyless, artifact],
      ['verify-bundle', '--bundle', keyless, '--certificate-identity', RELEASE_URI, artifact],
      ['verify-bundle', '--bundle', path.join(dir, 'missing.json'), ...identity, artifact],
      ['verify-bundle', '--bundle', keyless, ...identity, path.join(dir, 'missing-artifact')],
      ['verify-bundle', '--bundle', keyless, ...identity, '--staging', artifact],
      [
        'verify-bundle',
        '--bundle',
        keyless,
        ...identity,
        '--trusted-root',
        file('bad-root.json', '{'),
        artifact,
      ],
      [
        'verify-bundle',
        '--bundle',
        keyless,
        ...identity,
        '--trusted-root',
        file('empty-root.json', '{}'),
        artifact,
      ],
      [
        'verify-bundle',
        '--bundle',
        keyless,
        '--key',
        file('not-a-key.pub', 'nope'),
        '--trusted-root',
        root,
        artifact,
      ],
      ['verify-bundle', '--bundle', keyless, ...identity],
    ];
    for (const argv of bad) {
      const o = await runInProcess(argv);
      assert.equal(o.exitCode, 2, `${argv.join(' ')}\n${o.stderr}`);
      assert.doesNotMatch(o.stderr, /internal error/);
    }
  });

  it('a malformed bundle is a verification failure (exit 1), not a crash', async () => {
    for (const content of [
      '{',
      '[]',
      JSON.stringify({ ...f.keylessBlob, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=9.9' }),
    ]) {
      const o = await runInProcess([
        'verify-bundle',
        '--bundle',
        file('bad.json', content),
        ...identity,
        '--trusted-root',
        root,
        artifact,
      ]);
      assert.equal(o.exitCode, 1, o.stderr);
      assert.match(o.stderr, /\[BUNDLE_MALFORMED\]/);
    }
  });
});
