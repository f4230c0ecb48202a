import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startAnalyzer, type AnalyzerSession } from '../../cli/analyzer';
import { buildImage } from '../../cli/oci/image';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { buildPackConfig } from '../../policy-pack/config';
import { PolicyError } from '../../policy-pack/supply-chain/policy-error';
import type { ImageVerdict, TrustPolicy } from '../../policy-pack/supply-chain/types';
import { runInProcess } from '../conformance/run-cli';
import { deployment, PACK_DIR, summary } from '../policy-pack/support/pack';
import { startRegistry, type RunningRegistry } from '../support/registry';
import {
  attachEvidence,
  happyEvidence,
  type AttachmentFormat,
  type Evidence,
  type World,
  startWorld,
} from './support/world';

/**
 * Signatures and attestations stored in another repository (cosign's COSIGN_REPOSITORY, Kyverno's
 * attestor `repository`; Kyverno publishes its images' signatures in ghcr.io/kyverno/signatures): a rule
 * names it with `repository`, and the verifier, `trustops verify` and the pack read the evidence there,
 * and only there. Evidence is signed by the real libraries and pushed to a real registry.
 */

const SIGNATURE_ONLY: Evidence = { signatures: happyEvidence().signatures, attestations: [] };

function rules(host: string, repository?: string): string {
  return `images:
  - name: stored-elsewhere
    match: ["${host}/vendor/**"]
${repository ? `    repository: ${repository}\n` : ''}    signature: { signers: [release] }
    sbom: { signers: [release] }
    provenance: { signers: [release] }
`;
}

/** Pushes a fresh image to `vendor/app` and signs it, storing the evidence in `storeRepo` of `store`. */
async function publishStoredElsewhere(
  world: World,
  format: AttachmentFormat,
  storeRepo: string,
  opts: { store?: RunningRegistry; evidence?: Evidence; forDigest?: string } = {},
): Promise<{ ref: string; digest: string }> {
  const image = buildImage({ seed: `elsewhere-${format}-${Date.now()}-${Math.random()}` });
  const d = await pushImage(world.pusher, 'vendor/app', image, `t${Date.now()}`);
  const subject = { ...d, manifest: image.manifest };
  const target = opts.store
    ? ({ ...world, registry: opts.store, pusher: new RegistryPusher(opts.store.url) } as World)
    : world;
  const evidence = opts.evidence ?? {
    ...happyEvidence(),
    attestations: happyEvidence().attestations.slice(0, 2),
  };
  if (opts.forDigest) {
    // evidence made for another digest, stored under this image's digest: a replay
    const other = buildImage({ seed: `other-${Math.random()}` });
    await pushImage(world.pusher, 'vendor/other', other);
    const replayed: Evidence = {
      signatures: evidence.signatures.map((s) => ({
        ...s,
        forImage: { digest: other.digest, manifest: other.manifest },
      })),
      attestations: evidence.attestations.map((a) => ({ ...a, subjectDigest: other.digest })),
    };
    await attachEvidence(target, format, storeRepo, subject, replayed);
  } else {
    await attachEvidence(target, format, storeRepo, subject, evidence);
  }
  return { ref: `${world.registry.host}/vendor/app@${image.digest}`, digest: image.digest };
}

describe('signatures and attestations stored in another repository (rule `repository`)', function () {
  let world: World;
  let store: RunningRegistry;
  before(async () => {
    [world, store] = await Promise.all([startWorld(), startRegistry()]);
  });
  after(async () => {
    await Promise.all([world?.stop(), store?.stop()]);
  });

  const policy = (repository?: string) => world.policy({ images: rules(world.registry.host, repository) });

  describe('the trust policy', () => {
    it('normalises the repository as image references are normalised', () => {
      const p = world.policy({ images: rules(world.registry.host, 'GHCR.io/kyverno/signatures') });
      assert.deepEqual(p.ruleFor(`${world.registry.host}/vendor/app`)?.storedIn, {
        registry: 'ghcr.io',
        repository: 'kyverno/signatures',
      });
      const hub = world.policy({ images: rules(world.registry.host, 'kyverno/signatures') });
      assert.deepEqual(hub.ruleFor(`${world.registry.host}/vendor/app`)?.storedIn, {
        registry: 'docker.io',
        repository: 'kyverno/signatures',
      });
      assert.equal(policy().ruleFor(`${world.registry.host}/vendor/app`)?.storedIn, undefined);
    });

    it('refuses an image (tag or digest) or a malformed name where a repository belongs', () => {
      for (const bad of [
        'ghcr.io/kyverno/signatures:latest',
        `ghcr.io/kyverno/signatures@sha256:${'a'.repeat(64)}`,
        'kyverno/signatures:v1',
        'https://ghcr.io/kyverno/signatures',
        'ghcr.io/Kyverno/Signatures',
      ]) {
        assert.throws(
          () => world.policy({ images: rules(world.registry.host, JSON.stringify(bad)) }),
          (e: unknown) =>
            e instanceof PolicyError &&
            e.problems.some((p) => p.code === 'POLICY_BAD_REPOSITORY' && p.path === '/images/0/repository'),
          bad,
        );
      }
      assert.throws(
        () => world.policy({ images: rules(world.registry.host, '"ghcr.io/kyverno/sig natures"') }),
        (e: unknown) => e instanceof PolicyError && e.code === 'POLICY_SCHEMA',
      );
    });
  });

  for (const format of ['cosign', 'referrer'] as AttachmentFormat[]) {
    describe(`the verifier (${format})`, () => {
      it('reads the evidence from the rule repository, and only there', async () => {
        const p = await publishStoredElsewhere(world, format, 'vendor/signatures');
        const v = await world.verify(p.ref, policy(`${world.registry.host}/vendor/signatures`));
        assert.equal(v.allowed, true, JSON.stringify(v.findings, null, 1));
        assert.deepEqual(
          v.satisfied.map((s) => s.requirement),
          ['signature', 'sbom', 'provenance'],
        );
        // Without `repository` the same image is unsigned: evidence elsewhere is never looked for.
        const without = await world.verify(p.ref, policy());
        assert.deepEqual(
          without.findings.map((f) => f.code),
          ['SIGNATURE_MISSING', 'SBOM_MISSING', 'PROVENANCE_MISSING'],
        );
      });

      it('evidence beside the image does not count when the rule names another repository; the finding says where it looked', async () => {
        const p = await publishStoredElsewhere(world, format, 'vendor/app');
        const v = await world.verify(p.ref, policy(`${world.registry.host}/vendor/signatures`));
        const f = v.findings.find((x) => x.requirement === 'signature');
        assert.equal(f?.code, 'SIGNATURE_MISSING');
        assert.match(
          f.found,
          new RegExp(
            `no signature attached in ${world.registry.host}/vendor/signatures \\(the rule's repository`,
          ),
        );
      });

      it('evidence in the rule repository made for another digest is a replay (DIGEST_MISMATCH)', async () => {
        const p = await publishStoredElsewhere(world, format, 'vendor/signatures', { forDigest: 'other' });
        const v = await world.verify(p.ref, policy(`${world.registry.host}/vendor/signatures`));
        assert.equal(v.allowed, false);
        assert.equal(v.findings.find((x) => x.requirement === 'signature')?.code, 'DIGEST_MISMATCH');
      });
    });
  }

  it('the repository may be in another registry', async () => {
    const p = await publishStoredElsewhere(world, 'cosign', 'acme/signatures', {
      store,
      evidence: SIGNATURE_ONLY,
    });
    const signatureOnly = world.policy({
      images: `images:
  - match: ["${world.registry.host}/vendor/**"]
    repository: ${store.host}/acme/signatures
    signature: { signers: [release] }
`,
    });
    const v = await world.verify(p.ref, signatureOnly);
    assert.equal(v.allowed, true, JSON.stringify(v.findings, null, 1));
  });

  it('trustops verify honours it (exit 0 with the repository, 1 without)', async () => {
    const p = await publishStoredElsewhere(world, 'referrer', 'vendor/signatures');
    const file = (name: string, repository?: string): string => {
      const f = path.join(world.dir, name);
      fs.writeFileSync(
        f,
        world.policyYaml({
          images: rules(world.registry.host, repository),
          extra: 'trustedRoot: { file: ./trusted_root.json }\n',
        }),
      );
      return f;
    };
    const withRepo = await runInProcess([
      'verify',
      p.ref,
      '--policy',
      file('stored-elsewhere.yaml', `${world.registry.host}/vendor/signatures`),
      '--json',
    ]);
    assert.equal(withRepo.exitCode, 0, withRepo.stdout + withRepo.stderr);
    // `verify --json` prints a VerifyReport: one verdict per image
    assert.equal((JSON.parse(withRepo.stdout) as { verdicts: ImageVerdict[] }).verdicts[0]!.allowed, true);
    const withoutRepo = await runInProcess(['verify', p.ref, '--policy', file('beside.yaml'), '--json']);
    assert.equal(withoutRepo.exitCode, 1, withoutRepo.stderr);
  });

  describe('the pack (analyzer protocol)', () => {
    let analyzer: AnalyzerSession;
    before(async () => {
      analyzer = await startAnalyzer({ packDir: PACK_DIR });
    });
    after(async () => {
      await analyzer?.close();
    });

    it('honours it: no violation with the repository, the missing evidence without', async () => {
      const p = await publishStoredElsewhere(world, 'cosign', 'vendor/signatures');
      const configure = (repository?: string) =>
        analyzer.configure(
          buildPackConfig({
            trustPolicy: parseYaml(
              world.policyYaml({
                images: rules(world.registry.host, repository),
                extra: 'trustedRoot:\n  file: ./trusted_root.json\n',
              }),
            ) as TrustPolicy,
            trustPolicyBaseDir: world.dir,
            allowedPrefixes: [world.registry.host],
          }),
        );
      const workload = {
        type: 'kubernetes:apps/v1:Deployment',
        name: 'vendor',
        properties: deployment([p.ref]),
      };
      await configure(`${world.registry.host}/vendor/signatures`);
      assert.deepEqual(summary(await analyzer.analyze(workload)), []);
      await configure();
      assert.deepEqual(summary(await analyzer.analyze(workload)), [
        'trusted-images mandatory PROVENANCE_MISSING',
        'trusted-images mandatory SBOM_MISSING',
        'trusted-images mandatory SIGNATURE_MISSING',
      ]);
    });
  });
});
