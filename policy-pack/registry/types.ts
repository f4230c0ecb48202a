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
  /** `cosign-sbom`: a `cosign attach sbom` tag (`.sbom`), which cosign does not sign. */
  source: 'buildkit' | 'referrer' | 'cosign-sbom';
  descriptor: Descriptor;
  predicateType?: string;
  /**
   * The SBOM format its media type, artifact type or predicate type announces, when it is an SBOM: so a
   * finding can say an unsigned SBOM was found (and how to sign it) instead of "no SBOM".
   */
  sbomFormat?: 'spdx' | 'cyclonedx';
  /** Where it was found, for people: `<registry>/<repository>:sha256-<hex>.sbom` for a cosign tag. */
  location?: string;
}

/**
 * Why one attached item was skipped (see attachment-faults.ts). Each is a fault of the item as it is
 * stored, which anyone with push access can cause; registry and transport failures are thrown instead.
 */
export type IgnoredAttachmentReason =
  | 'NO_BUNDLE_LAYER' // a Sigstore bundle artifact without a bundle layer
  | 'MALFORMED_MANIFEST' // not JSON, not an object, layers not descriptors
  | 'UNSUPPORTED_MEDIA_TYPE' // not an image manifest, or a schema other than 2
  | 'DESCRIPTOR_MISMATCH' // a listing or layer descriptor disagrees with the content it names
  | 'NOT_FOUND' // listed, but not in the registry
  | 'TOO_LARGE'; // declares more bytes than limits.blobBytes

/** One attached item that was skipped: it never counts as evidence; it is reported as a note. */
export interface IgnoredAttachment {
  /** `referrer` (OCI 1.1 / tag schema), or the cosign tag scheme (`cosign-sig`, `cosign-att`, `cosign-sbom`). */
  source: 'referrer' | 'cosign-sig' | 'cosign-att' | 'cosign-sbom';
  /** The referrer manifest digest, the cosign layer digest, or the cosign tag when the whole tag is unusable. */
  attachment: string;
  reason: IgnoredAttachmentReason;
  /** For people: what was wrong with it. */
  detail: string;
}

/** Everything attached to one image manifest digest. */
export interface Attachments {
  reference: ImageReference;
  /** `registry/repository` the signatures and attestations were read from, when not the image's own. */
  storedIn?: string;
  /** The digest the attachments were looked up for. */
  digest: string;
  signatures: CosignLayer[];
  attestations: CosignLayer[];
  bundles: ReferrerBundle[];
  unsigned: UnsignedEvidence[];
  /** Malformed or unreadable attached items that were skipped (absent or empty: none). */
  ignored?: IgnoredAttachment[];
}

/**
 * Where one registry's content is read from: the distribution HTTP API v2, or an OCI image-layout
 * directory (a mirror for air-gapped sites). Every method checks content against its digest before
 * returning it; a mismatch is a `RegistryError('DIGEST_MISMATCH')`, never data.
 */
export interface ImageStore {
  /** Human-readable origin for messages (`https://ghcr.io`, `oci-layout:/srv/mirror`). Never holds credentials. */
  readonly origin: string;
  /** Tag -> descriptor of the manifest it points at; NOT_FOUND when the tag does not exist. */
  resolveTag(repository: string, tag: string): Promise<Descriptor>;
  /** The manifest with this digest, verified; NOT_FOUND when absent. `expected` (size, mediaType) is checked when given. */
  getManifest(repository: string, digest: string, expected?: Partial<Descriptor>): Promise<FetchedManifest>;
  /**
   * The manifest a tag points at, or null when the tag does not exist (cosign's `.sig`/`.att` tags,
   * the referrers tag schema). Its bytes are verified against the digest the store reports, if any.
   */
  getManifestByTag(repository: string, tag: string): Promise<FetchedManifest | null>;
  /** The blob `descriptor` names, verified against its digest and size, refused beyond `maxBytes`. */
  getBlob(repository: string, descriptor: Descriptor, maxBytes: number): Promise<Buffer>;
  /**
   * Manifests whose `subject` is `digest`: the OCI 1.1 referrers API, or (when the API answers 404 or the
   * store has none) the referrers tag schema `sha256-<hex>`. Filtered by `artifactType` when given.
   */
  listReferrers(repository: string, digest: string, artifactType?: string): Promise<Descriptor[]>;
}

/** A username/password pair, or an identity (refresh) token as Docker's config.json stores it. */
export type RegistryCredential =
  { kind: 'basic'; username: string; password: string } | { kind: 'identity-token'; token: string };

/** Looks up credentials for a registry host (`ghcr.io`, `127.0.0.1:5000`). Undefined means anonymous. */
export interface CredentialSource {
  lookup(registry: string): Promise<RegistryCredential | undefined>;
}

export interface RegistryTimeouts {
  /** Time to establish the TCP/TLS connection. Default 5,000 ms. */
  connectMs: number;
  /** Time for one whole request, body included. Default 30,000 ms. */
  requestMs: number;
}

export interface RegistryRetryPolicy {
  /** Retries after the first attempt for 429, 5xx and connection failures. Default 3. */
  retries: number;
  /** First backoff; doubles each retry, with jitter. Default 200 ms. */
  baseDelayMs: number;
  /** Upper bound for one wait, Retry-After included (a longer Retry-After fails with RATE_LIMITED). Default 10,000 ms. */
  maxDelayMs: number;
}

export interface RegistryLimits {
  /** Largest manifest or index accepted. Default 4 MiB. */
  manifestBytes: number;
  /** Largest signature/attestation/bundle blob accepted. Default 32 MiB. */
  blobBytes: number;
  /** Most referrers / attached layers read for one image. Default 128. */
  attachments: number;
}

/** Which attachment formats `attachments()` looks for. Default: all of them. */
export interface AttachmentDiscovery {
  /** cosign tag scheme suffixes to read. Default ['sig', 'att', 'sbom']. */
  cosignTags: ('sig' | 'att' | 'sbom')[];
  /** OCI 1.1 referrers (API, or tag schema fallback). Default true. */
  referrers: boolean;
}

export interface RegistryClientOptions {
  /**
   * Registry host -> store: `oci-layout:/path/to/dir` (OCI image layout, incl. `cosign save` output) or
   * `https://mirror.example` (a distribution API mirror; http:// only for loopback or insecure hosts).
   */
  mirrors?: Record<string, string>;
  /** Hosts that may be reached over plain HTTP although not loopback (`--insecure-registry`). */
  insecureRegistries?: string[];
  timeouts?: Partial<RegistryTimeouts>;
  retry?: Partial<RegistryRetryPolicy>;
  limits?: Partial<RegistryLimits>;
  /**
   * Extra PEM CA certificates trusted for HTTPS registries, mirrors and token realms (a private
   * registry's internal CA), in addition to Node's bundled roots.
   */
  caCertificates?: string[];
  /** Requests in flight per registry host. Default 6. */
  concurrencyPerRegistry?: number;
  /** Default: environment variables, then Docker's config.json (auths, credHelpers, credsStore). */
  credentials?: CredentialSource;
  discovery?: Partial<AttachmentDiscovery>;
  /** Structured events (request, retry, auth) for diagnostics; never carries credentials. */
  log?: (event: RegistryLogEvent) => void;
}

export interface RegistryLogEvent {
  event: 'request' | 'retry' | 'auth-challenge' | 'redirect' | 'referrers-fallback';
  registry: string;
  method?: string;
  /** Path and query only: never userinfo or headers. */
  path?: string;
  status?: number;
  attempt?: number;
  delayMs?: number;
}

export interface ResolvedImage {
  /** The reference as given, normalised, with `digest` filled in. */
  reference: ImageReference;
  digest: string;
  manifest: FetchedManifest;
}

/** A platform-specific image manifest listed in an index. */
export interface PlatformManifest {
  descriptor: Descriptor;
  platform?: Platform;
}

export interface RegistryStats {
  /** HTTP requests sent (each retry, redirect hop and token fetch counts). */
  requests: number;
  /** Per registry host. */
  byRegistry: Record<string, number>;
  /** Results answered from the process cache (no request). */
  cacheHits: number;
  retries: number;
}

export interface RegistryClient {
  /** Normalises `ref` and pins it: a tag is resolved once per client; a digest is fetched and verified. */
  resolve(ref: string | ImageReference): Promise<ResolvedImage>;
  /** The image manifests an index lists (BuildKit attestation manifests excluded); [] for a single image. */
  platformManifests(ref: string | ImageReference, digest: string): Promise<PlatformManifest[]>;
  /** The manifest for `platform` from an index at `digest`, or the digest itself for a single image. */
  selectPlatform(ref: string | ImageReference, digest: string, platform: Platform): Promise<ResolvedImage>;
  /**
   * Signatures, attestations, bundles and unsigned evidence attached to `digest`. `storedIn`: the
   * repository they are stored in when not beside the image (cosign's COSIGN_REPOSITORY); only it is read.
   */
  attachments(
    reference: ImageReference,
    digest: string,
    storedIn?: Pick<ImageReference, 'registry' | 'repository'>,
  ): Promise<Attachments>;
  /** The store serving a registry host (mirror mapping applied). */
  storeFor(registry: string): ImageStore;
  stats(): RegistryStats;
  /** Closes idle keep-alive connections. The client must not be used afterwards. */
  close(): void;
}
