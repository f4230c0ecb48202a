import { strict as assert } from 'node:assert';
import { RegistryPusher } from '../../cli/oci/push';
import { createKeyPair, type KeyPair } from '../../cli/oci/sign-key';
import { createImageVerifier } from '../../policy-pack/image-verifier';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { loadTrustedRoot } from '../../policy-pack/supply-chain/sigstore';
import { parseTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { ImageVerdict, SignerSpec } from '../../policy-pack/supply-chain/types';
import { startRegistry, type RunningRegistry } from './registry';
import { slsaV1 } from '../supply-chain/support/world';
import { publishSignedImage } from './signed-image';
import { startSigstoreMock, type SigstoreMock } from './sigstore-mock';

const SLSA = 'https://slsa.dev/provenance/v1';
const SIGNER_EMAIL = 'ci@example.com';

/**
 * The test bed's happy path is the product's happy path: an image made by publishSignedImage, in either
 * attachment format and with either kind of signer, satisfies a trust policy that trusts its signer,
 * verified by the pack's own verifier against a real registry. Without this, fixtures could drift into a
 * shape the product rejects and every negative test built on them would prove nothing.
 */
describe('test bed: publishSignedImage output verifies with the product', () => {
  let reg: RunningRegistry;
  let mock: SigstoreMock;
  let key: KeyPair;
  before(async () => {
    [reg, mock] = await Promise.all([startRegistry(), startSigstoreMock()]);
    key = createKeyPair();
  });
  after(async () => {
    await reg?.stop();
    await mock?.close();
  });

  const verify = (signer: SignerSpec, image: string): Promise<ImageVerdict> => {
    const policy = parseTrustPolicy(
      {
        apiVersion: 'trustops.dev/v1alpha1',
        kind: 'TrustPolicy',
        signers: { ci: signer },
        images: [
          {
            name: 'apps',
            match: [`${reg.host}/apps/**`],
            signature: { signers: ['ci'] },
            provenance: { signers: ['ci'] },
          },
        ],
      },
      { baseDir: process.cwd() },
    );
    return createImageVerifier({
      policy,
      registry: createRegistryClient({}),
      trustedRoot: loadTrustedRoot(mock.trustedRoot, 'sigstore mock'),
    }).verify(image);
  };

  /** No finding, and both requirements met by the policy's one signer. */
  const assertAllowedBySigner = (verdict: ImageVerdict): void => {
    assert.deepEqual(verdict.findings, []);
    assert.equal(verdict.allowed, true);
    assert.deepEqual(
      verdict.satisfied.map((s) => [s.requirement, s.by]),
      [
        ['signature', ['ci']],
        ['provenance', ['ci']],
      ],
    );
  };

  const FORMATS: Record<string, ('cosign' | 'referrer')[]> = {
    cosign: ['cosign'],
    referrer: ['referrer'],
    'both formats': ['cosign', 'referrer'],
  };
  for (const [format, formats] of Object.entries(FORMATS)) {
    it(`keyless, ${format}: allowed, signature and provenance satisfied by the signer`, async () => {
      const signed = await publishSignedImage({
        target: new RegistryPusher(reg.url),
        host: reg.host,
        repo: `apps/keyless-${formats.join('-')}`,
        mock,
        identity: { email: SIGNER_EMAIL },
        formats,
        attestations: [{ predicateType: SLSA, predicate: slsaV1() }],
      });
      const verdict = await verify(
        { keyless: { issuer: 'https://oauth2.sigstore.dev/auth', subject: SIGNER_EMAIL } },
        signed.reference,
      );
      assertAllowedBySigner(verdict);
    });

    it(`key with a Rekor entry, ${format}: allowed, signature and provenance satisfied by the key`, async () => {
      const signed = await publishSignedImage({
        target: new RegistryPusher(reg.url),
        host: reg.host,
        repo: `apps/key-${formats.join('-')}`,
        key,
        mock,
        formats,
        attestations: [{ predicateType: SLSA, predicate: slsaV1() }],
      });
      const verdict = await verify({ key: { publicKey: key.publicKeyPem } }, signed.reference);
      assertAllowedBySigner(verdict);
    });
  }

  it('a key the policy does not trust is still refused (the happy path is not a free pass)', async () => {
    const signed = await publishSignedImage({
      target: new RegistryPusher(reg.url),
      host: reg.host,
      repo: 'apps/stranger',
      key: createKeyPair(),
      mock,
      attestations: [{ predicateType: SLSA, predicate: slsaV1() }],
    });
    const verdict = await verify({ key: { publicKey: key.publicKeyPem } }, signed.reference);
    assert.equal(verdict.allowed, false);
    assert.deepEqual(
      verdict.findings.map((f) => [f.requirement, f.code]),
      [
        ['signature', 'SIGNER_UNTRUSTED'],
        ['provenance', 'SIGNER_UNTRUSTED'],
      ],
    );
  });
});
