import { createPrivateKey, createPublicKey, scryptSync, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import type { KeyPair } from './sign-key';

/**
 * Signing keys as cosign users hold them: a plain PEM private key (PKCS#8 `PRIVATE KEY`, SEC1
 * `EC PRIVATE KEY`, or an `ENCRYPTED PRIVATE KEY` with a password), or the key file `cosign
 * generate-key-pair` writes (`ENCRYPTED SIGSTORE PRIVATE KEY`, formerly `ENCRYPTED COSIGN PRIVATE KEY`):
 * PKCS#8 DER sealed with NaCl secretbox under a scrypt key, the securesystemslib `encrypted` format
 * cosign uses. The password comes from COSIGN_PASSWORD, as with cosign.
 *
 * Only ECDSA P-256 keys are accepted (cosign's default, and what every Sigstore verifier reads the same
 * way); other key types are refused with KEY_UNSUPPORTED rather than signed with a guessed algorithm.
 */

export type SigningKeyErrorCode =
  | 'KEY_UNREADABLE' // not a PEM private key, or a malformed cosign key file
  | 'KEY_PASSWORD' // an encrypted key whose password is missing or wrong
  | 'KEY_UNSUPPORTED'; // a key type or encryption parameters we do not sign with

export class SigningKeyError extends Error {
  constructor(
    readonly code: SigningKeyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

const COSIGN_PEM_TYPES = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];
/** The scrypt parameter sets securesystemslib writes (legacy, standard, OWASP); anything else is refused. */
const SCRYPT_PARAMS = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];

interface PemBlock {
  type: string;
  der: Buffer;
}

function firstPemBlock(text: string): PemBlock | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m?.[1] || m[2] === undefined) return undefined;
  const body = m[2].replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return undefined;
  return { type: m[1], der: Buffer.from(body, 'base64') };
}

function b64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new SigningKeyError('KEY_UNREADABLE', `the cosign key file's ${what} is not base64`);
  }
  return Buffer.from(value, 'base64');
}

/** Decrypts the securesystemslib `encrypted` JSON of a cosign key file to the PKCS#8 DER it seals. */
function decryptCosignKey(body: Buffer, password: string | undefined, source: string): Buffer {
  let sealed: {
    kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown };
    cipher?: { name?: unknown; nonce?: unknown };
    ciphertext?: unknown;
  };
  try {
    sealed = JSON.parse(body.toString('utf8')) as typeof sealed;
  } catch {
    throw new SigningKeyError('KEY_UNREADABLE', `${source}: the cosign key file does not hold its JSON`);
  }
  if (sealed?.kdf?.name !== 'scrypt' || sealed.cipher?.name !== 'nacl/secretbox') {
    throw new SigningKeyError(
      'KEY_UNSUPPORTED',
      `${source}: expected scrypt and nacl/secretbox, found ${String(sealed?.kdf?.name)} and ${String(sealed?.cipher?.name)}`,
    );
  }
  const params = sealed.kdf.params ?? {};
  const known = SCRYPT_PARAMS.find((s) => s.N === params.N && s.r === params.r && s.p === params.p);
  if (!known) {
    throw new SigningKeyError(
      'KEY_UNSUPPORTED',
      `${source}: scrypt parameters ${JSON.stringify(params)} are not ones cosign writes`,
    );
  }
  if (password === undefined) {
    throw new SigningKeyError(
      'KEY_PASSWORD',
      `${source} is an encrypted cosign key: set COSIGN_PASSWORD to its password (empty if it has none)`,
    );
  }
  const salt = b64(sealed.kdf.salt, 'salt');
  const nonce = b64(sealed.cipher.nonce, 'nonce');
  const ciphertext = b64(sealed.ciphertext, 'ciphertext');
  if (nonce.length !== nacl.secretbox.nonceLength) {
    throw new SigningKeyError('KEY_UNREADABLE', `${source}: the secretbox nonce is not 24 bytes`);
  }
  const key = scryptSync(Buffer.from(password, 'utf8'), salt, nacl.secretbox.keyLength, {
    ...known,
    maxmem: 256 * known.N * known.r,
  });
  const opened = nacl.secretbox.open(ciphertext, nonce, key);
  if (!opened) {
    throw new SigningKeyError('KEY_PASSWORD', `${source}: COSIGN_PASSWORD does not open this key`);
  }
  return Buffer.from(opened);
}

function asP256(key: KeyObject, source: string): KeyPair {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new SigningKeyError(
      'KEY_UNSUPPORTED',
      `${source} is a ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''} key; trustops attest signs with ECDSA P-256 keys (cosign's default)`,
    );
  }
  return {
    privateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/**
 * Reads a signing key from PEM text. `password` (COSIGN_PASSWORD) opens cosign key files and
 * password-protected PKCS#8 keys. `source` names the key in messages (a file path).
 */
export function loadSigningKey(pem: string, password: string | undefined, source = 'the key'): KeyPair {
  const block = firstPemBlock(pem);
  if (!block) {
    throw new SigningKeyError('KEY_UNREADABLE', `${source} holds no PEM private key`);
  }
  if (block.type.includes('PUBLIC KEY') || block.type === 'CERTIFICATE') {
    throw new SigningKeyError(
      'KEY_UNREADABLE',
      `${source} holds a ${block.type.toLowerCase()}, not a private key (sign with the private half)`,
    );
  }
  let key: KeyObject;
  if (COSIGN_PEM_TYPES.includes(block.type)) {
    const der = decryptCosignKey(block.der, password, source);
    try {
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      throw new SigningKeyError('KEY_UNREADABLE', `${source}: the decrypted key is not PKCS#8`);
    }
    return asP256(key, source);
  }
  try {
    key = createPrivateKey(
      password !== undefined && block.type === 'ENCRYPTED PRIVATE KEY'
        ? { key: pem, passphrase: password }
        : pem,
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (block.type === 'ENCRYPTED PRIVATE KEY') {
      throw new SigningKeyError(
        'KEY_PASSWORD',
        `${source} is an encrypted PKCS#8 key that COSIGN_PASSWORD ${password === undefined ? 'is not set for' : 'does not open'}`,
      );
    }
    throw new SigningKeyError('KEY_UNREADABLE', `${source} is not a readable private key (${msg})`);
  }
  return asP256(key, source);
}
