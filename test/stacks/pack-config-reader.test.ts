import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startAnalyzer, type AnalyzerSession } from '../../cli/analyzer';
import { DeployError } from '../../cli/deploy/errors';
import { imageInspectorFromPackConfig } from '../../cli/deploy/image-inspector';
import { deployTrustPolicy, packConfigWithRegistry } from '../../cli/deploy/pack-config';
import { createKeyPair } from '../../cli/oci/sign-key';
import { buildPackConfig, trustPolicyBaseDir } from '../../policy-pack/config';
import { trustPolicyFromSettings } from '../../policy-pack/policies/support/registry-verifier';
import { settingsFrom } from '../../policy-pack/policies/support/verification-config';
import type { ResolvedTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { TrustPolicy } from '../../policy-pack/supply-chain/types';
import { trustPolicyFromPackConfig } from '../../stacks/trust-policy';
import { deployment, PACK_DIR, summary } from '../policy-pack/support/pack';
import { publish, startWorld, type World } from '../supply-chain/support/world';

/**
 * One reader of the pack config: the pack (in the engine, in its own folder), `trustops deploy` (its
 * deployment record) and the example stacks (the Kyverno policy) resolve a relative `publicKeyFile` to
 * the same file: `trustPolicyBaseDir`, absolute or relative to the pack folder, else the pack folder.
 * Decoy keys sit where a reader resolving against another folder (the config file's, the working
 * directory) would look, so a reader that disagrees fails here.
 */

function keyOf(policy: ResolvedTrustPolicy): string | undefined {
  return policy.resolvedSigners['ops']?.key?.publicKeyPem;
}

describe('one reader of the pack config: pack, trustops deploy and the stacks agree', function () {
  let dir: string;
  let packDir: string;
  const keys = {
    trust: createKeyPair(),
    config: createKeyPair(),
    pack: createKeyPair(),
    cwd: createKeyPair(),
  };

  const trustPolicy = (): TrustPolicy =>
    ({
      apiVersion: 'trustops.dev/v1alpha1',
      kind: 'TrustPolicy',
      signers: { ops: { key: { publicKeyFile: './keys/ops.pub' } } },
      images: [{ match: ['registry.example.com/**'], signature: { signers: ['ops'] } }],
    }) as TrustPolicy;

  /** Writes a pack config file into conf/ and returns its path. */
  const writeConfig = (baseDir: string | undefined): string => {
    const file = path.join(dir, 'conf', 'pack-config.json');
    const config = buildPackConfig({
      trustPolicy: trustPolicy(),
      ...(baseDir !== undefined ? { trustPolicyBaseDir: baseDir } : {}),
    });
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  };

  /** The three readers' views of the `ops` key for one config file. */
  const readers = (file: string): Record<'pack' | 'deploy' | 'stacks', string | undefined> => {
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const entry = config['trusted-images'] as { trustPolicy: TrustPolicy; trustPolicyBaseDir?: string };
    return {
      pack: keyOf(trustPolicyFromSettings(settingsFrom({ ...entry, registry: {} }, packDir))),
      deploy: keyOf(deployTrustPolicy(file, packDir)!.policy),
      stacks: keyOf(trustPolicyFromPackConfig(file, packDir)),
    };
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-pack-config-'));
    packDir = path.join(dir, 'pack');
    for (const [where, k] of [
      ['trust', keys.trust],
      ['conf', keys.config],
      ['pack', keys.pack],
    ] as const) {
      fs.mkdirSync(path.join(dir, where, 'keys'), { recursive: true });
      fs.writeFileSync(path.join(dir, where, 'keys', 'ops.pub'), k.publicKeyPem);
    }
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a relative trustPolicyBaseDir is relative to the pack folder, for all three', () => {
    const file = writeConfig('../trust');
    assert.equal(trustPolicyBaseDir({ trustPolicyBaseDir: '../trust' }, packDir), path.join(dir, 'trust'));
    assert.deepEqual(readers(file), {
      pack: keys.trust.publicKeyPem,
      deploy: keys.trust.publicKeyPem,
      stacks: keys.trust.publicKeyPem,
    });
  });

  it('without one, the pack folder, for all three (never the config file folder or the working directory)', () => {
    const file = writeConfig(undefined);
    assert.deepEqual(readers(file), {
      pack: keys.pack.publicKeyPem,
      deploy: keys.pack.publicKeyPem,
      stacks: keys.pack.publicKeyPem,
    });
  });

  it('an absolute one is taken as is; the copy deploy writes elsewhere resolves the same', () => {
    const file = writeConfig(path.join(dir, 'trust'));
    assert.equal(readers(file).pack, keys.trust.publicKeyPem);
    const relative = writeConfig('../trust');
    const copy = packConfigWithRegistry(
      relative,
      { mirrors: { 'registry.example.com': 'oci-layout:/nowhere' }, insecureRegistries: [] },
      path.join(dir, 'records', 'run.pack-config.json'),
    );
    assert.notEqual(copy, relative);
    assert.deepEqual(readers(copy), readers(relative));
    assert.ok(imageInspectorFromPackConfig(copy, packDir), 'the record inspector reads it');
  });

  it('an unreadable config is a coded error for deploy and no inspector', () => {
    const missing = path.join(dir, 'nope.json');
    assert.throws(
      () => deployTrustPolicy(missing, packDir),
      (e: unknown) => e instanceof DeployError && e.code === 'PACK_CONFIG_REQUIRED',
    );
    assert.equal(imageInspectorFromPackConfig(missing, packDir), undefined);
  });

  describe('the real pack, in its own folder as the engine runs it', () => {
    let world: World;
    let analyzer: AnalyzerSession;
    before(async () => {
      [world, analyzer] = await Promise.all([startWorld(), startAnalyzer({ packDir: PACK_DIR })]);
    });
    after(async () => {
      await analyzer?.close();
      await world?.stop();
    });

    it('resolves a relative publicKeyFile through a relative trustPolicyBaseDir to the key the other readers read', async () => {
      const policy = parseYaml(
        world.policyYaml({
          images: `images:\n  - match: ["${world.registry.host}/acme/**"]\n    signature: { signers: [ops] }\n`,
          extra: 'trustedRoot: { file: ./trusted_root.json }\n',
        }),
      ) as TrustPolicy;
      const config = buildPackConfig({
        trustPolicy: policy,
        trustPolicyBaseDir: path.relative(PACK_DIR, world.dir),
        allowedPrefixes: [world.registry.host],
      });
      // A decoy key where the config file is written: a config-relative reader would pick it.
      const confDir = path.join(world.dir, 'conf');
      fs.mkdirSync(path.join(confDir, 'keys'), { recursive: true });
      fs.writeFileSync(path.join(confDir, 'keys', 'ops.pub'), keys.config.publicKeyPem);
      const file = path.join(confDir, 'pack-config.json');
      fs.writeFileSync(file, JSON.stringify(config));

      await analyzer.configure(config);
      const p = await publish(world, 'referrer', {
        signatures: [{ signer: { key: 'ops' } }],
        attestations: [],
      });
      const r = await analyzer.analyze({
        type: 'kubernetes:apps/v1:Deployment',
        name: 'web',
        properties: deployment([p.ref]),
      });
      assert.deepEqual(summary(r, ['trusted-images']), [], 'the pack verified with the world key');
      const worldKey = world.keys.ops.publicKeyPem;
      assert.equal(keyOf(deployTrustPolicy(file, PACK_DIR)!.policy), worldKey);
      assert.equal(keyOf(trustPolicyFromPackConfig(file, PACK_DIR)), worldKey);
    });
  });
});
