import { strict as assert } from 'node:assert';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSigningKey, SigningKeyError } from '../../cli/oci/private-key';

/**
 * Signing keys: cosign key files made by the library cosign uses (fixtures/cosign-keys/README.md) open
 * with COSIGN_PASSWORD and sign for their `.pub`; plain PEM keys load; everything else is refused with a
 * code and never signs with a guessed key.
 */

const DIR = path.join(__dirname, 'fixtures', 'cosign-keys');
const PASSWORD = 'trustops-test-password';
const read = (f: string): string => fs.readFileSync(path.join(DIR, f), 'utf8');

function pemBody(pem: string): { type: string; json: Record<string, unknown> } {
  const m = /-----BEGIN ([A-Z ]+)-----\n([\s\S]*?)-----END/.exec(pem);
  assert.ok(m?.[1] && m[2] !== undefined);
  return {
    type: m[1],
    json: JSON.parse(Buffer.from(m[2].replace(/\s+/g, ''), 'base64').toString()) as Record<string, unknown>,
  };
}

function pemOf(type: string, json: unknown): string {
  const b64 = Buffer.from(JSON.stringify(json)).toString('base64');
  return `-----BEGIN ${type}-----\n${b64.replace(/(.{64})/g, '$1\n')}\n-----END ${type}-----\n`;
}

function rejectsWith(code: string, f: () => unknown): void {
  assert.throws(f, (e: unknown) => e instanceof SigningKeyError && e.code === code);
}

describe('signing keys (cosign key files and PEM)', function () {
  for (const [file, password] of [
    ['sigstore-standard', PASSWORD],
    ['cosign-legacy', PASSWORD],
    ['sigstore-empty-password', ''],
  ] as const) {
    it(`${file}.key opens with its password and signs for ${file}.pub`, function () {
      const key = loadSigningKey(read(`${file}.key`), password, file);
      assert.equal(key.publicKeyPem, read(`${file}.pub`));
      const data = Buffer.from('payload');
      assert.ok(verify('sha256', data, read(`${file}.pub`), sign('sha256', data, key.privateKeyPem)));
    });
  }

  it('a wrong or missing COSIGN_PASSWORD is KEY_PASSWORD', function () {
    rejectsWith('KEY_PASSWORD', () => loadSigningKey(read('sigstore-standard.key'), 'wrong', 'k'));
    rejectsWith('KEY_PASSWORD', () => loadSigningKey(read('sigstore-standard.key'), undefined, 'k'));
    rejectsWith('KEY_PASSWORD', () => loadSigningKey(read('sigstore-empty-password.key'), PASSWORD, 'k'));
  });

  it('a cosign key file whose sealed bytes were changed does not open (secretbox authenticates them)', function () {
    const { type, json } = pemBody(read('cosign-legacy.key'));
    const ct = Buffer.from(json.ciphertext as string, 'base64');
    ct[ct.length - 1] = (ct[ct.length - 1] ?? 0) ^ 1;
    rejectsWith('KEY_PASSWORD', () =>
      loadSigningKey(pemOf(type, { ...json, ciphertext: ct.toString('base64') }), PASSWORD, 'k'),
    );
  });

  it('cosign key files with other parameters or malformed fields are refused with a code', function () {
    const { type, json } = pemBody(read('cosign-legacy.key'));
    const kdf = json.kdf as Record<string, unknown>;
    rejectsWith('KEY_UNSUPPORTED', () =>
      loadSigningKey(pemOf(type, { ...json, kdf: { ...kdf, params: { N: 2, r: 8, p: 1 } } }), PASSWORD, 'k'),
    );
    rejectsWith('KEY_UNSUPPORTED', () =>
      loadSigningKey(pemOf(type, { ...json, cipher: { name: 'aes', nonce: 'AA==' } }), PASSWORD, 'k'),
    );
    rejectsWith('KEY_UNREADABLE', () =>
      loadSigningKey(pemOf(type, { ...json, ciphertext: '!!!' }), PASSWORD, 'k'),
    );
    rejectsWith('KEY_UNREADABLE', () =>
      loadSigningKey(
        pemOf(type, { ...json, cipher: { name: 'nacl/secretbox', nonce: 'AAAA' } }),
        PASSWORD,
        'k',
      ),
    );
    rejectsWith('KEY_UNREADABLE', () =>
      loadSigningKey(`-----BEGIN ${type}-----\nbm90IGpzb24=\n-----END ${type}-----\n`, PASSWORD, 'k'),
    );
  });

  it('plain P-256 PEM keys load: PKCS#8, SEC1, and password-protected PKCS#8', function () {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pub = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const forms = [
      privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
    ];
    for (const pem of forms) assert.equal(loadSigningKey(pem, undefined).publicKeyPem, pub);
    const encrypted = privateKey
      .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    assert.equal(loadSigningKey(encrypted, 'pw').publicKeyPem, pub);
    rejectsWith('KEY_PASSWORD', () => loadSigningKey(encrypted, undefined));
    rejectsWith('KEY_PASSWORD', () => loadSigningKey(encrypted, 'nope'));
  });

  it('public keys, certificates, other key types and garbage are refused', function () {
    rejectsWith('KEY_UNREADABLE', () => loadSigningKey(read('cosign-legacy.pub'), PASSWORD));
    rejectsWith('KEY_UNREADABLE', () => loadSigningKey('not a key', undefined));
    rejectsWith('KEY_UNREADABLE', () =>
      loadSigningKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', undefined),
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    for (const k of [p384, ed, rsa]) {
      rejectsWith('KEY_UNSUPPORTED', () =>
        loadSigningKey(k.export({ format: 'pem', type: 'pkcs8' }).toString(), undefined),
      );
    }
  });
});
