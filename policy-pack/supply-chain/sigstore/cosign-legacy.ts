import { createHash } from 'node:crypto';
import type { CosignLayer } from '../../registry/types';
import { SignatureError } from './errors';
import { toDER } from './pem';

/** Annotation keys cosign writes on tag-scheme (`sha256-<hex>.sig` / `.att`) layers. */
export const COSIGN_ANNOTATIONS = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  rekorBundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;

/**
 * The envelope bytes of each converted attestation layer, keyed by the bundle object handed out: a bundle
 * cannot carry them, and Rekor `intoto` v0.0.1 entries log their hash (see intoto-v001-entry.ts).
 */
const submittedEnvelopes = new WeakMap<object, Buffer>();

/** The exact envelope bytes behind a bundle made by cosignLayerToBundle from an attestation layer. */
export function submittedEnvelopeOf(bundle: unknown): Buffer | undefined {
  return typeof bundle === 'object' && bundle !== null ? submittedEnvelopes.get(bundle) : undefined;
}

/**
 * Turn a cosign tag-scheme layer into Sigstore bundle JSON (v0.1: legacy Rekor bundles carry a SET but no
 * inclusion proof) so one verifier handles both attachment formats.
 *
 * - `signature`: the layer blob is the signed simple-signing payload; verify the bundle with
 *   `artifact: layer.payload`.
 * - `attestation`: the layer blob is the DSSE envelope itself; the Rekor entry may be intoto v0.0.1,
 *   intoto v0.0.2 or dsse.
 *
 * Nothing is verified here: every value is carried over, and the verifier rejects whatever is wrong.
 * Throws BUNDLE_MALFORMED when an annotation cannot be read at all.
 */
export function cosignLayerToBundle(layer: CosignLayer, kind: 'signature' | 'attestation'): unknown {
  const a = layer.annotations;
  const rekorBundle = a[COSIGN_ANNOTATIONS.rekorBundle];
  const rfc3161 = a[COSIGN_ANNOTATIONS.rfc3161Timestamp];
  const verificationMaterial: Record<string, unknown> = {
    ...keyMaterial(a[COSIGN_ANNOTATIONS.certificate], a[COSIGN_ANNOTATIONS.chain]),
    tlogEntries: rekorBundle ? [tlogEntry(rekorBundle)] : [],
    timestampVerificationData: { rfc3161Timestamps: rfc3161 ? [timestamp(rfc3161)] : [] },
  };
  const base = { mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1', verificationMaterial };
  if (kind === 'signature') {
    const signature = a[COSIGN_ANNOTATIONS.signature];
    if (!signature) throw malformed('signature layer has no dev.cosignproject.cosign/signature annotation');
    return {
      ...base,
      messageSignature: {
        messageDigest: {
          algorithm: 'SHA2_256',
          digest: createHash('sha256').update(layer.payload).digest('base64'),
        },
        signature,
      },
    };
  }
  const bundle = { ...base, dsseEnvelope: envelope(layer.payload) };
  submittedEnvelopes.set(bundle, Buffer.from(layer.payload));
  return bundle;
}

function keyMaterial(certificate: string | undefined, chain: string | undefined): Record<string, unknown> {
  if (!certificate) return { publicKey: { hint: '' } };
  const certificates = [certificate, ...(chain ? splitPem(chain) : [])].map((pem) => ({
    rawBytes: der(pem, 'certificate').toString('base64'),
  }));
  return { x509CertificateChain: { certificates } };
}

/** cosign's `dev.sigstore.cosign/bundle`: `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`. */
function tlogEntry(annotation: string): Record<string, unknown> {
  const rekor = parseJSON(annotation, 'dev.sigstore.cosign/bundle') as {
    SignedEntryTimestamp?: unknown;
    Payload?: { body?: unknown; integratedTime?: unknown; logIndex?: unknown; logID?: unknown };
  };
  const p = rekor.Payload;
  if (
    typeof rekor.SignedEntryTimestamp !== 'string' ||
    typeof p?.body !== 'string' ||
    typeof p.integratedTime !== 'number' ||
    typeof p.logIndex !== 'number' ||
    typeof p.logID !== 'string' ||
    !/^[0-9a-f]{64}$/.test(p.logID)
  ) {
    throw malformed(
      'dev.sigstore.cosign/bundle lacks SignedEntryTimestamp, body, integratedTime, logIndex or a hex logID',
    );
  }
  const body = parseJSON(Buffer.from(p.body, 'base64').toString('utf8'), 'Rekor entry body') as {
    kind?: unknown;
    apiVersion?: unknown;
  };
  if (typeof body.kind !== 'string' || typeof body.apiVersion !== 'string') {
    throw malformed('Rekor entry body has no kind/apiVersion');
  }
  return {
    logIndex: String(p.logIndex),
    logId: { keyId: Buffer.from(p.logID, 'hex').toString('base64') },
    kindVersion: { kind: body.kind, version: body.apiVersion },
    integratedTime: String(p.integratedTime),
    inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
    canonicalizedBody: p.body,
  };
}

/** cosign's `dev.sigstore.cosign/rfc3161timestamp`: `{SignedRFC3161Timestamp: <base64 DER>}`. */
function timestamp(annotation: string): Record<string, unknown> {
  const t = parseJSON(annotation, 'dev.sigstore.cosign/rfc3161timestamp') as {
    SignedRFC3161Timestamp?: unknown;
  };
  if (typeof t.SignedRFC3161Timestamp !== 'string')
    throw malformed('rfc3161timestamp annotation lacks SignedRFC3161Timestamp');
  return { signedTimestamp: t.SignedRFC3161Timestamp };
}

function envelope(payload: Buffer): Record<string, unknown> {
  const env = parseJSON(payload.toString('utf8'), 'DSSE envelope layer') as {
    payloadType?: unknown;
    payload?: unknown;
    signatures?: unknown;
  };
  if (
    typeof env.payloadType !== 'string' ||
    typeof env.payload !== 'string' ||
    !Array.isArray(env.signatures)
  ) {
    throw malformed('attestation layer is not a DSSE envelope (payloadType, payload, signatures)');
  }
  return {
    payloadType: env.payloadType,
    payload: env.payload,
    signatures: env.signatures.map((s: { sig?: unknown; keyid?: unknown } | null) => {
      if (typeof s?.sig !== 'string') throw malformed('DSSE signature without sig');
      return { sig: s.sig, keyid: typeof s.keyid === 'string' ? s.keyid : '' };
    }),
  };
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

function der(pem: string, what: string): Buffer {
  try {
    return toDER(pem);
  } catch (e) {
    throw malformed(`${what} annotation is not PEM`, e);
  }
}

function parseJSON(text: string, what: string): unknown {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null) return v;
  } catch (e) {
    throw malformed(`${what} is not JSON`, e);
  }
  throw malformed(`${what} is not a JSON object`);
}

function malformed(message: string, cause?: unknown): SignatureError {
  return new SignatureError('BUNDLE_MALFORMED', message, { cause });
}
