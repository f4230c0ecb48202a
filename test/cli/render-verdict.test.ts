import { strict as assert } from 'node:assert';
import { renderVerdict } from '../../cli/commands/verify';
import type { ImageVerdict } from '../../policy-pack/supply-chain/types';

describe('trustops verify: the readable report', () => {
  const base: ImageVerdict = {
    image: 'ghcr.io/acme/app@sha256:' + 'a'.repeat(64),
    digest: 'sha256:' + 'a'.repeat(64),
    allowed: true,
    findings: [],
    satisfied: [{ requirement: 'signature', by: ['release'] }],
    rule: 'ghcr.io/acme/**',
  };

  it('names every skipped attachment as a note, and the verdict stays what it is', () => {
    const note = {
      code: 'ATTACHMENT_IGNORED' as const,
      source: 'referrer',
      attachment: 'sha256:' + 'b'.repeat(64),
      reason: 'NO_BUNDLE_LAYER',
      message: `referrer sha256:${'b'.repeat(64)} ignored: no bundle layer`,
    };
    const text = renderVerdict({
      ...base,
      notes: [note, { ...note, subject: 'linux/arm64', reason: 'TOO_LARGE' }],
    });
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, /^ALLOWED /);
    const notes = lines.filter((l) => l.startsWith('  note '));
    assert.equal(notes.length, 2);
    assert.ok(notes[0]!.includes('ATTACHMENT_IGNORED NO_BUNDLE_LAYER') && notes[0]!.includes('b'.repeat(64)));
    assert.ok(notes[1]!.includes('TOO_LARGE [linux/arm64]'));
  });

  it('has no note line when nothing was skipped', () => {
    assert.ok(!renderVerdict(base).includes('note '));
  });
});
