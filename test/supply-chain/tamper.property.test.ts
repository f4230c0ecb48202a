import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { parseReference } from '../../policy-pack/registry/reference';
import type { Attachments, ReferrerBundle } from '../../policy-pack/registry/types';
import { EvidenceCollector } from '../../policy-pack/supply-chain/evidence';
import { RuleEvaluator } from '../../policy-pack/supply-chain/rule-evaluation';
import { evidenceKindOf, signerOrderFor } from '../../policy-pack/supply-chain/signer-order';
import {
  createBundleVerifier,
  loadTrustedRoot,
  type BundleVerifier,
  type VerifyOptions,
} from '../../policy-pack/supply-chain/sigstore';
import type { MatchedRule } from '../../policy-pack/supply-chain/trust-policy';
import { publish, startWorld, type World } from './support/world';

/**
 * Property: starting from a real, allowed image (5 Sigstore bundles fetched back from the registry),
 * changing any one byte of a signature, a DSSE payload, a certificate or a transparency-log entry
 * never yields "allowed". Mutations are applied to the decoded bytes of those fields, so every run
 * reaches the cryptography rather than a JSON parse error.
 */

const RUNS = Number(process.env.TAMPER_RUNS ?? 5000);

type Json = Record<string, unknown>;
type Field = 'signature' | 'payload' | 'certificate' | 'tlogBody' | 'tlogSet' | 'tlogIntegratedTime';

/** The base64 fields of a bundle a mutation may target, as [parent object, key] pairs. */
function targets(bundle: Json, field: Field): [Json, string][] {
  const vm = bundle.verificationMaterial as Json;
  const dsse = bundle.dsseEnvelope as Json | undefined;
  const ms = bundle.messageSignature as Json | undefined;
  const tlog = ((vm.tlogEntries as Json[] | undefined) ?? [])[0];
  switch (field) {
    case 'signature':
      return dsse ? [[(dsse.signatures as Json[])[0] as Json, 'sig']] : ms ? [[ms, 'signature']] : [];
    case 'payload':
      return dsse ? [[dsse, 'payload']] : ms ? [[ms.messageDigest as Json, 'digest']] : [];
    case 'certificate': {
      const cert = vm.certificate as Json | undefined;
      const chain = (vm.x509CertificateChain as Json | undefined)?.certificates as Json[] | undefined;
      return cert ? [[cert, 'rawBytes']] : chain?.[0] ? [[chain[0], 'rawBytes']] : [];
    }
    case 'tlogBody':
      return tlog ? [[tlog, 'canonicalizedBody']] : [];
    case 'tlogSet':
      return tlog?.inclusionPromise ? [[tlog.inclusionPromise as Json, 'signedEntryTimestamp']] : [];
    case 'tlogIntegratedTime':
      return tlog ? [[tlog, 'integratedTime']] : [];
  }
}

function mutate(bundleBytes: Buffer, field: Field, position: number, xor: number): Buffer | undefined {
  const bundle = JSON.parse(bundleBytes.toString()) as Json;
  const [target] = targets(bundle, field);
  if (target === undefined) return undefined;
  const [obj, key] = target;
  if (key === 'integratedTime') {
    // a decimal string: change one digit
    const s = String(obj[key]);
    const i = position % s.length;
    const digit = (Number(s[i]) + 1 + (xor % 9)) % 10;
    obj[key] = s.slice(0, i) + String(digit) + s.slice(i + 1);
  } else {
    const bytes = Buffer.from(String(obj[key]), 'base64');
    const i = position % bytes.length;
    bytes[i] = (bytes[i] ?? 0) ^ xor;
    obj[key] = bytes.toString('base64');
  }
  return Buffer.from(JSON.stringify(bundle));
}

/** Verifications of unchanged bundles are remembered so each run pays only for the mutated one. */
function memoised(inner: BundleVerifier): BundleVerifier {
  const memo = new Map<string, ReturnType<BundleVerifier['verify']> | Error>();
  return {
    verify(bundle: unknown, opts: VerifyOptions) {
      const key = `${JSON.stringify(bundle)}|${opts.artifact?.toString('base64') ?? ''}|${opts.allowedSigners.join()}`;
      let r = memo.get(key);
      if (r === undefined) {
        try {
          r = inner.verify(bundle, opts);
        } catch (e) {
          r = e as Error;
        }
        if (memo.size < 64) memo.set(key, r);
      }
      if (r instanceof Error) throw r;
      return r;
    },
  };
}

describe('tampering property: one changed byte in signed material never allows an image', function () {
  let world: World;
  let attachments: Attachments;
  let manifest: Buffer;
  let digest: string;
  let decide: (a: Attachments) => boolean;

  before(async function () {
    world = await startWorld();
    const p = await publish(world, 'referrer');
    const client = createRegistryClient({});
    const resolved = await client.resolve(p.ref);
    digest = resolved.digest;
    manifest = resolved.manifest.bytes;
    attachments = await client.attachments(parseReference(p.ref), digest);
    const policy = world.policy();
    const rule = policy.ruleFor(`${world.registry.host}/acme/app`) as MatchedRule;
    const verifier = memoised(
      createBundleVerifier({
        trustedRoot: loadTrustedRoot(world.mock.trustedRoot),
        signers: Object.values(policy.resolvedSigners),
      }),
    );
    const collector = new EvidenceCollector(verifier, signerOrderFor(rule.rule), evidenceKindOf);
    decide = (a) =>
      new RuleEvaluator(rule, collector.collect({ digest, manifest, attachments: a })).evaluate().findings
        .length === 0;
  });

  after(async function () {
    await world?.stop();
  });

  it('the untouched evidence is allowed (the property starts from a real pass)', function () {
    assert.equal(attachments.bundles.length, 5);
    assert.equal(decide(attachments), true);
  });

  it(`${RUNS} single-byte mutations of signature, payload, certificate and log entry are all blocked`, function () {
    this.timeout(0);
    let applied = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: attachments.bundles.length - 1 }),
        fc.constantFrom<Field>(
          'signature',
          'payload',
          'certificate',
          'tlogBody',
          'tlogSet',
          'tlogIntegratedTime',
        ),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (which, field, position, xor) => {
          const original = attachments.bundles[which] as ReferrerBundle;
          const mutated = mutate(original.bundle, field, position, xor);
          fc.pre(mutated !== undefined);
          applied++;
          const bundles = attachments.bundles.map((b, i) =>
            i === which ? { ...b, bundle: mutated as Buffer } : b,
          );
          return !decide({ ...attachments, bundles });
        },
      ),
      { numRuns: RUNS, seed: Number(process.env.TAMPER_SEED ?? Date.now() % 2 ** 31) },
    );
    assert.ok(applied >= RUNS * 0.9, `only ${applied} mutations applied`);
  });
});
