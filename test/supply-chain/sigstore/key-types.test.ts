import { strict as assert } from 'node:assert';
import { bundleToJSON } from '@sigstore/bundle';
import { MessageSignatureBundleBuilder } from '@sigstore/sign';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createBundleVerifier, embeddedPublicGoodRoot } from '../../../policy-pack/supply-chain/sigstore';
import { assertSignatureError } from './assert-signature-error';
import { ARTIFACT, sha256 } from './fixtures';

/**
 * Key signers of every type the trust policy accepts (ECDSA P-256/P-384, Ed25519, RSA), bundles built by
 * @sigstore/sign over node crypto keys. By digest only ECDSA can be checked (node cannot verify a
 * precomputed digest; @noble/curves does for ECDSA): the others say UNSUPPORTED, never "verified".
 */
type KeyType = {
  label: string;
  pair: () => { publicKey: KeyObject; privateKey: KeyObject };
  hash: string | null;
  byDigest: boolean;
};

const TYPES: KeyType[] = [
  {
    label: 'ECDSA P-256',
    pair: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    hash: 'sha256',
    byDigest: true,
  },
  {
    label: 'ECDSA P-384',
    pair: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    hash: 'sha256',
    byDigest: true,
  },
  { label: 'Ed25519', pair: () => generateKeyPairSync('ed25519'), hash: null, byDigest: false },
  {
    label: 'RSA 2048',
    pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
    hash: 'sha256',
    byDigest: false,
  },
];

describe('sigstore bundle verifier: key types', () => {
  for (const t of TYPES) {
    it(`${t.label}: verifies by artifact${t.byDigest ? ' and by digest' : '; by digest is UNSUPPORTED'}; another key of the type is KEY_MISMATCH`, async () => {
      const { publicKey, privateKey } = t.pair();
      const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const builder = new MessageSignatureBundleBuilder({
        signer: {
          sign: (data: Buffer) =>
            Promise.resolve({
              signature: sign(t.hash, data, privateKey),
              key: { $case: 'publicKey', publicKey: pem, hint: '' },
            }),
        },
        witnesses: [],
      });
      const bundle = bundleToJSON(await builder.create({ data: ARTIFACT }));
      const other = t.pair().publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const v = createBundleVerifier({
        trustedRoot: embeddedPublicGoodRoot(),
        signers: [
          { name: 'k', key: { publicKeyPem: pem, requireTransparencyLog: false } },
          { name: 'other', key: { publicKeyPem: other, requireTransparencyLog: false } },
        ],
      });
      assert.equal(v.verify(bundle, { artifact: ARTIFACT, allowedSigners: ['k'] }).signer, 'k');
      assertSignatureError(
        () => v.verify(bundle, { artifact: ARTIFACT, allowedSigners: ['other'] }),
        'KEY_MISMATCH',
      );
      if (t.byDigest) {
        assert.equal(
          v.verify(bundle, { artifactDigest: sha256(ARTIFACT), allowedSigners: ['k'] }).signer,
          'k',
        );
        assertSignatureError(
          () => v.verify(bundle, { artifactDigest: sha256(ARTIFACT), allowedSigners: ['other'] }),
          'KEY_MISMATCH',
        );
      } else {
        assertSignatureError(
          () => v.verify(bundle, { artifactDigest: sha256(ARTIFACT), allowedSigners: ['k'] }),
          'UNSUPPORTED',
        );
      }
    });
  }
});
