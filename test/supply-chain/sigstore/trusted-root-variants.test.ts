import { strict as assert } from 'node:assert';
import type { SerializedBundle } from '@sigstore/bundle';
import { initializeTLog } from '@sigstore/mock';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { signBlobWithKey } from '../../../cli/oci/sign-key';
import { createBundleVerifier, loadTrustedRoot } from '../../../policy-pack/supply-chain/sigstore';
import { startSigstoreMock, type SigstoreMock } from '../../support/sigstore-mock';
import { assertSignatureError } from './assert-signature-error';
import {
  ARTIFACT,
  clone,
  createFixtures,
  RELEASE_ISSUER,
  RELEASE_URI,
  standardSigners,
  type Fixtures,
} from './fixtures';

/**
 * Trusted roots and checkpoints as the reference clients (sigstore-js, sigstore-go) read them, on bundles
 * made by the real libraries against @sigstore/mock; every acceptance has a negative twin made by
 * changing one thing of a good root or bundle.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- trusted-root JSON

const RELEASE = { issuer: RELEASE_ISSUER, uri: RELEASE_URI };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** When the mock logged the bundle (its frozen clock): the instant every validity window is judged at. */
function signedAt(b: SerializedBundle): number {
  return Number(b.verificationMaterial.tlogEntries[0]!.integratedTime) * 1000;
}

describe('trusted roots and checkpoints, as the reference clients read them', function () {
  let f: Fixtures;
  let other: SigstoreMock;
  let tsaMock: SigstoreMock;
  let privateRekor: SigstoreMock;
  before(async () => {
    [f, other, tsaMock, privateRekor] = await Promise.all([
      createFixtures(),
      startSigstoreMock(),
      startSigstoreMock({ timestamp: true }),
      startSigstoreMock({ rekorName: 'rekor-00001-deployment-5b9f7c4d8-x2k9q' }),
    ]);
  });
  after(async () => {
    await Promise.all([f?.mock.close(), other?.close(), tsaMock?.close(), privateRekor?.close()]);
  });

  /** Verify `bundle` as `signer` under a trusted root made from `root`. */
  function verifyUnder(
    root: Json,
    bundle: SerializedBundle,
    signer: 'release' | 'ops' = 'release',
  ): string[] {
    const verifier = createBundleVerifier({
      trustedRoot: loadTrustedRoot(root),
      signers: standardSigners(f),
    });
    return verifier.verify(bundle, { artifact: ARTIFACT, allowedSigners: [signer] }).evidence;
  }

  describe('log keys (tlog, CT log)', () => {
    it('a key without validFor at all is valid at any time (sigstore-js test roots, older roots)', () => {
      const root = clone(f.mock.trustedRoot) as Json;
      delete root.tlogs[0].publicKey.validFor;
      delete root.ctlogs[0].publicKey.validFor;
      assert.deepEqual(verifyUnder(root, f.keylessBlob), ['tlog']);
      assert.deepEqual(verifyUnder(root, f.keyBlob, 'ops'), ['tlog']);
    });

    it('a validFor without its required start is refused, for tlogs and CT logs alike', () => {
      const end = iso(signedAt(f.keylessBlob) + 3_600_000);
      for (const kind of ['tlogs', 'ctlogs']) {
        for (const validFor of [{}, { end }]) {
          const root = clone(f.mock.trustedRoot) as Json;
          root[kind][0].publicKey.validFor = validFor;
          assertSignatureError(() => loadTrustedRoot(root), 'TRUST_ROOT_INVALID');
        }
      }
    });

    it('a missing end is open-ended; an end after signing is honoured', () => {
      const root = clone(f.mock.trustedRoot) as Json;
      assert.equal(root.tlogs[0].publicKey.validFor.end, undefined);
      assert.deepEqual(verifyUnder(root, f.keylessBlob), ['tlog']);
      root.tlogs[0].publicKey.validFor.end = iso(signedAt(f.keylessBlob) + 60_000);
      root.ctlogs[0].publicKey.validFor.end = iso(signedAt(f.keylessBlob) + 60_000);
      assert.deepEqual(verifyUnder(root, f.keylessBlob), ['tlog']);
    });

    it('a tlog key outside its validity window at the entry time fails (ended before, or started after)', () => {
      const t = signedAt(f.keylessBlob);
      for (const validFor of [
        { start: iso(t - 3_600_000), end: iso(t - 1_000) },
        { start: iso(t + 1_000) },
      ]) {
        const root = clone(f.mock.trustedRoot) as Json;
        root.tlogs[0].publicKey.validFor = validFor;
        assertSignatureError(() => verifyUnder(root, f.keylessBlob), 'TLOG_INVALID');
        assertSignatureError(() => verifyUnder(root, f.keyBlob, 'ops'), 'TLOG_INVALID', 'KEY_MISMATCH');
      }
    });

    it('a CT log key outside its validity window at the SCT time fails', () => {
      const t = signedAt(f.keylessBlob);
      const root = clone(f.mock.trustedRoot) as Json;
      root.ctlogs[0].publicKey.validFor = { start: iso(t - 3_600_000), end: iso(t - 1_000) };
      assertSignatureError(() => verifyUnder(root, f.keylessBlob), 'CERTIFICATE_INVALID');
    });
  });

  describe('certificate and timestamp authorities', () => {
    it('a Fulcio CA without validFor is bounded by its certificates only', () => {
      const root = clone(f.mock.trustedRoot) as Json;
      delete root.certificateAuthorities[0].validFor;
      assert.deepEqual(verifyUnder(root, f.keylessBlob), ['tlog']);
      root.certificateAuthorities[0].validFor = {};
      assert.deepEqual(verifyUnder(root, f.keylessBlob), ['tlog']);
    });

    it('a Fulcio CA whose validity window excludes the signing time fails', () => {
      const t = signedAt(f.keylessBlob);
      for (const validFor of [
        { start: iso(t - 3_600_000), end: iso(t - 1_000) },
        { start: iso(t + 1_000) },
      ]) {
        const root = clone(f.mock.trustedRoot) as Json;
        root.certificateAuthorities[0].validFor = validFor;
        assertSignatureError(() => verifyUnder(root, f.keylessBlob), 'CERTIFICATE_INVALID');
      }
    });

    it('several Fulcio CAs: the one that issued the certificate is found wherever it is listed', () => {
      const root = clone(f.mock.trustedRoot) as Json;
      const theirs = (other.trustedRoot as Json).certificateAuthorities[0];
      root.certificateAuthorities = [theirs, root.certificateAuthorities[0]];
      assert.deepEqual(verifyUnder(root, f.keylessBlob), ['tlog']);
      // negative: only the other instance's CA
      root.certificateAuthorities = [theirs];
      assertSignatureError(() => verifyUnder(root, f.keylessBlob), 'CERTIFICATE_INVALID');
    });

    it('a timestamp authority listed with its chain (intermediate, root) verifies RFC 3161 timestamps', async () => {
      const bundle = await tsaMock.signBlob(ARTIFACT, RELEASE);
      const root = clone(tsaMock.trustedRoot) as Json;
      assert.equal(root.timestampAuthorities[0].certChain.certificates.length, 2);
      assert.deepEqual(verifyUnder(root, bundle), ['tlog', 'timestamp']);
      delete root.timestampAuthorities[0].validFor;
      assert.deepEqual(
        verifyUnder(root, bundle),
        ['tlog', 'timestamp'],
        'no validFor: its certificates bound it',
      );
    });

    it('a timestamp authority outside its validity window, or without a chain, fails', async () => {
      const bundle = await tsaMock.signBlob(ARTIFACT, RELEASE);
      const t = signedAt(bundle);
      const ended = clone(tsaMock.trustedRoot) as Json;
      ended.timestampAuthorities[0].validFor = { start: iso(t - 3_600_000), end: iso(t - 1_000) };
      assertSignatureError(() => verifyUnder(ended, bundle), 'TIMESTAMP_INVALID');
      const noChain = clone(tsaMock.trustedRoot) as Json;
      noChain.timestampAuthorities[0].certChain.certificates = [];
      assertSignatureError(() => loadTrustedRoot(noChain), 'TRUST_ROOT_INVALID');
    });
  });

  describe('checkpoints: the signing key is found by its key hint among the trusted logs', () => {
    const name = (b: SerializedBundle): string =>
      /\n\n\u2014 (\S+) /.exec(
        b.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint.envelope,
      )![1]!;

    it('a private Rekor that signs checkpoints under its pod name (not its URL) verifies', async () => {
      const [keyless, keyed] = await Promise.all([
        privateRekor.signBlob(ARTIFACT, RELEASE),
        signBlobWithKey(ARTIFACT, f.opsKey, { rekorUrl: privateRekor.rekorUrl }),
      ]);
      assert.equal(name(keyless), 'rekor-00001-deployment-5b9f7c4d8-x2k9q');
      assert.notEqual(new URL((privateRekor.trustedRoot as Json).tlogs[0].baseUrl).host, name(keyless));
      const root = clone(privateRekor.trustedRoot) as Json;
      assert.deepEqual(verifyUnder(root, keyless), ['tlog']);
      assert.deepEqual(verifyUnder(root, keyed, 'ops'), ['tlog']);
      // negative: the same bundle under a root that lists another log
      const elsewhere = clone(privateRekor.trustedRoot) as Json;
      elsewhere.tlogs = (other.trustedRoot as Json).tlogs;
      assertSignatureError(() => verifyUnder(elsewhere, keyless), 'TLOG_INVALID');
    });

    /** The good bundle with its checkpoint replaced by one a log with a key the root does not list made. */
    async function withUntrustedCheckpoint(
      edit: (untrustedLine: { name: string; sig: Buffer }, trustedHint: Buffer) => string,
    ): Promise<SerializedBundle> {
      const bundle = clone(f.keyBlob);
      const entry = bundle.verificationMaterial.tlogEntries[0]!;
      const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString('utf8')) as object;
      const rogue = await initializeTLog(f.mock.rekorUrl, generateKeyPairSync('ec', { namedCurve: 'P-256' }));
      const logged = Object.values(await rogue.log(body))[0] as {
        verification: { inclusionProof: { checkpoint: string } };
      };
      const checkpoint = logged.verification.inclusionProof.checkpoint;
      const split = checkpoint.indexOf('\n\n');
      const [, lineName, sigB64] = /^\u2014 (\S+) (\S+)$/.exec(checkpoint.slice(split + 2).trimEnd())!;
      const trustedHint = createHash('sha256')
        .update(Buffer.from((f.mock.trustedRoot as Json).tlogs[0].publicKey.rawBytes, 'base64'))
        .digest()
        .subarray(0, 4);
      // The rogue note names the same tree size; its tree id and root hash lines are its own.
      const lines = edit({ name: lineName!, sig: Buffer.from(sigB64!, 'base64') }, trustedHint);
      const ownNote = entry.inclusionProof!.checkpoint.envelope;
      const ownSplit = ownNote.indexOf('\n\n');
      entry.inclusionProof!.checkpoint.envelope = lines.startsWith('ROGUE_NOTE')
        ? checkpoint.slice(0, split + 2) + lines.slice(10)
        : ownNote.slice(0, ownSplit + 2) + lines;
      return bundle;
    }

    it('a checkpoint signed by a key the trusted root does not list fails', async () => {
      const rogue = await withUntrustedCheckpoint(
        ({ name: n, sig }) => `ROGUE_NOTE\u2014 ${n} ${sig.toString('base64')}\n`,
      );
      assertSignatureError(() => verifyUnder(f.mock.trustedRoot, rogue, 'ops'), 'TLOG_INVALID');
    });

    it("a checkpoint signed by an untrusted key under the trusted log's key hint fails", async () => {
      const rogue = await withUntrustedCheckpoint(({ name: n, sig }, hint) => {
        const forged = Buffer.concat([hint, sig.subarray(4)]);
        return `ROGUE_NOTE\u2014 ${n} ${forged.toString('base64')}\n`;
      });
      assertSignatureError(() => verifyUnder(f.mock.trustedRoot, rogue, 'ops'), 'TLOG_INVALID');
    });

    it('a witness line with an unknown key beside the log line is ignored; a bad line under a known hint is not', async () => {
      const own = f.keyBlob.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint.envelope;
      const ownLine = own.slice(own.indexOf('\n\n') + 2);
      const cosigned = await withUntrustedCheckpoint(
        ({ sig }) => `\u2014 witness.example ${sig.toString('base64')}\n${ownLine}`,
      );
      assert.deepEqual(verifyUnder(f.mock.trustedRoot, cosigned, 'ops'), ['tlog']);
      const badKnown = await withUntrustedCheckpoint(
        ({ name: n, sig }, hint) =>
          `${ownLine}\u2014 ${n} ${Buffer.concat([hint, sig.subarray(4)]).toString('base64')}\n`,
      );
      assertSignatureError(() => verifyUnder(f.mock.trustedRoot, badKnown, 'ops'), 'TLOG_INVALID');
    });
  });
});
