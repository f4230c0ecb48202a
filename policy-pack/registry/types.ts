/**
 * Contracts of the registry layer (the pack's I/O edge). The supply-chain core consumes
 * `Attachments`; it never talks to a registry itself.
 */

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
}

/** A normalised image reference (`nginx` -> docker.io/library/nginx:latest). */
export interface ImageReference {
  /** Registry host, with port when given (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path within the registry (`library/nginx`). */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` when the reference is pinned. */
  digest?: string;
}

/** A manifest read and checked against its digest. */
export interface FetchedManifest {
  descriptor: Descriptor;
  /** The exact bytes whose sha256 is `descriptor.digest`. */
  bytes: Buffer;
  /** Parsed JSON of `bytes`. */
  json: unknown;
}

/** A cosign tag-scheme layer (`sha256-<hex>.sig` / `.att` / `.sbom`) with its payload blob. */
export interface CosignLayer {
  descriptor: Descriptor;
  /** The layer blob (simple-signing payload, or DSSE envelope JSON for attestations). */
  payload: Buffer;
  /** The layer's annotations (dev.cosignproject.cosign/signature, dev.sigstore.cosign/certificate, ...). */
  annotations: Record<string, string>;
}

/** A Sigstore bundle found as an OCI 1.1 referrer (API or tag-schema fallback). */
export interface ReferrerBundle {
  /** The referrer manifest's descriptor (artifactType tells what the bundle attests). */
  descriptor: Descriptor;
  /** The bundle JSON bytes (the referrer's single layer). */
  bundle: Buffer;
}

/** Evidence found attached but not signed: never counts towards a requirement. */
export interface UnsignedEvidence {
  source: 'buildkit' | 'referrer';
  descriptor: Descriptor;
  predicateType?: string;
}

/** Everything attached to one image manifest digest. */
export interface Attachments {
  reference: ImageReference;
  /** The digest the attachments were looked up for. */
  digest: string;
  signatures: CosignLayer[];
  attestations: CosignLayer[];
  bundles: ReferrerBundle[];
  unsigned: UnsignedEvidence[];
}
