import { strict as assert } from 'node:assert';
import {
  CONFIDENTIAL_MACHINE_TABLE,
  extendMachineTable,
  machinePatternMatches,
  machineVerdict,
  zoneProblem,
} from '../../policy-pack/policies/support/confidential-machines';

/** The machine table the component and the policy share: its grammar, its verdicts, its extension. */
describe('confidential machine table', () => {
  it('`*` stands for a number and nothing else; the rest is literal', () => {
    assert.ok(machinePatternMatches('c3-standard-*', 'c3-standard-4'));
    assert.ok(machinePatternMatches('c3-standard-*', 'C3-STANDARD-176'));
    assert.ok(machinePatternMatches('c3-standard-*-lssd', 'c3-standard-8-lssd'));
    for (const other of [
      'c3-standard-4-lssd',
      'c3-standard-',
      'c3-standard-4a',
      'xc3-standard-4',
      'c3-standard-4-metal',
      'c3-standard-4.5',
      'c3-standard-*',
    ]) {
      assert.ok(!machinePatternMatches('c3-standard-*', other), other);
    }
    // Regular-expression characters in a pattern are literal.
    assert.ok(!machinePatternMatches('c3.standard-*', 'c3xstandard-4'));
  });

  it('names a source and the date it was checked', () => {
    assert.match(CONFIDENTIAL_MACHINE_TABLE.checked, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(CONFIDENTIAL_MACHINE_TABLE.source, /Confidential GKE Nodes/);
    assert.match(CONFIDENTIAL_MACHINE_TABLE.source, /2026-09-03/);
  });

  it('TDX: only the C3 standard shapes; every refused shape says why', () => {
    assert.ok(machineVerdict('c3-standard-4', 'TDX').ok);
    assert.ok(machineVerdict('c3-standard-8-lssd', 'TDX').ok);
    for (const m of [
      'c3-highcpu-4',
      'c3-highmem-4',
      'c3-highcpu-4-lssd',
      'c3-standard-192-metal',
      'n2d-standard-4',
    ]) {
      const v = machineVerdict(m, 'TDX');
      assert.ok(!v.ok, m);
      if (!v.ok) assert.match(v.reason, new RegExp(`^${m} cannot run TDX: `));
    }
    assert.ok(machineVerdict('c4d-standard-8', 'SEV').ok);
    assert.ok(!machineVerdict('c4d-standard-8', 'SEV_SNP').ok);
  });

  it('extending adds zones and shapes without touching the shared table', () => {
    const before = JSON.stringify(CONFIDENTIAL_MACHINE_TABLE);
    const extended = extendMachineTable(CONFIDENTIAL_MACHINE_TABLE, [
      { technology: 'TDX', machineType: 'c3-standard-*-lssd', zones: ['us-central1-a'] },
      { technology: 'TDX', machineType: 'c3-standard-*', zones: ['us-east1-b', 'us-central1-a'] },
      { technology: 'SEV_SNP', machineType: 'n2d-custom-*-*', zones: ['us-central1-a'] },
    ]);
    assert.equal(JSON.stringify(CONFIDENTIAL_MACHINE_TABLE), before);
    const lssd = machineVerdict('c3-standard-8-lssd', 'TDX', extended);
    assert.ok(lssd.ok);
    if (lssd.ok) {
      assert.equal(zoneProblem('us-central1-a', 'TDX', lssd.shape, extended), undefined);
      assert.match(
        zoneProblem('us-central1-b', 'TDX', lssd.shape, extended)!,
        /expected one of us-central1-a/,
      );
    }
    const std = machineVerdict('c3-standard-4', 'TDX', extended);
    assert.ok(std.ok && std.shape.zones.includes('us-east1-b'));
    assert.equal(std.ok && std.shape.zones.filter((z) => z === 'us-central1-a').length, 1);
    assert.ok(machineVerdict('n2d-custom-4-16384', 'SEV_SNP', extended).ok);
    // An addition for one technology does not open the machine for another.
    assert.ok(!machineVerdict('n2d-custom-4-16384', 'TDX', extended).ok);
    assert.match(extended.source, /configured additions/);
  });
});
