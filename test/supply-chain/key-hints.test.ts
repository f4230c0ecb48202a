import { strict as assert } from 'node:assert';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { keyFingerprints, preferHintedKeys } from '../../policy-pack/supply-chain/key-hints';
import type { ResolvedSigner } from '../../policy-pack/supply-chain/sigstore';

function keySigner(name: string, publicKeyPem: string): ResolvedSigner {
  return { name, key: { publicKeyPem, requireTransparencyLog: true } };
}

describe('key hints', function () {
  const a = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const b = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const pem = (k: typeof a): string => k.export({ type: 'spki', format: 'pem' }).toString();
  const hintOf = (k: typeof a): string =>
    createHash('sha256')
      .update(k.export({ type: 'spki', format: 'der' }))
      .digest('hex');
  const fingerprints = keyFingerprints([
    keySigner('ops', pem(a)),
    keySigner('rebuilder-a', pem(b)),
    keySigner('alias-of-b', pem(b)),
    { name: 'release', keyless: { issuer: 'https://i', subject: 'https://s' } },
  ]);
  const bundleWithHint = (hint: string): unknown => ({ verificationMaterial: { publicKey: { hint } } });

  it('fingerprints key signers only', function () {
    assert.deepEqual([...fingerprints.keys()], ['ops', 'rebuilder-a', 'alias-of-b']);
    assert.equal(fingerprints.get('ops'), hintOf(a));
  });

  it('moves the hinted key signers first, keeping both groups in order', function () {
    const order = ['release', 'ops', 'rebuilder-a', 'alias-of-b'];
    assert.deepEqual(preferHintedKeys(order, bundleWithHint(hintOf(b)), fingerprints), [
      'rebuilder-a',
      'alias-of-b',
      'release',
      'ops',
    ]);
    assert.deepEqual(
      preferHintedKeys(order, bundleWithHint(hintOf(b).toUpperCase()), fingerprints)[0],
      'rebuilder-a',
    );
  });

  it('leaves the order alone without a hint, with an unknown hint, or for certificates', function () {
    const order = ['ops', 'rebuilder-a'];
    assert.deepEqual(preferHintedKeys(order, bundleWithHint('not-a-known-key'), fingerprints), order);
    assert.deepEqual(preferHintedKeys(order, bundleWithHint(''), fingerprints), order);
    assert.deepEqual(
      preferHintedKeys(order, { verificationMaterial: { certificate: {} } }, fingerprints),
      order,
    );
    assert.deepEqual(preferHintedKeys(order, null, fingerprints), order);
  });
});
