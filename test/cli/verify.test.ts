import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyCommand, type VerifyCommandOptions, type VerifyReport } from '../../cli/commands/verify';
import { EXIT, UsageError } from '../../cli/exit-codes';
import { happyEvidence, publish, startWorld, type World } from '../supply-chain/support/world';
import { assertValidSarif, parseJunit } from './support/report-formats';

/**
 * `trustops verify` against the real registry and the loopback Sigstore: the policy file names the
 * mock's trusted root (`trustedRoot.file`), exactly as a private-Sigstore user would.
 */

const BIN = path.join(__dirname, '..', '..', 'cli', 'bin', 'trustops.js');

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('trustops verify', function () {
  let world: World;
  let policyFile: string;
  let badPolicyFile: string;

  before(async function () {
    world = await startWorld();
    policyFile = path.join(world.dir, 'policy.yaml');
    fs.writeFileSync(policyFile, world.policyYaml({ extra: 'trustedRoot: { file: ./trusted_root.json }\n' }));
    badPolicyFile = path.join(world.dir, 'bad.yaml');
    fs.writeFileSync(
      badPolicyFile,
      world
        .policyYaml()
        .replace('signers: [release, ops]', 'signers: [release, nobody]')
        .replace('threshold: 2', 'threshold: 9'),
    );
  });

  after(async function () {
    await world?.stop();
  });

  const opts = (o: Partial<VerifyCommandOptions> = {}): VerifyCommandOptions => ({
    policy: policyFile,
    insecureRegistry: [],
    registryMirror: [],
    ...o,
  });
  const capture = async (
    images: string | string[],
    o: Partial<VerifyCommandOptions> = {},
    stream: { isTTY?: boolean } = {},
  ): Promise<{ code: number; out: string }> => {
    let out = '';
    const code = await verifyCommand(images, opts(o), (s) => (out += s), stream);
    return { code, out };
  };
  const unreachable = `127.0.0.1:1/acme/app@sha256:${'4'.repeat(64)}`;

  it('the binary exits 0 for an allowed image, 1 for a blocked one, 2 for a bad policy file', async function () {
    const good = await publish(world, 'referrer');
    const bad = await publish(world, 'referrer', { ...happyEvidence(), signatures: [] });
    const [allowed, blocked, invalid] = await Promise.all([
      run(['verify', good.tagRef, '--policy', policyFile, '--json']),
      run(['verify', bad.ref, '--policy', policyFile]),
      run(['verify', good.ref, '--policy', badPolicyFile]),
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    const report = JSON.parse(allowed.stdout) as VerifyReport;
    assert.equal(report.kind, 'VerifyReport');
    const verdict = report.verdicts[0]!;
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.digest, good.digest);
    assert.deepEqual(report.summary, { images: 1, allowed: 1, blocked: 0, unverified: 0, errors: 0 });

    assert.equal(blocked.code, 1, blocked.stderr);
    assert.match(blocked.stdout, /^BLOCKED /, blocked.stderr);
    assert.ok(blocked.stdout.includes(bad.ref));
    assert.match(blocked.stdout, /rule: +acme/);
    assert.match(blocked.stdout, /FAIL signature SIGNATURE_MISSING/);
    assert.match(blocked.stdout, /expected: /);
    assert.match(blocked.stdout, /found: /);
    assert.match(blocked.stdout, /hint: /);

    assert.equal(invalid.code, 2);
    // every coded problem is listed
    assert.match(invalid.stderr, /POLICY_UNKNOWN_SIGNER/);
    assert.match(invalid.stderr, /POLICY_BAD_THRESHOLD/);
  });

  it('the JSON verdict names the requirement, code, expected, found and hint of each finding', async function () {
    const p = await publish(world, 'referrer', { ...happyEvidence(), attestations: [] });
    let out = '';
    const code = await verifyCommand(p.ref, opts({ json: true }), (s) => (out += s));
    assert.equal(code, 1);
    const v = (JSON.parse(out) as VerifyReport).verdicts[0]!;
    assert.deepEqual(v.findings.map((f) => f.code).sort(), [
      'PROVENANCE_MISSING',
      'REBUILD_QUORUM_NOT_MET',
      'SBOM_MISSING',
    ]);
    for (const f of v.findings) {
      assert.ok(f.expected && f.found && f.hint && f.rule === 'acme');
    }
    assert.deepEqual(v.satisfied, [{ requirement: 'signature', by: ['release'] }]);
  });

  it('usage errors are UsageError (exit 2): malformed mirrors, unreadable or malformed policy files', async function () {
    for (const mirror of ['no-equals-sign', 'host=ftp://x']) {
      await assert.rejects(
        verifyCommand('x/y:z', opts({ registryMirror: [mirror] }), () => undefined),
        (e: unknown) => e instanceof UsageError,
      );
    }
    const malformed = path.join(world.dir, 'malformed.yaml');
    fs.writeFileSync(malformed, 'apiVersion: [');
    for (const policy of [malformed, path.join(world.dir, 'missing.yaml')]) {
      await assert.rejects(
        verifyCommand('x/y:z', opts({ policy }), () => undefined),
        (e: unknown) => e instanceof UsageError && ['POLICY_SYNTAX', 'POLICY_UNREADABLE'].includes(e.code),
      );
    }
  });

  it('an unreachable registry could not be verified: exit 3 with REGISTRY_ERROR, never a crash or a pass', async function () {
    const { code, out } = await capture(unreachable, { json: true });
    assert.equal(code, EXIT.UNVERIFIED);
    const v = (JSON.parse(out) as VerifyReport).verdicts[0]!;
    assert.equal(v.allowed, false);
    assert.equal(v.findings[0]?.code, 'REGISTRY_ERROR');
    const text = await capture(unreachable);
    assert.match(text.out, /^UNVERIFIED /);
    assert.match(text.out, /1 could not be verified/);
  });

  it('several images (arguments and --images-from) verified concurrently, one summary; the exit code is the most telling', async function () {
    const good = await publish(world, 'referrer');
    const bad = await publish(world, 'cosign', { ...happyEvidence(), signatures: [] });
    const list = path.join(world.dir, 'images.txt');
    fs.writeFileSync(
      list,
      `# images of the release\n${bad.ref}\n\n${unreachable}  # a registry that is down\n`,
    );
    const all = await capture([good.ref], { imagesFrom: list, concurrency: '2' });
    // blocked by policy beats "could not verify": a retry cannot change a block
    assert.equal(all.code, EXIT.BLOCKED);
    assert.equal(all.out.match(/^(ALLOWED|BLOCKED|UNVERIFIED) /gm)?.length, 3);
    assert.ok(
      all.out.includes('Summary: 3 image(s): 1 allowed, 1 blocked by policy, 1 could not be verified'),
      all.out,
    );
    assert.equal(
      all.out
        .trimEnd()
        .split('\n')
        .filter((l) => l.startsWith('Summary:')).length,
      1,
    );

    assert.equal((await capture([good.ref, unreachable])).code, EXIT.UNVERIFIED);
    assert.equal((await capture([good.ref, good.tagRef])).code, EXIT.OK);

    const quiet = await capture([good.ref, bad.ref], { quiet: true });
    assert.equal(quiet.code, EXIT.BLOCKED);
    assert.deepEqual(quiet.out.trimEnd().split('\n'), [
      `BLOCKED ${bad.ref}: SIGNATURE_MISSING`,
      'Summary: 2 image(s): 1 allowed, 1 blocked by policy',
    ]);
  });

  it('malformed references and digests, no image, a bad --images-from or a missing mirror are usage errors (exit 2) before anything is fetched', async function () {
    for (const image of [
      'Acme/App:latest',
      `ghcr.io/acme/app@sha256:${'4'.repeat(63)}`,
      'ghcr.io/acme/app@md5:abc',
      'https://ghcr.io/x',
    ]) {
      await assert.rejects(
        capture(image),
        (e: unknown) => e instanceof UsageError && e.code === 'BAD_REFERENCE',
        image,
      );
    }
    await assert.rejects(capture([]), (e: unknown) => e instanceof UsageError && e.code === 'NO_IMAGES');
    await assert.rejects(
      capture([], { imagesFrom: path.join(world.dir, 'none.txt') }),
      (e: unknown) => e instanceof UsageError && e.code === 'IMAGES_UNREADABLE',
    );
    await assert.rejects(
      capture(unreachable, {
        registryMirror: [`127.0.0.1:1=oci-layout:${path.join(world.dir, 'no-such-layout')}`],
      }),
      (e: unknown) => e instanceof UsageError && e.code === 'BAD_MIRROR',
    );
    await assert.rejects(capture(unreachable, { concurrency: '0' }), (e: unknown) => e instanceof UsageError);
    await assert.rejects(
      capture(unreachable, { json: true, output: 'sarif' }),
      (e: unknown) => e instanceof UsageError,
    );
  });

  it('an exempted image reads WAIVED (exemption SEC-123, expires ...), never FAIL under ALLOWED; SARIF marks it suppressed', async function () {
    const bad = await publish(world, 'referrer', { ...happyEvidence(), signatures: [] });
    const exempted = path.join(world.dir, 'exempted.yaml');
    const repo = bad.ref.slice(0, bad.ref.indexOf('@'));
    fs.writeFileSync(
      exempted,
      world.policyYaml({
        extra: `trustedRoot: { file: ./trusted_root.json }\nexemptions:\n  - image: ${repo}@${bad.digest}\n    reason: vendor image\n    ticket: SEC-123\n    expires: 2999-12-31\n`,
      }),
    );
    const { code, out } = await capture(bad.ref, { policy: exempted });
    assert.equal(code, EXIT.OK);
    assert.match(out, /^ALLOWED /);
    assert.match(out, /WAIVED signature SIGNATURE_MISSING \(exemption SEC-123, expires 2999-12-31\)/);
    assert.ok(!/\bFAIL\b/.test(out), out);
    const sarif = assertValidSarif((await capture(bad.ref, { policy: exempted, output: 'sarif' })).out);
    const result = sarif.runs[0]!.results[0]!;
    assert.equal(result.ruleId, 'SIGNATURE_MISSING');
    assert.equal(result.suppressions?.[0]?.justification, 'exemption SEC-123, expires 2999-12-31');
  });

  it('--output sarif validates against the SARIF 2.1.0 schema: one result per finding, rules explained', async function () {
    const good = await publish(world, 'referrer');
    const bad = await publish(world, 'referrer', { ...happyEvidence(), attestations: [] });
    const { code, out } = await capture([good.ref, bad.ref, unreachable], { output: 'sarif' });
    assert.equal(code, EXIT.BLOCKED);
    const log = assertValidSarif(out);
    const run = log.runs[0]!;
    assert.equal(run.tool.driver.name, 'trustops');
    assert.equal(run.invocations[0]!.exitCode, EXIT.BLOCKED);
    assert.deepEqual(run.results.map((r) => r.ruleId).sort(), [
      'PROVENANCE_MISSING',
      'REBUILD_QUORUM_NOT_MET',
      'REGISTRY_ERROR',
      'SBOM_MISSING',
    ]);
    for (const r of run.results) {
      assert.equal(run.tool.driver.rules[r.ruleIndex]!.id, r.ruleId);
      assert.match(run.tool.driver.rules[r.ruleIndex]!.help.text, /Fix: /);
      assert.equal(r.locations[0]!.physicalLocation.artifactLocation.uri.endsWith('policy.yaml'), true);
      assert.equal(r.level, r.ruleId === 'REGISTRY_ERROR' ? 'warning' : 'error');
    }
    assert.ok(run.results.every((r) => r.locations[0]!.logicalLocations[0]!.fullyQualifiedName !== good.ref));
  });

  it('--output junit: one test case per image, a failure per block, an error when it could not be verified', async function () {
    const good = await publish(world, 'referrer');
    const bad = await publish(world, 'referrer', { ...happyEvidence(), signatures: [] });
    const { out } = await capture([good.ref, bad.ref, unreachable], { output: 'junit' });
    const { cases } = parseJunit(out);
    const byName = new Map(cases.map((c) => [c.name, c]));
    assert.ok(byName.get(good.ref) && !byName.get(good.ref)!.failure && !byName.get(good.ref)!.error);
    assert.equal(byName.get(bad.ref)?.failure?.type, 'SIGNATURE_MISSING');
    assert.equal(byName.get(unreachable)?.error?.type, 'REGISTRY_ERROR');
  });

  it('colour on a terminal only (and never with NO_COLOR); GitHub Actions annotations when GITHUB_ACTIONS=true', async function () {
    const bad = await publish(world, 'referrer', { ...happyEvidence(), signatures: [] });
    const saved = process.env['NO_COLOR'];
    delete process.env['NO_COLOR'];
    try {
      assert.ok((await capture(bad.ref, {}, { isTTY: true })).out.includes('\u001b[31m'));
      assert.ok(!(await capture(bad.ref, {}, { isTTY: false })).out.includes('\u001b['));
      process.env['NO_COLOR'] = '1';
      assert.ok(!(await capture(bad.ref, {}, { isTTY: true })).out.includes('\u001b['));
    } finally {
      if (saved === undefined) delete process.env['NO_COLOR'];
      else process.env['NO_COLOR'] = saved;
    }
    const gh = await run(['verify', bad.ref, '--policy', policyFile], { GITHUB_ACTIONS: 'true' });
    assert.equal(gh.code, EXIT.BLOCKED, gh.stderr);
    const annotation = gh.stdout.split('\n').find((l) => l.startsWith('::error '));
    assert.ok(annotation, gh.stdout);
    assert.match(annotation, /^::error file=[^,]*policy\.yaml,title=trustops verify%3A SIGNATURE_MISSING::/);
    assert.ok(
      !(await run(['verify', bad.ref, '--policy', policyFile], { GITHUB_ACTIONS: '' })).stdout.includes(
        '::error',
      ),
    );
  });
});
