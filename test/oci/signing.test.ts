import { strict as assert } from 'node:assert';
import { PolicyError, VerificationError } from '@sigstore/verify';
import { inTotoStatement, simpleSigningPayload } from '../../cli/oci/attach';
import { IN_TOTO_PAYLOAD_TYPE } from '../../cli/oci/media-types';
import {
  createKeyPair,
  keyHintOf,
  signBlobWithKey,
  signDsseWithKey,
  signRawWithKey,
} from '../../cli/oci/sign-key';
import { startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock';
import {
  EMPTY_TRUSTED_ROOT,
  flipPayloadByte,
  flipSignatureByte,
  verifyBundle,
} from '../support/sigstore-verify';
import { createVerify, X509Certificate } from 'node:crypto';

const isVerificationError = (code?: string) => (e: unknown) =>
  e instanceof VerificationError && (code === undefined || e.code === code);

const DIGEST = 'sha256:' + 'ab'.repeat(32);
const statement = inTotoStatement({
  subjects: [{ name: '127.0.0.1:5000/app', digest: { sha256: 'ab'.repeat(32) } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: { buildDefinition: { buildType: 'https://example.com/build' } },
});

const GITHUB = {
  issuer: 'https://token.actions.githubusercontent.com',
  uri: 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  claims: {
    repository: 'acme/app',
    ref: 'refs/heads/main',
    workflow_ref: 'acme/app/.github/workflows/build.yml@refs/heads/main',
    runner_environment: 'github-hosted',
    sha: 'c0ffee',
    event_name: 'push',
  },
};

describe('test bed: keyless fixtures through @sigstore/mock', () => {
  let mock: SigstoreMock;
  let other: SigstoreMock;
  before(async () => {
    mock = await startSigstoreMock();
    other = await startSigstoreMock();
  });
  after(async () => {
    await mock?.close();
    await other?.close();
  });

  it('a message-signature bundle verifies against the mock trusted root, with the email identity', async () => {
    const data = simpleSigningPayload('127.0.0.1:5000/app', DIGEST);
    const bundle = await mock.signBlob(data, { email: 'dev@example.com' });
    const signer = verifyBundle(bundle, {
      trustedRoot: mock.trustedRoot,
      artifact: data,
      timestampThreshold: 0,
      policy: {
        subjectAlternativeName: 'dev@example.com',
        extensions: { issuer: 'https://oauth2.sigstore.dev/auth' },
      },
    });
    assert.equal(signer.identity?.subjectAlternativeName, 'dev@example.com');
    // as real Fulcio: an email identity is an rfc822Name SAN, not a URI
    const chain = bundle.verificationMaterial.x509CertificateChain?.certificates[0]?.rawBytes;
    assert.equal(
      new X509Certificate(Buffer.from(chain ?? '', 'base64')).subjectAltName,
      'email:dev@example.com',
    );
  });

  it('fails when one byte of the artifact or of the signature changes', async () => {
    const data = Buffer.from('artifact bytes');
    const bundle = await mock.signBlob(data);
    const opts = { trustedRoot: mock.trustedRoot, timestampThreshold: 0 };
    verifyBundle(bundle, { ...opts, artifact: data });
    const changed = Buffer.from(data);
    changed[0] = (changed[0] ?? 0) ^ 0x01;
    assert.throws(() => verifyBundle(bundle, { ...opts, artifact: changed }), isVerificationError());
    assert.throws(
      () => verifyBundle(flipSignatureByte(bundle), { ...opts, artifact: data }),
      isVerificationError(),
    );
  });

  it('fails against another trust root and for another identity', async () => {
    const data = Buffer.from('who signed');
    const bundle = await mock.signBlob(data, { email: 'dev@example.com' });
    assert.throws(
      () => verifyBundle(bundle, { trustedRoot: other.trustedRoot, artifact: data, timestampThreshold: 0 }),
      isVerificationError(),
    );
    assert.throws(
      () =>
        verifyBundle(bundle, {
          trustedRoot: mock.trustedRoot,
          artifact: data,
          timestampThreshold: 0,
          policy: { subjectAlternativeName: 'mallory@example.com' },
        }),
      (e: unknown) => e instanceof PolicyError && e.code === 'UNTRUSTED_SIGNER_ERROR',
    );
  });

  it('a DSSE in-toto bundle with a GitHub workflow identity verifies and fails on a changed payload or signature', async () => {
    const bundle = await mock.signDsse(statement, IN_TOTO_PAYLOAD_TYPE, GITHUB);
    assert.equal(bundle.dsseEnvelope?.payloadType, IN_TOTO_PAYLOAD_TYPE);
    const opts = {
      trustedRoot: mock.trustedRoot,
      timestampThreshold: 0,
      policy: { subjectAlternativeName: GITHUB.uri, extensions: { issuer: GITHUB.issuer } },
    };
    const signer = verifyBundle(bundle, opts);
    assert.equal(signer.identity?.subjectAlternativeName, GITHUB.uri);
    // the GitHub claims became Fulcio extensions of the certificate
    const leaf = bundle.verificationMaterial.certificate?.rawBytes;
    assert.ok(leaf);
    const cert = new X509Certificate(Buffer.from(leaf, 'base64'));
    assert.equal(cert.subjectAltName, `URI:${GITHUB.uri}`);
    assert.ok(cert.raw.includes(Buffer.from('acme/app')));
    assert.ok(cert.raw.includes(Buffer.from('github-hosted')));
    assert.throws(() => verifyBundle(flipPayloadByte(bundle), opts), isVerificationError());
    assert.throws(() => verifyBundle(flipSignatureByte(bundle), opts), isVerificationError());
  });

  it('adds an RFC 3161 timestamp that verifies as a timestamp', async () => {
    const ts = await startSigstoreMock({ timestamp: true });
    try {
      const data = Buffer.from('timestamped');
      const bundle = await ts.signBlob(data);
      assert.equal(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);
      verifyBundle(bundle, {
        trustedRoot: ts.trustedRoot,
        artifact: data,
        tlogThreshold: 1,
        timestampThreshold: 2,
      });
    } finally {
      await ts.close();
    }
  });

  it('gives the cosign legacy annotation values: signature over the payload by the certificate key, SET bundle', async () => {
    const payload = simpleSigningPayload('127.0.0.1:5000/app', DIGEST);
    const legacy = await mock.signCosignLegacy(payload, GITHUB, { timestamp: true });
    const cert = new X509Certificate(legacy.certificate);
    const ok = createVerify('sha256')
      .update(payload)
      .verify(cert.publicKey, Buffer.from(legacy.signature, 'base64'));
    assert.equal(ok, true);
    const tampered = Buffer.from(payload);
    tampered[10] = (tampered[10] ?? 0) ^ 0x01;
    assert.equal(
      createVerify('sha256').update(tampered).verify(cert.publicKey, Buffer.from(legacy.signature, 'base64')),
      false,
    );
    assert.ok(cert.verify(new X509Certificate(legacy.chain).publicKey), 'leaf not issued by the chain root');
    const set = JSON.parse(legacy.bundle) as {
      SignedEntryTimestamp: string;
      Payload: { logID: string; integratedTime: number };
    };
    assert.match(set.Payload.logID, /^[a-f0-9]{64}$/);
    assert.ok(set.SignedEntryTimestamp.length > 0);
    assert.ok(legacy.rfc3161Timestamp?.includes('SignedRFC3161Timestamp'));
    verifyBundle(legacy.sigstoreBundle, {
      trustedRoot: mock.trustedRoot,
      artifact: payload,
      timestampThreshold: 1,
    });
  });
});

describe('test bed: key-based fixtures (ECDSA P-256)', () => {
  it('a key-based message bundle verifies with its public key and fails for a changed byte or another key', async () => {
    const key = createKeyPair();
    const data = Buffer.from('signed with a key');
    const bundle = await signBlobWithKey(data, key);
    const hint = keyHintOf(key.publicKeyPem);
    assert.equal(bundle.verificationMaterial.publicKey?.hint, hint);
    assert.equal(bundle.verificationMaterial.tlogEntries?.length ?? 0, 0);
    const opts = {
      trustedRoot: EMPTY_TRUSTED_ROOT,
      keys: { [hint]: key.publicKeyPem },
      tlogThreshold: 0,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    };
    verifyBundle(bundle, { ...opts, artifact: data });
    const changed = Buffer.from(data);
    changed[3] = (changed[3] ?? 0) ^ 0x01;
    assert.throws(() => verifyBundle(bundle, { ...opts, artifact: changed }), isVerificationError());
    assert.throws(
      () => verifyBundle(flipSignatureByte(bundle), { ...opts, artifact: data }),
      isVerificationError(),
    );
    const otherKey = createKeyPair();
    assert.throws(
      () => verifyBundle(bundle, { ...opts, keys: { [hint]: otherKey.publicKeyPem }, artifact: data }),
      isVerificationError(),
    );
  });

  it('a key-based DSSE bundle verifies and fails on a changed payload', async () => {
    const key = createKeyPair();
    const bundle = await signDsseWithKey(statement, IN_TOTO_PAYLOAD_TYPE, key, { keyHint: 'release-key' });
    const opts = {
      trustedRoot: EMPTY_TRUSTED_ROOT,
      keys: { 'release-key': key.publicKeyPem },
      tlogThreshold: 0,
      ctlogThreshold: 0,
      timestampThreshold: 0,
    };
    verifyBundle(bundle, opts);
    assert.throws(() => verifyBundle(flipPayloadByte(bundle), opts), isVerificationError());
    assert.throws(() => verifyBundle(flipSignatureByte(bundle), opts), isVerificationError());
  });

  it('witnessed by the mock Rekor, the key-based bundle carries a verifiable tlog entry', async () => {
    const mock = await startSigstoreMock();
    try {
      const key = createKeyPair();
      const hint = keyHintOf(key.publicKeyPem);
      const data = Buffer.from('logged');
      const bundle = await signBlobWithKey(data, key, { rekorUrl: mock.rekorUrl });
      assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
      verifyBundle(bundle, {
        trustedRoot: mock.trustedRoot,
        keys: { [hint]: key.publicKeyPem },
        artifact: data,
        ctlogThreshold: 0,
        timestampThreshold: 0,
      });
      const dsse = await signDsseWithKey(statement, IN_TOTO_PAYLOAD_TYPE, key, { rekorUrl: mock.rekorUrl });
      verifyBundle(dsse, {
        trustedRoot: mock.trustedRoot,
        keys: { [hint]: key.publicKeyPem },
        ctlogThreshold: 0,
        timestampThreshold: 0,
      });
    } finally {
      await mock.close();
    }
  });

  it('signRawWithKey gives the ECDSA signature cosign stores for key-based .sig layers', () => {
    const key = createKeyPair();
    const payload = simpleSigningPayload('r/app', DIGEST);
    const sig = signRawWithKey(payload, key.privateKeyPem);
    assert.equal(createVerify('sha256').update(payload).verify(key.publicKeyPem, sig), true);
    assert.equal(
      createVerify('sha256')
        .update(Buffer.concat([payload, Buffer.from(' ')]))
        .verify(key.publicKeyPem, sig),
      false,
    );
  });
});
