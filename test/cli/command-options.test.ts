import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMirrors } from '../../cli/command-options';
import { UsageError } from '../../cli/exit-codes';

/** `--registry-mirror` is parsed once for every command, with the registry layer's grammar. */
describe('cli: --registry-mirror parsing', () => {
  let dir: string;
  let layout: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trustops-mirrors-'));
    layout = path.join(dir, 'layout');
    mkdirSync(layout);
    writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(path.join(layout, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    mkdirSync(path.join(dir, 'empty'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('maps each host to its store', () => {
    assert.deepEqual(parseMirrors([`a.example=oci-layout:${layout}`, 'b.example=https://m.example']), {
      'a.example': `oci-layout:${layout}`,
      'b.example': 'https://m.example',
    });
    assert.deepEqual(parseMirrors([]), {});
    assert.deepEqual(parseMirrors(undefined), {});
  });

  it('a mirror that does not exist, or a folder that is not an OCI layout, is a usage error (BAD_MIRROR)', () => {
    for (const store of [
      path.join(dir, 'missing'),
      path.join(dir, 'empty'),
      path.join(layout, 'index.json'),
    ]) {
      assert.throws(
        () => parseMirrors([`a.example=oci-layout:${store}`]),
        (e: unknown) => e instanceof UsageError && e.code === 'BAD_MIRROR',
        store,
      );
    }
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
