import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programFor } from '../../stacks';
import { StackError } from '../../stacks/errors';
import { trustPolicyFromPackConfig } from '../../stacks/trust-policy';

/** A stack that cannot start says why with a coded StackError, like every other layer. */
describe('stacks: coded errors', () => {
  it('a stack name of no layer is STACK_LAYER_UNKNOWN', () => {
    assert.throws(
      () => programFor('staging'),
      (e: unknown) => e instanceof StackError && e.code === 'STACK_LAYER_UNKNOWN',
    );
  });

  it('a pack config without trusted-images.trustPolicy is TRUST_POLICY_MISSING', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-stack-'));
    try {
      for (const config of [
        {},
        { 'trusted-images': 'mandatory' },
        { 'trusted-images': { trustPolicy: 'x' } },
      ]) {
        const file = path.join(dir, 'pack-config.json');
        fs.writeFileSync(file, JSON.stringify(config));
        assert.throws(
          () => trustPolicyFromPackConfig(file, dir),
          (e: unknown) => e instanceof StackError && e.code === 'TRUST_POLICY_MISSING',
        );
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
