import { strict as assert } from 'node:assert';
import { OciWriteError } from '../../cli/oci/errors';
import { tarArchive } from '../../cli/oci/tar';

describe('oci: tar writer', () => {
  it('a path longer than the 100-byte ustar name field is INVALID_INPUT, never a truncated name', () => {
    assert.throws(
      () => tarArchive([{ path: 'a/'.repeat(50) + 'b', data: Buffer.from('x') }]),
      (e: unknown) => e instanceof OciWriteError && e.code === 'INVALID_INPUT',
    );
    assert.ok(tarArchive([{ path: 'a'.repeat(100), data: Buffer.from('x') }]).length > 0);
  });
});
