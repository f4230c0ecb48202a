import { strict as assert } from 'node:assert';
import type { SerializedBundle } from '@sigstore/bundle';
import { createHash, X509Certificate } from 'node:crypto';
import { signRawWithKey } from '../../../cli/oci/sign-key';
import type { CosignLayer } from '../../../policy-pack/registry/types';
import { cosignLayerToBundle } from '../../../policy-pack/supply-chain/sigstore';
import { COSIGN_ANNOTATIONS } from '../../../policy-pack/supply-chain/sigstore/cosign-legacy';
import { cosignRekorBundle } from '../../support/sigstore-mock';
import { assertSignatureError } from './assert-signature-error';
import { ARTIFACT, clone, createFixtures, INTOTO, STATEMENT, type Fixtures } from './fixtures';

const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

function layer(payload: Buffer, mediaType: string, annotations: Record<string, string>): CosignLayer {
  return {
    descriptor: {
      mediaType,
      digest: `sha256:${createHash('sha256').update(payload).digest('hex')}`,
      size: payload.length,
    },
    payload,
    annotations,
  };
}

function certificatePem(b: SerializedBundle): string {
  const m = b.verificationMaterial;
  const der = m.certificate?.rawBytes ?? m.x509CertificateChain?.certificates[0]?.rawBytes;
  return new X509Certificate(Buffer.from(der!, 'base64')).toString();
}

function envelopeJson(b: SerializedBundle): Buffer {
  const env = b.dsseEnvelope!;
  return Buffer.from(
    JSON.stringify({ payloadType: env.payloadType, payload: env.payload, signatures: env.signatures }),
  );
}

/** Log an entry in the mock Rekor (v1 API, stored as proposed) and return cosign's bundle annotation for it. */
async function logInMockRekor(f: Fixtures, proposed: unknown): Promise<string> {
  const res = await fetch(`${f.mock.rekorUrl}/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(proposed),
  });
  assert.equal(res.status, 201);
  const entry = Object.values((await res.json()) as Record<string, Record<string, unknown>>)[0]!;
  const verification = entry.verification as { signedEntryTimestamp: string };
  return JSON.stringify({
    SignedEntryTimestamp: verification.signedEntryTimestamp,
    Payload: {
      body: entry.body,
      integratedTime: entry.integratedTime,
      logIndex: entry.logIndex,
      logID: entry.logID,
    },
  });
}

/** A Rekor `intoto` v0.0.1 proposed entry, as cosign < 2.0 submitted attestations. */
function intotoV001(envelope: Buffer, payload: Buffer, publicKeyPem: string): unknown {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'intoto',
    spec: {
      content: {
        hash: { algorithm: 'sha256', value: sha(envelope) },
        payloadHash: { algorithm: 'sha256', value: sha(payload) },
      },
      publicKey: Buffer.from(publicKeyPem).toString('base64'),
    },
  };
}

describe('cosign legacy attachments -> bundles', function () {
  let f: Fixtures;
  before(async () => {
    f = await createFixtures();
  });
  after(async () => {
    await f?.mock.close();
  });

  describe('signature layers', () => {
    it('a keyless signature (signature, certificate, chain, Rekor SET, RFC 3161) verifies against the layer payload', async () => {
      const legacy = await f.mock.signCosignLegacy(
        ARTIFACT,
        {
          issuer: 'https://token.actions.githubusercontent.com',
          uri: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3',
        },
        { timestamp: true },
      );
      assert.ok(legacy.rfc3161Timestamp, 'the fixture carries an RFC 3161 timestamp');
      const l = layer(legacy.payload, SIMPLE_SIGNING, {
        [COSIGN_ANNOTATIONS.signature]: legacy.signature,
        [COSIGN_ANNOTATIONS.certificate]: legacy.certificate,
        [COSIGN_ANNOTATIONS.chain]: legacy.chain,
        [COSIGN_ANNOTATIONS.rekorBundle]: legacy.bundle,
        [COSIGN_ANNOTATIONS.rfc3161Timestamp]: legacy.rfc3161Timestamp,
      });
      const r = f
        .verifier()
        .verify(cosignLayerToBundle(l, 'signature'), { artifact: l.payload, allowedSigners: ['release'] });
      assert.equal(r.signer, 'release');
      assert.deepEqual(r.evidence, ['tlog', 'timestamp']);

      const swapped = { ...l, payload: Buffer.from('{"critical":{}}') };
      assertSignatureError(
        () =>
          f.verifier().verify(cosignLayerToBundle(swapped, 'signature'), {
            artifact: swapped.payload,
            allowedSigners: ['release'],
          }),
        'TLOG_INVALID',
        'SIGNATURE_INVALID',
      );
      // The RFC 3161 timestamp alone is time evidence enough; with neither, the certificate has no proven time.
      const onlyTsa = { ...l, annotations: { ...l.annotations, [COSIGN_ANNOTATIONS.rekorBundle]: '' } };
      const t = f.verifier().verify(cosignLayerToBundle(onlyTsa, 'signature'), {
        artifact: l.payload,
        allowedSigners: ['release'],
      });
      assert.deepEqual(t.evidence, ['timestamp']);
      const neither = {
        ...onlyTsa,
        annotations: { ...onlyTsa.annotations, [COSIGN_ANNOTATIONS.rfc3161Timestamp]: '' },
      };
      assertSignatureError(
        () =>
          f.verifier().verify(cosignLayerToBundle(neither, 'signature'), {
            artifact: l.payload,
            allowedSigners: ['release'],
          }),
        'TIMESTAMP_MISSING',
      );
      const otherSignature: CosignLayer = {
        ...l,
        annotations: { ...l.annotations, [COSIGN_ANNOTATIONS.rekorBundle]: '' },
      };
      otherSignature.annotations[COSIGN_ANNOTATIONS.signature] = signRawWithKey(
        ARTIFACT,
        f.opsKey.privateKeyPem,
      ).toString('base64');
      assertSignatureError(
        () =>
          f.verifier().verify(cosignLayerToBundle(otherSignature, 'signature'), {
            artifact: l.payload,
            allowedSigners: ['release'],
          }),
        'TIMESTAMP_INVALID',
        'SIGNATURE_INVALID',
      );
    });

    it('a key signature without Rekor entry verifies only for a key signer that opted out of tlog evidence', () => {
      const sig = signRawWithKey(ARTIFACT, f.opsKey.privateKeyPem).toString('base64');
      const l = layer(ARTIFACT, SIMPLE_SIGNING, { [COSIGN_ANNOTATIONS.signature]: sig });
      const bundle = cosignLayerToBundle(l, 'signature');
      assert.equal(
        f.verifier().verify(bundle, { artifact: ARTIFACT, allowedSigners: ['ops-unlogged'] }).signer,
        'ops-unlogged',
      );
      assertSignatureError(
        () => f.verifier().verify(bundle, { artifact: ARTIFACT, allowedSigners: ['ops'] }),
        'TIMESTAMP_MISSING',
      );
      assertSignatureError(
        () => f.verifier().verify(bundle, { artifact: ARTIFACT, allowedSigners: ['other'] }),
        'KEY_MISMATCH',
      );
    });

    it('unreadable annotations are BUNDLE_MALFORMED', () => {
      const sig = signRawWithKey(ARTIFACT, f.opsKey.privateKeyPem).toString('base64');
      assertSignatureError(
        () => cosignLayerToBundle(layer(ARTIFACT, SIMPLE_SIGNING, {}), 'signature'),
        'BUNDLE_MALFORMED',
      );
      for (const [key, value] of [
        [COSIGN_ANNOTATIONS.rekorBundle, '{"SignedEntryTimestamp": 1}'],
        [COSIGN_ANNOTATIONS.rekorBundle, 'not json'],
        [COSIGN_ANNOTATIONS.certificate, 'not a pem'],
        [COSIGN_ANNOTATIONS.rfc3161Timestamp, '{}'],
      ] as const) {
        const l = layer(ARTIFACT, SIMPLE_SIGNING, { [COSIGN_ANNOTATIONS.signature]: sig, [key]: value });
        assertSignatureError(() => cosignLayerToBundle(l, 'signature'), 'BUNDLE_MALFORMED');
      }
      assertSignatureError(
        () => cosignLayerToBundle(layer(Buffer.from('{}'), DSSE_MEDIA_TYPE, {}), 'attestation'),
        'BUNDLE_MALFORMED',
      );
    });
  });

  describe('attestation layers', () => {
    it('a keyless attestation logged as intoto v0.0.2 verifies and returns the statement', () => {
      const b = f.keylessDsse;
      const l = layer(envelopeJson(b), DSSE_MEDIA_TYPE, {
        [COSIGN_ANNOTATIONS.signature]: '',
        [COSIGN_ANNOTATIONS.certificate]: certificatePem(b),
        [COSIGN_ANNOTATIONS.rekorBundle]: cosignRekorBundle(b)!,
      });
      const r = f.verifier().verify(cosignLayerToBundle(l, 'attestation'), { allowedSigners: ['release'] });
      assert.deepEqual(r.payload, STATEMENT);
      assert.equal(r.payloadType, INTOTO);
    });

    it('intoto v0.0.1 entries (cosign < 2): verified by envelope hash, payload hash and logged key, which the library cannot do', async () => {
      const unlogged = f.keyDsse;
      const env = envelopeJson(unlogged);
      const good = await logInMockRekor(f, intotoV001(env, STATEMENT, f.opsKey.publicKeyPem));
      const make = (rekor: string) =>
        cosignLayerToBundle(
          layer(env, DSSE_MEDIA_TYPE, { [COSIGN_ANNOTATIONS.rekorBundle]: rekor }),
          'attestation',
        );
      const r = f.verifier().verify(make(good), { allowedSigners: ['ops'] });
      assert.equal(r.signer, 'ops');
      assert.deepEqual(r.evidence, ['tlog']);

      const otherPayload = await logInMockRekor(f, intotoV001(env, Buffer.from('{}'), f.opsKey.publicKeyPem));
      assertSignatureError(
        () => f.verifier().verify(make(otherPayload), { allowedSigners: ['ops'] }),
        'TLOG_INVALID',
      );
      const otherKey = await logInMockRekor(f, intotoV001(env, STATEMENT, f.otherKey.publicKeyPem));
      assertSignatureError(
        () => f.verifier().verify(make(otherKey), { allowedSigners: ['ops'] }),
        'TLOG_INVALID',
      );
      // Same payload and key, but the log holds another envelope (another signature): not this layer's entry.
      const otherEnvelope = await logInMockRekor(f, {
        ...(intotoV001(env, STATEMENT, f.opsKey.publicKeyPem) as Record<string, unknown>),
        spec: (
          intotoV001(Buffer.concat([env, Buffer.from(' ')]), STATEMENT, f.opsKey.publicKeyPem) as {
            spec: unknown;
          }
        ).spec,
      });
      assertSignatureError(
        () => f.verifier().verify(make(otherEnvelope), { allowedSigners: ['ops'] }),
        'TLOG_INVALID',
      );
      // A bundle that no longer knows its layer bytes (re-serialised) can only be bound by payload and key.
      assert.equal(
        f.verifier().verify(clone(make(otherEnvelope)), { allowedSigners: ['ops'] }).signer,
        'ops',
      );
      const forged = JSON.parse(good) as { Payload: { integratedTime: number } };
      forged.Payload.integratedTime += 1;
      assertSignatureError(
        () => f.verifier().verify(make(JSON.stringify(forged)), { allowedSigners: ['ops'] }),
        'TLOG_INVALID',
      );
    });

    it('a keyless intoto v0.0.1 entry must name the signing certificate', async () => {
      const b = f.keylessDsse;
      const env = envelopeJson(b);
      const cert = certificatePem(b);
      const make = (rekor: string) =>
        cosignLayerToBundle(
          layer(env, DSSE_MEDIA_TYPE, {
            [COSIGN_ANNOTATIONS.certificate]: cert,
            [COSIGN_ANNOTATIONS.rekorBundle]: rekor,
          }),
          'attestation',
        );
      const good = await logInMockRekor(f, intotoV001(env, STATEMENT, cert));
      assert.equal(f.verifier().verify(make(good), { allowedSigners: ['release'] }).signer, 'release');
      const wrongKey = await logInMockRekor(f, intotoV001(env, STATEMENT, f.opsKey.publicKeyPem));
      assertSignatureError(
        () => f.verifier().verify(make(wrongKey), { allowedSigners: ['release'] }),
        'TLOG_INVALID',
      );
    });

    it('an intoto v0.0.1 entry cannot vouch for a message signature', async () => {
      const entry = await logInMockRekor(
        f,
        intotoV001(envelopeJson(f.keyDsse), ARTIFACT, f.opsKey.publicKeyPem),
      );
      const b = clone(f.keyBlob) as unknown as Record<string, unknown>;
      const bundle = cosignLayerToBundle(
        layer(ARTIFACT, SIMPLE_SIGNING, {
          [COSIGN_ANNOTATIONS.signature]: (b.messageSignature as { signature: string }).signature,
          [COSIGN_ANNOTATIONS.rekorBundle]: entry,
        }),
        'signature',
      );
      assertSignatureError(
        () => f.verifier().verify(bundle, { artifact: ARTIFACT, allowedSigners: ['ops'] }),
        'TLOG_INVALID',
      );
    });
  });
});
