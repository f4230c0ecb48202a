import type { TransparencyLogEntry } from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';
import { SignatureError } from './errors';

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/;

/**
 * Strictness on top of @sigstore/verify's inclusion-proof check (found by the mutation property test:
 * each of these edits used to verify):
 *
 * - the library checks the proof against the signed checkpoint's size and root hash and ignores the
 *   proof's own `treeSize` / `rootHash`, redundant unauthenticated copies: they must agree;
 * - it selects the checkpoint signature by treating the line's name as a regular expression against the
 *   log's base URL (so `127.0.0.1:3.205` selects `127.0.0.1:38205`) and decodes base64 leniently (padding
 *   and stray characters ignored): every signature line must be well formed with canonical base64, and
 *   one line must name a trusted log literally, with that log's key hint.
 */
export function assertInclusionProofMatchesCheckpoint(
  entry: TransparencyLogEntry,
  trust: TrustMaterial,
): void {
  const proof = entry.inclusionProof;
  if (!proof) return;
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
  const block = envelope.slice(split + 2);
  if (!block.endsWith('\n')) throw invalid('checkpoint signature block does not end with a newline');
  let literalMatch = false;
  for (const line of block.slice(0, -1).split('\n')) {
    const m = SIGNATURE_LINE.exec(line);
    const sig = m?.[2];
    if (!m?.[1] || !sig || Buffer.from(sig, 'base64').toString('base64') !== sig) {
      throw invalid('checkpoint has a malformed signature line');
    }
    const name = m[1];
    const hint = Buffer.from(sig, 'base64').subarray(0, 4);
    if (trust.tlogs.some((t) => t.baseURL.includes(name) && t.logID.subarray(0, 4).equals(hint)))
      literalMatch = true;
  }
  if (!literalMatch) throw invalid('no checkpoint signature line names a trusted log with its key hint');
}

function invalid(message: string): SignatureError {
  return new SignatureError('TLOG_INVALID', message);
}
