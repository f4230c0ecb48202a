import { strict as assert } from 'node:assert';
import type { SerializedBundle } from '@sigstore/bundle';
import * as fc from 'fast-check';
import { SignatureError, type BundleVerifier } from '../../../policy-pack/supply-chain/sigstore';
import { ARTIFACT, clone, createFixtures, type Fixtures } from './fixtures';

/**
 * Property: changing any byte of a valid bundle's signature, payload (artifact or DSSE payload),
 * certificate or transparency-log entry never yields a successful verification, and always fails as a
 * coded SignatureError (never another exception). One exception, checked the other way: the name on a
 * checkpoint signature line is not signed, so renaming it still verifies (see inSignatureName).
 *
 * Bulk runs use key-signed bundles (~2 ms a verification); keyless bundles (~15 ms: certificate chain and
 * SCT) get fewer runs but cover certificate bytes. Total >= 5,000 mutations per run; fast-check picks a
 * fresh seed each run and prints it on failure for replay.
 */

/** A place in a bundle (or the artifact) that one mutation changes. */
type Target = {
  name: string;
  kind: 'base64' | 'digits' | 'text';
  get: (b: SerializedBundle) => string;
  set: (b: SerializedBundle, v: string) => void;
};

type Tlog = SerializedBundle['verificationMaterial']['tlogEntries'][number];

function tlogTargets(b: SerializedBundle): Target[] {
  const targets: Target[] = [];
  b.verificationMaterial.tlogEntries.forEach((entry, i) => {
    const e = (x: SerializedBundle): Tlog => x.verificationMaterial.tlogEntries[i]!;
    const field = (
      name: string,
      kind: Target['kind'],
      get: (t: Tlog) => string,
      set: (t: Tlog, v: string) => void,
    ): void => {
      targets.push({ name: `tlog[${i}].${name}`, kind, get: (x) => get(e(x)), set: (x, v) => set(e(x), v) });
    };
    field(
      'canonicalizedBody',
      'base64',
      (t) => t.canonicalizedBody,
      (t, v) => (t.canonicalizedBody = v),
    );
    field(
      'logIndex',
      'digits',
      (t) => t.logIndex,
      (t, v) => (t.logIndex = v),
    );
    field(
      'integratedTime',
      'digits',
      (t) => t.integratedTime,
      (t, v) => (t.integratedTime = v),
    );
    field(
      'logId.keyId',
      'base64',
      (t) => t.logId.keyId,
      (t, v) => (t.logId.keyId = v),
    );
    if (entry.inclusionPromise) {
      field(
        'inclusionPromise.signedEntryTimestamp',
        'base64',
        (t) => t.inclusionPromise!.signedEntryTimestamp,
        (t, v) => (t.inclusionPromise!.signedEntryTimestamp = v),
      );
    }
    const proof = entry.inclusionProof;
    if (proof) {
      field(
        'inclusionProof.rootHash',
        'base64',
        (t) => t.inclusionProof!.rootHash,
        (t, v) => (t.inclusionProof!.rootHash = v),
      );
      field(
        'inclusionProof.logIndex',
        'digits',
        (t) => t.inclusionProof!.logIndex,
        (t, v) => (t.inclusionProof!.logIndex = v),
      );
      field(
        'inclusionProof.treeSize',
        'digits',
        (t) => t.inclusionProof!.treeSize,
        (t, v) => (t.inclusionProof!.treeSize = v),
      );
      field(
        'inclusionProof.checkpoint',
        'text',
        (t) => t.inclusionProof!.checkpoint.envelope,
        (t, v) => (t.inclusionProof!.checkpoint.envelope = v),
      );
      (proof.hashes ?? []).forEach((_, h) => {
        field(
          `inclusionProof.hashes[${h}]`,
          'base64',
          (t) => t.inclusionProof!.hashes[h]!,
          (t, v) => (t.inclusionProof!.hashes[h] = v),
        );
      });
    }
  });
  return targets;
}

function contentTargets(b: SerializedBundle): Target[] {
  const targets: Target[] = [];
  if (b.messageSignature) {
    targets.push({
      name: 'messageSignature.signature',
      kind: 'base64',
      get: (x) => x.messageSignature!.signature,
      set: (x, v) => (x.messageSignature!.signature = v),
    });
  }
  if (b.dsseEnvelope) {
    targets.push(
      {
        name: 'dsse.signature',
        kind: 'base64',
        get: (x) => x.dsseEnvelope!.signatures[0]!.sig,
        set: (x, v) => (x.dsseEnvelope!.signatures[0]!.sig = v),
      },
      {
        name: 'dsse.payload',
        kind: 'base64',
        get: (x) => x.dsseEnvelope!.payload,
        set: (x, v) => (x.dsseEnvelope!.payload = v),
      },
      {
        name: 'dsse.payloadType',
        kind: 'text',
        get: (x) => x.dsseEnvelope!.payloadType,
        set: (x, v) => (x.dsseEnvelope!.payloadType = v),
      },
    );
  }
  const m = b.verificationMaterial;
  if (m.certificate) {
    targets.push({
      name: 'certificate',
      kind: 'base64',
      get: (x) => x.verificationMaterial.certificate!.rawBytes,
      set: (x, v) => (x.verificationMaterial.certificate!.rawBytes = v),
    });
  }
  m.x509CertificateChain?.certificates.forEach((_, i) => {
    targets.push({
      name: `x509CertificateChain[${i}]`,
      kind: 'base64',
      get: (x) => x.verificationMaterial.x509CertificateChain!.certificates[i]!.rawBytes,
      set: (x, v) => (x.verificationMaterial.x509CertificateChain!.certificates[i]!.rawBytes = v),
    });
  });
  return targets;
}

/** Change one byte (base64: of the decoded bytes; digits: to another digit; text: to another character). */
function mutate(value: string, kind: Target['kind'], position: number, delta: number): string {
  if (kind === 'base64') {
    const bytes = Buffer.from(value, 'base64');
    const i = position % bytes.length;
    bytes[i] = (bytes[i] ?? 0) ^ (1 + (delta % 255));
    return bytes.toString('base64');
  }
  const i = position % value.length;
  const c = value.charCodeAt(i);
  const next =
    kind === 'digits'
      ? String.fromCharCode(48 + ((c - 48 + 1 + (delta % 9)) % 10))
      : String.fromCharCode(32 + ((c - 32 + 1 + (delta % 94)) % 95));
  return value.slice(0, i) + next + value.slice(i + 1);
}

/**
 * True when index `i` of a checkpoint envelope is inside a signature line's name (`— <name> <sig>`). The
 * name is not signed and the key is found by the line's hint (as sigstore-go does, so that a private
 * Rekor naming its checkpoints after its pod verifies): changing it to other non-blank characters must
 * still verify, and that is checked instead of a failure.
 */
function inSignatureName(envelope: string, i: number): boolean {
  const block = envelope.indexOf('\n\n') + 2;
  if (i < block) return false;
  const lineStart = envelope.lastIndexOf('\n', i - 1) + 1;
  const nameStart = lineStart + 2; // after '— '
  const nameEnd = envelope.indexOf(' ', nameStart);
  return envelope.startsWith('\u2014 ', lineStart) && i >= nameStart && i < nameEnd;
}

interface Subject {
  label: string;
  bundle: SerializedBundle;
  signer: string;
  runs: number;
}

let total = 0;
/** Mutations that only renamed a checkpoint signature line (expected to verify). */
let renamed = 0;

function checkNeverVerifies(verifier: BundleVerifier, s: Subject): void {
  const isMessage = s.bundle.messageSignature !== undefined;
  // Fields the JSON omits (protobuf defaults such as a zero index) have no bytes to change.
  const targets = [...contentTargets(s.bundle), ...tlogTargets(s.bundle)].filter((t) => {
    const v: unknown = t.get(s.bundle);
    return typeof v === 'string' && v.length > 0;
  });
  // The artifact is the signed payload of a message signature: mutate it as well.
  const arbitrary = fc.record({
    target: fc.integer({ min: 0, max: targets.length - (isMessage ? 0 : 1) }),
    position: fc.nat({ max: 1_000_000 }),
    delta: fc.nat({ max: 1_000 }),
  });
  // Sanity: the unmutated bundle verifies, so every failure below is due to the mutation.
  assert.equal(
    verifier.verify(s.bundle, { artifact: ARTIFACT, allowedSigners: [s.signer] }).signer,
    s.signer,
  );
  fc.assert(
    fc.property(arbitrary, ({ target, position, delta }) => {
      total++;
      let bundle = s.bundle;
      let artifact = ARTIFACT;
      let what: string;
      let unsignedName = false;
      const t = targets[target];
      if (t) {
        bundle = clone(s.bundle);
        const before = t.get(bundle);
        const after = mutate(before, t.kind, position, delta);
        assert.notEqual(after, before);
        t.set(bundle, after);
        what = t.name;
        const i = position % before.length;
        unsignedName =
          t.name.endsWith('inclusionProof.checkpoint') && inSignatureName(before, i) && after[i] !== ' ';
      } else {
        artifact = Buffer.from(mutate(ARTIFACT.toString('base64'), 'base64', position, delta), 'base64');
        what = 'artifact';
      }
      if (unsignedName) {
        renamed++;
        assert.equal(verifier.verify(bundle, { artifact, allowedSigners: [s.signer] }).signer, s.signer);
        return true;
      }
      try {
        verifier.verify(bundle, { artifact, allowedSigners: [s.signer] });
      } catch (e) {
        if (e instanceof SignatureError) return true;
        throw new Error(`mutating ${what} raised ${String(e)} instead of a SignatureError`);
      }
      throw new Error(`mutating ${what} (position ${position}, delta ${delta}) still verified`);
    }),
    { numRuns: s.runs },
  );
}

describe('property: a mutated bundle never verifies', function () {
  let f: Fixtures;
  let started = 0;
  before(async () => {
    f = await createFixtures();
    started = Date.now();
  });
  after(async () => {
    await f?.mock.close();
    console.log(
      `    mutation property: ${total} mutations (${renamed} renaming a checkpoint signature line, which verify) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  const subjects = (): Subject[] => [
    { label: 'key message signature', bundle: f.keyBlob, signer: 'ops', runs: 1800 },
    { label: 'key DSSE', bundle: f.keyDsse, signer: 'ops', runs: 1800 },
    { label: 'keyless message signature', bundle: f.keylessBlob, signer: 'release', runs: 700 },
    { label: 'keyless DSSE', bundle: f.keylessDsse, signer: 'release', runs: 700 },
  ];
  for (const label of ['key message signature', 'key DSSE', 'keyless message signature', 'keyless DSSE']) {
    it(`${label}: signature, payload, certificate and tlog mutations all fail with a SignatureError`, () => {
      const s = subjects().find((x) => x.label === label)!;
      checkNeverVerifies(f.verifier(), s);
    });
  }

  it('ran at least 5,000 mutations', () => {
    assert.ok(total >= 5000, `only ${total} mutations ran`);
  });
});
