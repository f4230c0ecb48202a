import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyCommand, type VerifyCommandOptions } from '../../cli/commands/verify';
import { UsageError } from '../../cli/exit-codes';
import type { ImageVerdict } from '../../policy-pack/supply-chain/types';
import { happyEvidence, publish, startWorld, type World } from '../supply-chain/support/world';

/**
 * `trustops verify` against the real registry and the loopback Sigstore: the policy file names the
 * mock's trusted root (`trustedRoot.file`), exactly as a private-Sigstore user would.
 */

const BIN = path.join(__dirname, '..', '..', 'cli', 'bin', 'trustops.js');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  it('the binary exits 0 for an allowed image, 1 for a blocked one, 2 for a bad policy file', async function () {
    const good = await publish(world, 'referrer');
    const bad = await publish(world, 'referrer', { ...happyEvidence(), signatures: [] });
    const [allowed, blocked, invalid] = await Promise.all([
      run(['verify', good.tagRef, '--policy', policyFile, '--json']),
      run(['verify', bad.ref, '--policy', policyFile]),
      run(['verify', good.ref, '--policy', badPolicyFile]),
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    const verdict = JSON.parse(allowed.stdout) as ImageVerdict;
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.digest, good.digest);

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
    const v = JSON.parse(out) as ImageVerdict;
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

  it('an unreachable registry blocks (exit 1) with REGISTRY_ERROR rather than crashing', async function () {
    let out = '';
    const code = await verifyCommand(
      `127.0.0.1:1/acme/app@sha256:${'4'.repeat(64)}`,
      opts({ json: true }),
      (s) => (out += s),
    );
    assert.equal(code, 1);
    const v = JSON.parse(out) as ImageVerdict;
    assert.equal(v.findings[0]?.code, 'REGISTRY_ERROR');
  });
});
