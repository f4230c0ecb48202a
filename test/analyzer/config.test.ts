import { strict as assert } from 'node:assert';
import { isAnalyzerError } from '../../cli/analyzer';
import { reconcileConfig } from '../../cli/analyzer/config';
import type { AnalyzerInfo, PolicyInfo } from '../../cli/analyzer/types';

const limits: PolicyInfo = {
  name: 'limits',
  displayName: 'limits',
  description: 'takes config',
  enforcementLevel: 'advisory',
  kind: 'resource',
  configSchema: {
    properties: { max: { type: 'number', default: 3 }, names: { type: 'array', default: ['a'] } },
    required: ['max'],
  },
};
const plain: PolicyInfo = {
  name: 'plain',
  displayName: 'plain',
  description: 'takes none',
  enforcementLevel: 'mandatory',
  kind: 'resource',
};

function pack(initialConfig: AnalyzerInfo['initialConfig'] = {}): AnalyzerInfo {
  return {
    name: 'p',
    displayName: 'p',
    version: '1.0.0',
    supportsConfig: true,
    policies: [limits, plain],
    initialConfig,
  };
}

describe('analyzer config reconciliation (the engine order before Configure)', () => {
  it('starts from declared levels and schema defaults', () => {
    assert.deepEqual(reconcileConfig(pack(), {}), {
      limits: { enforcementLevel: 'advisory', properties: { max: 3, names: ['a'] } },
      plain: { enforcementLevel: 'mandatory', properties: {} },
    });
  });

  it("applies the pack's initial config, then the user's: the user's `all` overrides an initial policy level", () => {
    const info = pack({ plain: { enforcementLevel: 'disabled' }, limits: { properties: { max: 5 } } });
    const r = reconcileConfig(info, { all: 'mandatory', limits: { max: 7 } });
    assert.equal(r.plain?.enforcementLevel, 'mandatory');
    assert.equal(r.limits?.enforcementLevel, 'mandatory');
    assert.deepEqual(r.limits?.properties, { max: 7, names: ['a'] });
  });

  it("an initial `all` applies to every policy, and a user's policy entry beats the user's `all`", () => {
    const r = reconcileConfig(pack({ all: { enforcementLevel: 'disabled' } }), {
      all: 'advisory',
      plain: 'remediate',
    });
    assert.equal(r.limits?.enforcementLevel, 'advisory');
    assert.equal(r.plain?.enforcementLevel, 'remediate');
    assert.equal(
      reconcileConfig(pack({ all: { enforcementLevel: 'disabled' } }), {}).plain?.enforcementLevel,
      'disabled',
    );
  });

  it('refuses, all at once: unknown policy names, bad levels, schema violations, properties for a policy without schema', () => {
    assert.throws(
      () =>
        reconcileConfig(pack(), {
          limit: 'mandatory',
          all: 'strict' as never,
          limits: { max: 'ten' },
          plain: { enforcementLevel: 'mandatory', extra: true },
        }),
      (e: unknown) => {
        if (!isAnalyzerError(e, 'INVALID_CONFIG')) return false;
        // four separate problems named, one per line
        return e.message.split('\n').length === 5;
      },
    );
  });

  it('a policy whose schema requires a property is refused when no default or config gives it', () => {
    const strict: PolicyInfo = {
      ...limits,
      configSchema: { properties: { max: { type: 'number' } }, required: ['max'] },
    };
    const info = { ...pack(), policies: [strict] };
    assert.throws(
      () => reconcileConfig(info, {}),
      (e: unknown) => isAnalyzerError(e, 'INVALID_CONFIG'),
    );
    assert.deepEqual(reconcileConfig(info, { limits: { max: 1 } }).limits?.properties, { max: 1 });
  });

  it('does not let one reconciliation change the pack defaults seen by the next', () => {
    const info = pack();
    const first = reconcileConfig(info, {});
    (first.limits?.properties['names'] as string[]).push('mutated');
    assert.deepEqual(reconcileConfig(info, {}).limits?.properties['names'], ['a']);
  });
});
