import type { TransparencyLogEntry } from '@sigstore/bundle';
import { crypto } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { SignatureError } from './errors';

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/;

type TLogAuthority = TrustMaterial['tlogs'][number];

/**
 * The checkpoint of an inclusion proof, checked on top of @sigstore/verify (which checks it again), and
 * handed back in the form the library can check:
 *
 * - the library checks the proof against the signed checkpoint's size and root hash and ignores the
 *   proof's own `treeSize` / `rootHash`, redundant unauthenticated copies: they must agree;
 * - every signature line must be well formed, with canonical base64 (the library decodes leniently);
 * - the signing key is found by the line's key hint among the trusted root's logs, as sigstore-go does,
 *   not by the line's name: the name is not signed, and a private Rekor names its checkpoints after its
 *   pod (`rekor-00001-deployment-... - <tree id>`), not its URL. A line whose hint names no trusted log
 *   never counts (witness cosignatures); a line whose hint names a trusted log must verify over the
 *   note with that log's key (as Go's note.Open, a bad signature by a known key fails the checkpoint);
 *   at least one must;
 * - the library instead selects the key by treating the line's name as a regular expression against the
 *   log's base URL (so `127.0.0.1:3.205` selects `127.0.0.1:38205`, and a pod name selects nothing): it
 *   is given the checkpoint with the verified line alone, named by the anchored, escaped base URL of
 *   the log that signed it, so it re-verifies that very signature with that very key.
 */
export function checkpointForLibrary(
  entry: TransparencyLogEntry,
  trust: TrustMaterial,
): TransparencyLogEntry {
  const proof = entry.inclusionProof;
  if (!proof) return entry;
  const envelope = proof.checkpoint?.envelope ?? '';
  const split = envelope.indexOf('\n\n');
  if (split < 0) throw invalid('inclusion proof checkpoint has no signature block');
  const [, size, rootHash] = envelope.slice(0, split).split('\n');
  if (size === undefined || rootHash === undefined) {
    throw invalid('inclusion proof checkpoint has no tree size or root hash');
  }
  if (size !== proof.treeSize) {
    throw invalid(`inclusion proof treeSize ${proof.treeSize} contradicts its checkpoint (${size})`);
  }
  if (!Buffer.from(rootHash, 'base64').equals(proof.rootHash)) {
    throw invalid('inclusion proof rootHash contradicts its signed checkpoint');
  }
  // What the log signed: the note up to and including its last newline (the library signs the same).
  const note = Buffer.from(envelope.slice(0, split + 1), 'utf8');
  const block = envelope.slice(split + 2);
  if (!block.endsWith('\n')) throw invalid('checkpoint signature block does not end with a newline');
  let signedBy: { log: TLogAuthority; signature: string } | undefined;
  for (const line of block.slice(0, -1).split('\n')) {
    const m = SIGNATURE_LINE.exec(line);
    const sig = m?.[2];
    if (!m?.[1] || !sig || Buffer.from(sig, 'base64').toString('base64') !== sig) {
      throw invalid('checkpoint has a malformed signature line');
    }
    const bytes = Buffer.from(sig, 'base64');
    if (bytes.length < 5) throw invalid('checkpoint has a signature line too short for a key hint');
    const hint = bytes.subarray(0, 4);
    const hinted = trust.tlogs.filter((t) => t.logID.subarray(0, 4).equals(hint));
    if (hinted.length === 0) continue; // a witness or log the trusted root does not list: never counts
    const log = hinted.find((t) => crypto.verify(note, t.publicKey, bytes.subarray(4)));
    if (log === undefined) {
      throw invalid(
        `the checkpoint signature line with key hint ${hint.toString('hex')} (a trusted log's) does not verify over the note`,
      );
    }
    signedBy ??= { log, signature: sig };
  }
  if (signedBy === undefined) {
    throw invalid('no checkpoint signature line is by a trusted log (no key hint names one)');
  }
  const name = `^${signedBy.log.baseURL.replace(/[.*+?^${}()|[\]\\/\s]/g, (c) => (/\s/.test(c) ? '\\s' : `\\${c}`))}$`;
  const rewritten = `${envelope.slice(0, split + 2)}\u2014 ${name} ${signedBy.signature}\n`;
  return { ...entry, inclusionProof: { ...proof, checkpoint: { envelope: rewritten } } };
}

function invalid(message: string): SignatureError {
  return new SignatureError('TLOG_INVALID', message);
}
