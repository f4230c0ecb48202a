import { strict as assert } from 'node:assert';
import type { SerializedBundle } from '@sigstore/bundle';
import { createHash } from 'node:crypto';
import {
  createBundleVerifier,
  embeddedPublicGoodRoot,
  loadTrustedRoot,
  type ResolvedSigner,
} from '../../../policy-pack/supply-chain/sigstore';
import { assertSignatureError } from './assert-signature-error';
import {
  ARTIFACT,
  clone,
  createFixtures,
  EMAIL,
  EMAIL_ISSUER,
  EVIL_URI,
  RELEASE_ISSUER,
  RELEASE_URI,
  sha256,
  STATEMENT,
  type Fixtures,
} from './fixtures';

describe('sigstore bundle verifier (@sigstore/mock fixtures)', function () {
  let f: Fixtures;
  before(async () => {
    f = await createFixtures();
  });
  after(async () => {
    await f?.mock.close();
  });

  describe('keyless', () => {
    it('verifies a message signature against the artifact and against its sha256 digest', () => {
      const v = f.verifier();
      const byBytes = v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['release'] });
      assert.equal(byBytes.signer, 'release');
      assert.match(
        byBytes.identity,
        /^https:\/\/github\.com\/acme\/app\/.* \(issuer https:\/\/token\.actions/,
      );
      assert.deepEqual(byBytes.evidence, ['tlog']);
      const byDigest = v.verify(f.keylessBlob, {
        artifactDigest: sha256(ARTIFACT),
        allowedSigners: ['release'],
      });
      assert.equal(byDigest.signer, 'release');
    });

    it('returns the first allowed signer the identity satisfies, in the order given', () => {
      const signers: ResolvedSigner[] = [
        { name: 'narrow', keyless: { issuer: RELEASE_ISSUER, subject: RELEASE_URI } },
        { name: 'broad', keyless: { issuer: RELEASE_ISSUER, subjectRegExp: 'https://github\\.com/acme/.+' } },
      ];
      const v = f.verifier(signers);
      assert.equal(
        v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['broad', 'narrow'] }).signer,
        'broad',
      );
      assert.equal(
        v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['narrow', 'broad'] }).signer,
        'narrow',
      );
    });

    it('rejects another artifact, another digest and a malformed digest', () => {
      const v = f.verifier();
      const other = Buffer.from('another artifact');
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifact: other, allowedSigners: ['release'] }),
        'DIGEST_MISMATCH',
      );
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifactDigest: sha256(other), allowedSigners: ['release'] }),
        'DIGEST_MISMATCH',
      );
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifactDigest: 'sha256:abc', allowedSigners: ['release'] }),
        'DIGEST_MISMATCH',
      );
      assertSignatureError(() => v.verify(f.keylessBlob, { allowedSigners: ['release'] }), 'DIGEST_MISMATCH');
    });

    it('a messageDigest edited to the other artifact does not make the signature valid for it', () => {
      const other = Buffer.from('another artifact');
      const b = clone(f.keylessBlob);
      b.messageSignature!.messageDigest!.digest = createHash('sha256').update(other).digest('base64');
      assertSignatureError(
        () => f.verifier().verify(b, { artifact: other, allowedSigners: ['release'] }),
        'TLOG_INVALID',
        'SIGNATURE_INVALID',
      );
    });

    it('identity confusion: the right subject from another issuer is IDENTITY_MISMATCH', () => {
      const v = f.verifier([
        { name: 'release', keyless: { issuer: 'https://accounts.google.com', subject: RELEASE_URI } },
      ]);
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['release'] }),
        'IDENTITY_MISMATCH',
      );
    });

    it('identity confusion: a subjectRegExp without ^/$ is still anchored (no evil.example/acme match)', async () => {
      const evil = await f.mock.signBlob(ARTIFACT, { issuer: RELEASE_ISSUER, uri: EVIL_URI });
      const v = f.verifier([
        { name: 'acme', keyless: { issuer: RELEASE_ISSUER, subjectRegExp: 'https://github\\.com/acme/.*' } },
        { name: 'loose', keyless: { issuer: RELEASE_ISSUER, subjectRegExp: 'acme/app/.*' } },
        { name: 'issuer-loose', keyless: { issuerRegExp: 'token\\.actions', subjectRegExp: '.*' } },
      ]);
      assert.equal(v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['acme'] }).signer, 'acme');
      for (const name of ['acme', 'loose', 'issuer-loose']) {
        assertSignatureError(
          () => v.verify(evil, { artifact: ARTIFACT, allowedSigners: [name] }),
          'IDENTITY_MISMATCH',
        );
      }
    });

    it('identity confusion: an email expectation never matches a URI SAN, and vice versa', async () => {
      const uriWithEmail = await f.mock.signBlob(ARTIFACT, {
        issuer: EMAIL_ISSUER,
        uri: `https://evil.example/x/${EMAIL}`,
      });
      const v = f.verifier([
        { name: 'acme-emails', keyless: { issuer: EMAIL_ISSUER, subjectRegExp: '.+@acme\\.com' } },
        { name: 'alice', keyless: { issuer: EMAIL_ISSUER, subject: EMAIL } },
        { name: 'any-uri', keyless: { issuer: EMAIL_ISSUER, subjectRegExp: 'https://.*' } },
      ]);
      assert.equal(
        v.verify(f.emailBlob, { artifact: ARTIFACT, allowedSigners: ['acme-emails'] }).signer,
        'acme-emails',
      );
      assert.equal(v.verify(f.emailBlob, { artifact: ARTIFACT, allowedSigners: ['alice'] }).signer, 'alice');
      assertSignatureError(
        () => v.verify(uriWithEmail, { artifact: ARTIFACT, allowedSigners: ['acme-emails', 'alice'] }),
        'IDENTITY_MISMATCH',
      );
      assert.equal(
        v.verify(uriWithEmail, { artifact: ARTIFACT, allowedSigners: ['any-uri'] }).signer,
        'any-uri',
      );
      assertSignatureError(
        () => v.verify(f.emailBlob, { artifact: ARTIFACT, allowedSigners: ['any-uri'] }),
        'IDENTITY_MISMATCH',
      );
    });

    it('identity confusion: RE2 group syntax ((?i:...), (?:...)) does not turn an email pattern into a URI one', async () => {
      // The colon in `(?i:` is RE2 syntax, not a scheme: the pattern stays an email expectation, so the
      // URI SAN that ends in an acme.com address is still refused.
      const uriWithEmail = await f.mock.signBlob(ARTIFACT, {
        issuer: EMAIL_ISSUER,
        uri: `https://evil.example/x/${EMAIL}`,
      });
      const v = f.verifier([
        { name: 'acme-any-case', keyless: { issuer: EMAIL_ISSUER, subjectRegExp: '(?i:.+@ACME\\.COM)' } },
        { name: 'acme-group', keyless: { issuer: EMAIL_ISSUER, subjectRegExp: '(?:.+)@acme\\.com' } },
      ]);
      for (const name of ['acme-any-case', 'acme-group']) {
        assert.equal(v.verify(f.emailBlob, { artifact: ARTIFACT, allowedSigners: [name] }).signer, name);
        assertSignatureError(
          () => v.verify(uriWithEmail, { artifact: ARTIFACT, allowedSigners: [name] }),
          'IDENTITY_MISMATCH',
        );
      }
    });

    it('Fulcio claims must match exactly; an absent claim never matches', () => {
      const base = { issuer: RELEASE_ISSUER, subject: RELEASE_URI };
      const v = f.verifier([
        {
          name: 'repo',
          keyless: { ...base, claims: { sourceRepositoryURI: 'https://github.com/acme/app' } },
        },
        {
          name: 'ref',
          keyless: {
            ...base,
            claims: { sourceRepositoryRef: 'refs/tags/v1.2.3', runnerEnvironment: 'github-hosted' },
          },
        },
        {
          name: 'fork',
          keyless: { ...base, claims: { sourceRepositoryURI: 'https://github.com/evil/app' } },
        },
        {
          name: 'builder',
          keyless: {
            ...base,
            claims: { buildSignerURI: 'https://github.com/acme/app/x.yml@refs/heads/main' },
          },
        },
      ]);
      assert.equal(v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['repo'] }).signer, 'repo');
      assert.equal(v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['ref'] }).signer, 'ref');
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['fork'] }),
        'IDENTITY_MISMATCH',
      );
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['builder'] }),
        'IDENTITY_MISMATCH',
      );
    });

    it('a keyless signer without any subject constraint trusts nobody', () => {
      const v = f.verifier([{ name: 'issuer-only', keyless: { issuer: RELEASE_ISSUER } }]);
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['issuer-only'] }),
        'IDENTITY_MISMATCH',
      );
    });

    it('returns the authenticated DSSE payload and rejects a changed one', () => {
      const v = f.verifier();
      const r = v.verify(f.keylessDsse, { allowedSigners: ['release'] });
      assert.equal(r.payloadType, 'application/vnd.in-toto+json');
      assert.deepEqual(r.payload, STATEMENT);
      const b = clone(f.keylessDsse);
      const payload = Buffer.from(b.dsseEnvelope!.payload, 'base64');
      payload[10] = (payload[10] ?? 0) ^ 1;
      b.dsseEnvelope!.payload = payload.toString('base64');
      assertSignatureError(
        () => v.verify(b, { allowedSigners: ['release'] }),
        'TLOG_INVALID',
        'SIGNATURE_INVALID',
      );
    });

    it('without tlog entry or timestamp a keyless bundle is TIMESTAMP_MISSING', () => {
      const b = clone(f.keylessBlob);
      b.verificationMaterial.tlogEntries = [];
      assertSignatureError(
        () => f.verifier().verify(b, { artifact: ARTIFACT, allowedSigners: ['release'] }),
        'TIMESTAMP_MISSING',
      );
    });

    it('a certificate from another Sigstore instance is CERTIFICATE_INVALID under the public-good root', () => {
      const v = createBundleVerifier({
        trustedRoot: embeddedPublicGoodRoot(),
        signers: [{ name: 'release', keyless: { issuer: RELEASE_ISSUER, subject: RELEASE_URI } }],
      });
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['release'] }),
        'CERTIFICATE_INVALID',
        'TLOG_INVALID',
      );
    });
  });

  describe('keys', () => {
    it('verifies with the allowed key and reports the key id and tlog evidence', () => {
      const r = f.verifier().verify(f.keyBlob, { artifact: ARTIFACT, allowedSigners: ['ops'] });
      assert.equal(r.signer, 'ops');
      assert.match(r.identity, /^key sha256:[0-9a-f]{64}$/);
      assert.deepEqual(r.evidence, ['tlog']);
      assert.equal(
        f.verifier().verify(f.keyBlob, { artifactDigest: sha256(ARTIFACT), allowedSigners: ['ops'] }).signer,
        'ops',
      );
    });

    it('tries each allowed key in order: another key first still finds the signer', () => {
      assert.equal(
        f.verifier().verify(f.keyBlob, { artifact: ARTIFACT, allowedSigners: ['other', 'ops'] }).signer,
        'ops',
      );
    });

    it('a key the policy does not allow is KEY_MISMATCH', () => {
      assertSignatureError(
        () => f.verifier().verify(f.keyBlob, { artifact: ARTIFACT, allowedSigners: ['other'] }),
        'KEY_MISMATCH',
      );
    });

    it('a failed match names only the signers the requirement accepts, not every signer tried', () => {
      // The evidence collector also tries the rule's other signers (to tell "valid, but not accepted here"
      // from "broken"); naming them in the refusal would suggest they were allowed. Which names appear is
      // the point of this test, so it reads the message.
      const b = clone(f.keyBlobNoLog);
      const sig = Buffer.from(b.messageSignature!.signature, 'base64');
      sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1;
      b.messageSignature!.signature = sig.toString('base64');
      const key = assertSignatureError(
        () =>
          f.verifier().verify(b, {
            artifact: ARTIFACT,
            allowedSigners: ['ops-unlogged', 'other'],
            acceptedSigners: ['other'],
          }),
        'KEY_MISMATCH',
      );
      assert.match(key.message, /\bother \(/);
      assert.doesNotMatch(key.message, /ops-unlogged/);

      const bob = { name: 'bob', keyless: { issuer: EMAIL_ISSUER, subject: 'bob@example.com' } };
      const v = f.verifier([
        { name: 'release', keyless: { issuer: RELEASE_ISSUER, subject: RELEASE_URI } },
        bob,
      ]);
      const identity = assertSignatureError(
        () =>
          v.verify(f.emailBlob, {
            artifact: ARTIFACT,
            allowedSigners: ['release', 'bob'],
            acceptedSigners: ['bob'],
          }),
        'IDENTITY_MISMATCH',
      );
      assert.match(identity.message, /\bbob: /);
      assert.doesNotMatch(identity.message, /release/);
    });

    it('requires tlog or timestamp evidence unless the key signer opted out', () => {
      const v = f.verifier();
      assertSignatureError(
        () => v.verify(f.keyBlobNoLog, { artifact: ARTIFACT, allowedSigners: ['ops'] }),
        'TIMESTAMP_MISSING',
      );
      const r = v.verify(f.keyBlobNoLog, { artifact: ARTIFACT, allowedSigners: ['ops-unlogged'] });
      assert.equal(r.signer, 'ops-unlogged');
      assert.deepEqual(r.evidence, []);
    });

    it('an opted-out key still fails on a tampered signature or artifact', () => {
      const v = f.verifier();
      assertSignatureError(
        () => v.verify(f.keyBlobNoLog, { artifact: Buffer.from('x'), allowedSigners: ['ops-unlogged'] }),
        'DIGEST_MISMATCH',
      );
      const b = clone(f.keyBlobNoLog);
      const sig = Buffer.from(b.messageSignature!.signature, 'base64');
      sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1;
      b.messageSignature!.signature = sig.toString('base64');
      assertSignatureError(
        () => v.verify(b, { artifact: ARTIFACT, allowedSigners: ['ops-unlogged'] }),
        'KEY_MISMATCH',
      );
    });

    it('verifies a key-signed DSSE bundle', () => {
      const r = f.verifier().verify(f.keyDsse, { allowedSigners: ['ops'] });
      assert.deepEqual(r.payload, STATEMENT);
    });

    it('a keyless bundle never satisfies a key signer, nor a key bundle a keyless one', () => {
      const v = f.verifier();
      assertSignatureError(
        () => v.verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['ops'] }),
        'IDENTITY_MISMATCH',
      );
      assertSignatureError(
        () => v.verify(f.keyBlob, { artifact: ARTIFACT, allowedSigners: ['release'] }),
        'KEY_MISMATCH',
      );
    });
  });

  describe('malformed input fails closed, coded', () => {
    const cases: [string, (b: SerializedBundle) => unknown][] = [
      ['not JSON', () => '{"mediaType": '],
      ['an array', () => []],
      [
        'an unknown mediaType version',
        (b) => ({ ...b, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=99.9' }),
      ],
      ['no content', (b) => ({ ...b, messageSignature: undefined })],
      [
        'a tlog body that is not JSON',
        (b) => {
          const c = clone(b);
          c.verificationMaterial.tlogEntries[0]!.canonicalizedBody =
            Buffer.from('not json').toString('base64');
          return c;
        },
      ],
      [
        'a tlog entry without logId',
        (b) => {
          const c = clone(b) as unknown as {
            verificationMaterial: { tlogEntries: Record<string, unknown>[] };
          };
          delete c.verificationMaterial.tlogEntries[0]!.logId;
          return c;
        },
      ],
      [
        'a certificate that is not DER',
        (b) => {
          const c = clone(b);
          const m = c.verificationMaterial;
          if (m.certificate) m.certificate.rawBytes = 'AAAA';
          if (m.x509CertificateChain) m.x509CertificateChain.certificates[0]!.rawBytes = 'AAAA';
          return c;
        },
      ],
    ];
    for (const [what, make] of cases) {
      it(`a bundle with ${what} is a SignatureError`, () => {
        assertSignatureError(
          () => f.verifier().verify(make(f.keylessBlob), { artifact: ARTIFACT, allowedSigners: ['release'] }),
          'BUNDLE_MALFORMED',
          'TLOG_INVALID',
          'CERTIFICATE_INVALID',
        );
      });
    }

    it('an allowed signer name that is not configured is SIGNER_UNKNOWN; none at all too', () => {
      assertSignatureError(
        () => f.verifier().verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: ['nobody'] }),
        'SIGNER_UNKNOWN',
      );
      assertSignatureError(
        () => f.verifier().verify(f.keylessBlob, { artifact: ARTIFACT, allowedSigners: [] }),
        'SIGNER_UNKNOWN',
      );
    });

    it('a signer with both or neither of keyless/key, or a key that is not PEM, is SIGNER_INVALID', () => {
      assertSignatureError(() => f.verifier([{ name: 'x' }]), 'SIGNER_INVALID');
      assertSignatureError(
        () => f.verifier([{ name: 'x', key: { publicKeyPem: 'nope', requireTransparencyLog: true } }]),
        'SIGNER_INVALID',
      );
    });
  });

  describe('trusted roots', () => {
    it('the embedded public-good root loads offline', () => {
      assert.match(embeddedPublicGoodRoot().source, /public-good/);
    });

    it('refuses a malformed root: not an object, unknown mediaType, missing validFor.start', () => {
      assertSignatureError(() => loadTrustedRoot('x'), 'TRUST_ROOT_INVALID');
      assertSignatureError(
        () => loadTrustedRoot({ ...f.mock.trustedRoot, mediaType: 'text/plain' }),
        'TRUST_ROOT_INVALID',
      );
      const noStart = clone(f.mock.trustedRoot) as {
        tlogs: { publicKey: { validFor: Record<string, unknown> } }[];
      };
      delete noStart.tlogs[0]!.publicKey.validFor.start;
      assertSignatureError(() => loadTrustedRoot(noStart), 'TRUST_ROOT_INVALID');
      const empty = { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' };
      assertSignatureError(() => loadTrustedRoot(empty), 'TRUST_ROOT_INVALID');
    });

    it('verifier material not produced by loadTrustedRoot is refused', () => {
      assertSignatureError(
        () => createBundleVerifier({ trustedRoot: { source: 'fake', root: {} }, signers: [] }),
        'TRUST_ROOT_INVALID',
      );
    });
  });

  it('uses EMAIL and issuer constants consistently (fixture sanity)', () => {
    assert.equal(
      f.verifier().verify(f.emailBlob, { artifact: ARTIFACT, allowedSigners: ['alice'] }).identity,
      `email:${EMAIL} (issuer ${EMAIL_ISSUER})`,
    );
  });
});
