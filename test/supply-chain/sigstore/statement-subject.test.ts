import { strict as assert } from 'node:assert';
import type { SerializedBundle } from '@sigstore/bundle';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { assertStatementSubject } from '../../../policy-pack/supply-chain/sigstore';
import { runInProcess } from '../../conformance/run-cli';
import { assertSignatureError } from './assert-signature-error';
import { createFixtures, INTOTO, RELEASE_ISSUER, RELEASE_URI, type Fixtures } from './fixtures';

/**
 * DSSE bundles whose in-toto subjects name the artifact by sha512 or sha384 only (every npm provenance
 * and publish attestation), signed by the real libraries (@sigstore/sign against @sigstore/mock) and
 * verified through `trustops verify-bundle` as the conformance protocol calls it: by the artifact's path
 * (its digests are computed with the subjects' algorithms) and by `sha256:<hex>`.
 */

const TARBALL = Buffer.from('npm tarball bytes: package/package.json ...\n');
const OTHER = Buffer.from('another tarball\n');
const hex = (alg: string, data: Buffer): string => createHash(alg).update(data).digest('hex');

function statement(digest: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'pkg:npm/%40acme/widget@1.2.3', digest }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://github.com/npm/cli/gha/v2' } },
    }),
  );
}

describe('DSSE statements naming the artifact by sha512 / sha384 (npm provenance)', function () {
  let f: Fixtures;
  let dir: string;
  let root: string;
  let artifact: string;
  const bundles = new Map<string, { file: string; bundle: SerializedBundle }>();
  const identity = ['--certificate-identity', RELEASE_URI, '--certificate-oidc-issuer', RELEASE_ISSUER];

  before(async () => {
    f = await createFixtures();
    dir = mkdtempSync(path.join(tmpdir(), 'trustops-subjects-'));
    root = path.join(dir, 'trusted_root.json');
    writeFileSync(root, JSON.stringify(f.mock.trustedRoot));
    artifact = path.join(dir, 'widget-1.2.3.tgz');
    writeFileSync(artifact, TARBALL);
    const cases: Record<string, Record<string, string>> = {
      sha512: { sha512: hex('sha512', TARBALL) },
      sha384: { sha384: hex('sha384', TARBALL) },
      both: { sha256: hex('sha256', TARBALL), sha512: hex('sha512', TARBALL) },
      wrongSha512: { sha512: hex('sha512', OTHER) },
      rightSha256WrongSha512: { sha256: hex('sha256', TARBALL), sha512: hex('sha512', OTHER) },
      onlyMd5: { md5: hex('md5', TARBALL) },
    };
    for (const [name, digest] of Object.entries(cases)) {
      const bundle = await f.mock.signDsse(statement(digest), INTOTO, {
        issuer: RELEASE_ISSUER,
        uri: RELEASE_URI,
      });
      const file = path.join(dir, `${name}.sigstore.json`);
      writeFileSync(file, JSON.stringify(bundle));
      bundles.set(name, { file, bundle });
    }
  });
  after(async () => {
    await f?.mock.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (name: string, target: string) =>
    runInProcess([
      'verify-bundle',
      '--bundle',
      bundles.get(name)!.file,
      ...identity,
      '--trusted-root',
      root,
      target,
    ]);
  const digestArg = `sha256:${hex('sha256', TARBALL)}`;

  it('sha512-only and sha384-only subjects verify against the artifact file', async () => {
    for (const name of ['sha512', 'sha384', 'both']) {
      const o = await run(name, artifact);
      assert.equal(o.exitCode, 0, `${name}: ${o.stderr}`);
      assert.match(o.stdout, /^OK: /);
    }
  });

  it('given a sha256: digest and subjects with no sha256, fails with DIGEST_ALGORITHM_MISMATCH saying so', async () => {
    for (const name of ['sha512', 'sha384']) {
      const o = await run(name, digestArg);
      assert.equal(o.exitCode, 1, o.stdout);
      assert.match(o.stderr, /FAILED \[DIGEST_ALGORITHM_MISMATCH\]/);
      assert.match(o.stderr, /subjects carry no sha256 digest/);
    }
    const both = await run('both', digestArg);
    assert.equal(both.exitCode, 0, both.stderr);
  });

  it('a wrong sha512, or a right sha256 beside a wrong sha512, never names the artifact', async () => {
    for (const name of ['wrongSha512', 'rightSha256WrongSha512', 'onlyMd5']) {
      const o = await run(name, artifact);
      assert.equal(o.exitCode, 1, `${name}: ${o.stdout}`);
      assert.match(o.stderr, /FAILED \[DIGEST_MISMATCH\]/, name);
    }
  });

  it('the check itself: coded errors for each case, on the verified payload', () => {
    const payloadOf = (name: string): Buffer =>
      Buffer.from(bundles.get(name)!.bundle.dsseEnvelope!.payload, 'base64');
    const sha256 = hex('sha256', TARBALL);
    assertStatementSubject(INTOTO, payloadOf('sha512'), { bytes: TARBALL, sha256 });
    assertSignatureError(
      () => assertStatementSubject(INTOTO, payloadOf('sha512'), { sha256 }),
      'DIGEST_ALGORITHM_MISMATCH',
    );
    assertSignatureError(
      () =>
        assertStatementSubject(INTOTO, payloadOf('sha512'), { bytes: OTHER, sha256: hex('sha256', OTHER) }),
      'DIGEST_MISMATCH',
    );
    assertSignatureError(
      () => assertStatementSubject(INTOTO, payloadOf('both'), { sha256: hex('sha256', OTHER) }),
      'DIGEST_MISMATCH',
    );
    assertSignatureError(
      () => assertStatementSubject('text/plain', payloadOf('both'), { bytes: TARBALL, sha256 }),
      'DIGEST_MISMATCH',
    );
  });
});
