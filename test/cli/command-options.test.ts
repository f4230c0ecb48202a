import { strict as assert } from 'node:assert';
import { parseMirrors } from '../../cli/command-options';
import { UsageError } from '../../cli/exit-codes';

/** `--registry-mirror` is parsed once for every command, with the registry layer's grammar. */
describe('cli: --registry-mirror parsing', () => {
  it('maps each host to its store', () => {
    assert.deepEqual(parseMirrors(['a.example=oci-layout:/tmp/x', 'b.example=https://m.example']), {
      'a.example': 'oci-layout:/tmp/x',
      'b.example': 'https://m.example',
    });
    assert.deepEqual(parseMirrors([]), {});
  });

  for (const flag of [
    'no-equals-sign',
    '=oci-layout:/tmp/x',
    'host=',
    'host=ftp://x',
    'host=oci-layout:',
    'host/path=https://m.example',
  ]) {
    it(`"${flag}" is a usage error (BAD_MIRROR)`, () => {
      assert.throws(
        () => parseMirrors([flag]),
        (e: unknown) => e instanceof UsageError && e.code === 'BAD_MIRROR',
      );
    });
  }

  it('the same host twice is a usage error, not a silent last-wins', () => {
    assert.throws(
      () => parseMirrors(['h.example=oci-layout:/a', 'h.example=oci-layout:/b']),
      (e: unknown) => e instanceof UsageError && e.code === 'BAD_MIRROR',
    );
  });
});
