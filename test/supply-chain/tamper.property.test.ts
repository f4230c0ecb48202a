import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { parseReference } from '../../policy-pack/registry/reference';
import type { Attachments, CosignLayer, ReferrerBundle } from '../../policy-pack/registry/types';
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
 * Property: starting from a real, allowed image (5 pieces of evidence fetched back from the registry,
 * as referrer bundles or as cosign .sig/.att layers),
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

const CERT_ANNOTATION = 'dev.sigstore.cosign/certificate';
const SIG_ANNOTATION = 'dev.cosignproject.cosign/signature';
const SET_ANNOTATION = 'dev.sigstore.cosign/bundle';

function flipBase64(value: string, position: number, xor: number): string {
  const bytes = Buffer.from(value, 'base64');
  const i = position % bytes.length;
  bytes[i] = (bytes[i] ?? 0) ^ xor;
  return bytes.toString('base64');
}

function flipDigit(value: number | string, position: number, xor: number): number {
  const str = String(value);
  const i = position % str.length;
  return Number(str.slice(0, i) + String((Number(str[i]) + 1 + (xor % 9)) % 10) + str.slice(i + 1));
}

/** One byte of a cosign layer's signed material changed: annotations, payload or DSSE envelope. */
function mutateCosign(
  layer: CosignLayer,
  field: Field,
  position: number,
  xor: number,
): CosignLayer | undefined {
  const annotations = { ...layer.annotations };
  let payload = layer.payload;
  const isAttestation = (annotations[SIG_ANNOTATION] ?? '') === '';
  const envelope = isAttestation ? (JSON.parse(layer.payload.toString()) as Json) : undefined;
  const set = annotations[SET_ANNOTATION] ? (JSON.parse(annotations[SET_ANNOTATION]) as Json) : undefined;
  switch (field) {
    case 'signature':
      if (envelope) {
        const sig = (envelope.signatures as Json[])[0] as Json;
        sig.sig = flipBase64(String(sig.sig), position, xor);
      } else annotations[SIG_ANNOTATION] = flipBase64(annotations[SIG_ANNOTATION] ?? '', position, xor);
      break;
    case 'payload':
      if (envelope) envelope.payload = flipBase64(String(envelope.payload), position, xor);
      else {
        payload = Buffer.from(payload);
        const i = position % payload.length;
        payload[i] = (payload[i] ?? 0) ^ xor;
      }
      break;
    case 'certificate': {
      const pem = annotations[CERT_ANNOTATION];
      if (pem === undefined) return undefined;
      const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
      const flipped = flipBase64(b64, position, xor);
      annotations[CERT_ANNOTATION] =
        `-----BEGIN CERTIFICATE-----\n${flipped.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
      break;
    }
    case 'tlogBody':
    case 'tlogSet':
    case 'tlogIntegratedTime': {
      if (!set) return undefined;
      const body = set.Payload as Json;
      if (field === 'tlogBody') body.body = flipBase64(String(body.body), position, xor);
      if (field === 'tlogSet')
        set.SignedEntryTimestamp = flipBase64(String(set.SignedEntryTimestamp), position, xor);
      if (field === 'tlogIntegratedTime')
        body.integratedTime = flipDigit(body.integratedTime as number, position, xor);
      annotations[SET_ANNOTATION] = JSON.stringify(set);
      break;
    }
  }
  if (envelope) payload = Buffer.from(JSON.stringify(envelope));
  return { ...layer, annotations, payload };
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

const FIELDS: Field[] = ['signature', 'payload', 'certificate', 'tlogBody', 'tlogSet', 'tlogIntegratedTime'];

for (const format of ['referrer', 'cosign'] as const) {
  describe(`tampering property (${format}): one changed byte in signed material never allows an image`, function () {
    let world: World;
    let attachments: Attachments;
    let decide: (a: Attachments) => boolean;
    /** Every attached piece of evidence, as (list, index) pairs a mutation can target. */
    let pieces: ['bundles' | 'signatures' | 'attestations', number][];

    before(async function () {
      world = await startWorld();
      const p = await publish(world, format);
      const client = createRegistryClient({});
      const resolved = await client.resolve(p.ref);
      const digest = resolved.digest;
      const manifest = resolved.manifest.bytes;
      attachments = await client.attachments(parseReference(p.ref), digest);
      pieces = (['bundles', 'signatures', 'attestations'] as const).flatMap((list) =>
        attachments[list].map((_, i) => [list, i] as ['bundles' | 'signatures' | 'attestations', number]),
      );
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
      assert.equal(pieces.length, 5);
      assert.equal(decide(attachments), true);
    });

    it(`${RUNS} single-byte mutations of signature, payload, certificate and log entry are all blocked`, function () {
      this.timeout(0);
      let applied = 0;
      fc.assert(
        fc.property(
          fc.nat({ max: 4 }),
          fc.constantFrom<Field>(...FIELDS),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (which, field, position, xor) => {
            const [list, index] = pieces[which] as ['bundles' | 'signatures' | 'attestations', number];
            let changed: Attachments | undefined;
            if (list === 'bundles') {
              const original = attachments.bundles[index] as ReferrerBundle;
              const mutated = mutate(original.bundle, field, position, xor);
              if (mutated)
                changed = {
                  ...attachments,
                  bundles: attachments.bundles.map((b, i) => (i === index ? { ...b, bundle: mutated } : b)),
                };
            } else {
              const mutated = mutateCosign(attachments[list][index] as CosignLayer, field, position, xor);
              if (mutated)
                changed = {
                  ...attachments,
                  [list]: attachments[list].map((l, i) => (i === index ? mutated : l)),
                };
            }
            fc.pre(changed !== undefined);
            applied++;
            return !decide(changed as Attachments);
          },
        ),
        { numRuns: RUNS, seed: Number(process.env.TAMPER_SEED ?? Date.now() % 2 ** 31) },
      );
      assert.ok(applied >= RUNS, `only ${applied} mutations applied`);
    });
  });
}
