import { strict as assert } from 'node:assert';
import type { ResourceValidationArgs } from '@pulumi/policy';
import { buildPackConfig } from '../../policy-pack/config';
import { createAllowedRegistriesPolicy } from '../../policy-pack/policies/allowed-registries';
import { createImagesPinnedByDigestPolicy } from '../../policy-pack/policies/images-pinned-by-digest';
import {
  VerificationSessions,
  type ImageVerifierFactory,
} from '../../policy-pack/policies/support/verification';
import { createTrustedImagesPolicy } from '../../policy-pack/policies/trusted-images';
import type { ImageVerdict, TrustPolicy } from '../../policy-pack/supply-chain/types';
import { DIGEST, deployment } from './support/pack';

/**
 * The pack's own mapping from verdicts to diagnostics, in process. The verifier here is a stand-in on
 * purpose: these cases (a verifier that throws, a verdict that blocks without reasons, memoisation
 * across resources) cannot be produced by the real one. Real verification is in trusted-images.e2e.
 */

const TRUST_POLICY = {
  apiVersion: 'trustops.dev/v1alpha1',
  kind: 'TrustPolicy',
  signers: { ci: { keyless: { issuer: 'https://issuer.example', subject: 'ci@example.com' } } },
  images: [{ match: ['**'], signature: { signers: ['ci'] } }],
} as TrustPolicy;

interface Reported {
  message: string;
  enforcementLevel?: string;
}

async function run(
  factory: ImageVerifierFactory,
  images: string[],
  sessions = new VerificationSessions(factory),
): Promise<Reported[]> {
  const policy = createTrustedImagesPolicy({ sessions });
  const config = buildPackConfig({ trustPolicy: TRUST_POLICY })['trusted-images'] as Record<string, unknown>;
  const reported: Reported[] = [];
  const args = {
    type: 'kubernetes:apps/v1:Deployment',
    name: 'web',
    urn: 'urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::web',
    props: deployment(images),
    getConfig: () => ({ ...config }),
  } as unknown as ResourceValidationArgs;
  const validate = policy.validateResource as (
    a: ResourceValidationArgs,
    r: (m: unknown) => void,
  ) => Promise<void>;
  await validate(args, (m) => reported.push(typeof m === 'string' ? { message: m } : (m as Reported)));
  return reported;
}

const verdict = (image: string, v: Partial<ImageVerdict>): ImageVerdict => ({
  image,
  allowed: false,
  findings: [],
  satisfied: [],
  ...v,
});

describe('trusted-images mapping (in process)', function () {
  it('a verifier that throws blocks the image with INTERNAL_ERROR instead of failing the RPC', async function () {
    const r = await run(
      () => ({
        verify: () => {
          throw new TypeError('boom');
        },
      }),
      [`ghcr.io/acme/app@${DIGEST}`],
    );
    assert.equal(r.length, 1);
    assert.match(r[0]!.message, /^\[INTERNAL_ERROR\] .*found an internal error: boom/);
    assert.equal(r[0]!.enforcementLevel, undefined, 'reported at the policy level (mandatory)');
  });

  it('a factory that throws (bad settings) blocks every image and is not retried per image', async function () {
    let calls = 0;
    const r = await run(() => {
      calls++;
      throw new Error('cannot build');
    }, [`ghcr.io/acme/a@${DIGEST}`, `ghcr.io/acme/b@${DIGEST}`]);
    assert.deepEqual(
      r.map((x) => x.message.slice(0, 16)),
      ['[INTERNAL_ERROR]', '[INTERNAL_ERROR]'],
    );
    assert.equal(calls, 1);
  });

  it('a blocked verdict without findings still blocks (INTERNAL_ERROR), an allowed one reports nothing', async function () {
    const r = await run(
      () => ({ verify: (image) => Promise.resolve(verdict(image, { allowed: image.includes('/ok@') })) }),
      [`ghcr.io/acme/ok@${DIGEST}`, `ghcr.io/acme/bad@${DIGEST}`],
    );
    assert.equal(r.length, 1);
    assert.match(r[0]!.message, /^\[INTERNAL_ERROR\] .*image "ghcr\.io\/acme\/bad@/);
  });

  it('each image is verified once per run, however many resources and policies use it', async function () {
    const calls: string[] = [];
    const factory: ImageVerifierFactory = () => ({
      verify: (image) => {
        calls.push(image);
        return Promise.resolve(verdict(image, { allowed: true, digest: DIGEST }));
      },
    });
    const sessions = new VerificationSessions(factory);
    const image = 'ghcr.io/acme/app:1';
    for (let i = 0; i < 5; i++) assert.deepEqual(await run(factory, [image, image], sessions), []);
    // The remediation shares the session (same settings): it pins without verifying again.
    const pin = createImagesPinnedByDigestPolicy({ sessions });
    const config = buildPackConfig({ trustPolicy: TRUST_POLICY })['images-pinned-by-digest'] as Record<
      string,
      unknown
    >;
    const remediated = (await pin.remediateResource!({
      type: 'kubernetes:apps/v1:Deployment',
      name: 'web',
      props: deployment([image]),
      getConfig: () => ({ ...config }),
    } as unknown as ResourceValidationArgs)) as ReturnType<typeof deployment>;
    assert.match(JSON.stringify(remediated), new RegExp(`ghcr\\.io/acme/app@${DIGEST}`));
    assert.deepEqual(calls, [image]);
  });

  it('buildPackConfig gives the same notImageProperties to every policy that reads workload images', () => {
    const notImageProperties = [
      { type: 'kubernetes:compute.gcp.upbound.io/v1beta1:Instance', path: 'spec.forProvider.image' },
    ];
    const config = buildPackConfig({ trustPolicy: TRUST_POLICY, notImageProperties }) as Record<
      string,
      unknown
    >;
    for (const name of ['trusted-images', 'images-pinned-by-digest', 'allowed-registries']) {
      assert.deepEqual(
        (config[name] as { notImageProperties?: unknown }).notImageProperties,
        notImageProperties,
        name,
      );
    }
    const none = buildPackConfig({ trustPolicy: TRUST_POLICY }) as Record<string, unknown>;
    assert.ok(!JSON.stringify(none).includes('notImageProperties'));
  });

  it('a config the engine did not validate still cannot weaken a policy: CONFIG_INVALID blocks', async function () {
    const reported: Reported[] = [];
    const policy = createAllowedRegistriesPolicy();
    const validate = policy.validateResource as (a: ResourceValidationArgs, r: (m: unknown) => void) => void;
    validate(
      {
        type: 'kubernetes:apps/v1:Deployment',
        name: 'web',
        props: deployment([`ghcr.io/acme/app@${DIGEST}`]),
        getConfig: () => ({ allowedPrefixes: 'ghcr.io' }),
      } as unknown as ResourceValidationArgs,
      (m) => reported.push(m as Reported),
    );
    assert.deepEqual(
      reported.map((r) => r.message.slice(0, 16)),
      ['[CONFIG_INVALID]'],
    );
  });

  it('a misspelt config key (trustPolcy) is refused with its path, not read as "no trust policy"', async function () {
    const reported: Reported[] = [];
    const policy = createTrustedImagesPolicy({
      sessions: new VerificationSessions(() => ({ verify: () => Promise.reject(new Error('not reached')) })),
    });
    const validate = policy.validateResource as (
      a: ResourceValidationArgs,
      r: (m: unknown) => void,
    ) => Promise<void>;
    await validate(
      {
        type: 'kubernetes:apps/v1:Deployment',
        name: 'web',
        props: deployment([`ghcr.io/acme/app@${DIGEST}`]),
        getConfig: () => ({ trustPolcy: TRUST_POLICY }),
      } as unknown as ResourceValidationArgs,
      (m) => reported.push(m as Reported),
    );
    assert.equal(reported.length, 1);
    assert.match(
      reported[0]!.message,
      /^\[CONFIG_INVALID\] .*\/trustPolcy: unknown key \(known keys: trustPolicy, /,
    );
    assert.ok(!reported[0]!.message.includes('TRUST_POLICY_MISSING'));
  });

  it('each finding names the image reference once and its digest once; an exemption reads WAIVED, advisory', async function () {
    const image = `ghcr.io/acme/app@${DIGEST}`;
    const finding = {
      requirement: 'signature' as const,
      code: 'SIGNATURE_MISSING' as const,
      expected: `a valid signature of ${DIGEST} by one of: ci`,
      found: 'no signature attached',
      hint: 'Sign it.',
    };
    const blocked = await run(
      () => ({ verify: (i) => Promise.resolve(verdict(i, { digest: DIGEST, findings: [finding] })) }),
      [image],
    );
    assert.equal(blocked.length, 1);
    const message = blocked[0]!.message;
    assert.equal(message.split(image).length - 1, 1, message);
    assert.equal(message.split(DIGEST).length - 1, 1, message);
    assert.match(message, /expected a valid signature of this digest by one of: ci/);

    const byTag = await run(
      () => ({ verify: (i) => Promise.resolve(verdict(i, { digest: DIGEST, findings: [finding] })) }),
      ['ghcr.io/acme/app:1'],
    );
    assert.match(byTag[0]!.message, new RegExp(`image "ghcr\\.io/acme/app:1" \\(${DIGEST}\\)`));
    assert.equal(byTag[0]!.message.split(DIGEST).length - 1, 1);

    const exemption = { image, reason: 'vendor image', ticket: 'SEC-123', expires: '2999-12-31' };
    const waived = await run(
      () => ({
        verify: (i) =>
          Promise.resolve(verdict(i, { allowed: true, digest: DIGEST, findings: [finding], exemption })),
      }),
      [image],
    );
    assert.equal(waived.length, 1);
    assert.equal(waived[0]!.enforcementLevel, 'advisory');
    assert.match(
      waived[0]!.message,
      /^\[EXEMPTION_IN_FORCE\] .*WAIVED \(exemption SEC-123, expires 2999-12-31\).*waives signature \(SIGNATURE_MISSING\)/,
    );
    assert.ok(!waived[0]!.message.includes('FAIL'));
  });
});
