import { discoverAttachments } from './attachments';
import { InflightCache } from './cache';
import { defaultCredentials } from './credentials';
import { isSha256Digest } from './digest';
import { DistributionStore } from './distribution-store';
import { RegistryError } from './errors';
import { descriptorsOf } from './manifest';
import { BUILDKIT_ATTESTATION_MANIFEST, BUILDKIT_REFERENCE_TYPE, isIndexType } from './media-types';
import { OciLayoutStore } from './oci-layout-store';
import {
  DOCKER_HUB,
  formatReference,
  isLoopbackHost,
  parseReference,
  registryIdentity,
  repositoryName,
} from './reference';
import { HttpTransport } from './transport';
import type {
  AttachmentDiscovery,
  Attachments,
  Descriptor,
  FetchedManifest,
  ImageReference,
  ImageStore,
  Platform,
  PlatformManifest,
  RegistryClient,
  RegistryClientOptions,
  RegistryLimits,
  RegistryRetryPolicy,
  RegistryStats,
  RegistryTimeouts,
  ResolvedImage,
} from './types';

export const DEFAULT_TIMEOUTS: RegistryTimeouts = { connectMs: 5_000, requestMs: 30_000 };
export const DEFAULT_RETRY: RegistryRetryPolicy = { retries: 3, baseDelayMs: 200, maxDelayMs: 10_000 };
export const DEFAULT_LIMITS: RegistryLimits = {
  manifestBytes: 4 * 1024 * 1024,
  blobBytes: 32 * 1024 * 1024,
  attachments: 128,
};
export const DEFAULT_CONCURRENCY = 6;
export const DEFAULT_DISCOVERY: AttachmentDiscovery = { cosignTags: ['sig', 'att', 'sbom'], referrers: true };
/** Docker Hub's API is not served at docker.io itself. */
const DOCKER_HUB_API = 'https://registry-1.docker.io';
const OCI_LAYOUT_PREFIX = 'oci-layout:';

/** Creates a client that maps registry hosts to stores and shares one digest-keyed cache for its lifetime. */
/**
 * A BuildKit attestation entry of an index: the annotation AND no runnable platform (BuildKit writes
 * unknown/unknown). Runtimes choose entries by platform alone, so an entry that names a real platform
 * is an image whatever its annotations claim, and must stay under verification.
 */
function isBuildkitAttestationEntry(d: Descriptor): boolean {
  return (
    d.annotations?.[BUILDKIT_REFERENCE_TYPE] === BUILDKIT_ATTESTATION_MANIFEST &&
    (d.platform === undefined || (d.platform.os === 'unknown' && d.platform.architecture === 'unknown'))
  );
}

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  return new CachingRegistryClient(opts);
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RegistryError(
      'INVALID_CONFIG',
      `Registry option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}.`,
    );
  }
  return value;
}

class CachingRegistryClient implements RegistryClient {
  private readonly transport: HttpTransport;
  private readonly limits: RegistryLimits;
  private readonly discovery: AttachmentDiscovery;
  private readonly stores = new Map<string, ImageStore>();
  private readonly mirrors = new Map<string, string>();
  private readonly insecure: Set<string>;
  private readonly plainHttpOn443 = new Set<string>();
  private readonly manifests = new InflightCache<FetchedManifest>();
  private readonly tags = new InflightCache<string>();
  private readonly attachmentCache = new InflightCache<Attachments>();
  /** `registry/repo@child` -> the index digest it was listed in during this run. */
  private readonly parents = new Map<string, string>();
  private readonly credentials;

  constructor(private readonly opts: RegistryClientOptions) {
    const timeouts: RegistryTimeouts = {
      connectMs: positive('timeouts.connectMs', opts.timeouts?.connectMs, DEFAULT_TIMEOUTS.connectMs),
      requestMs: positive('timeouts.requestMs', opts.timeouts?.requestMs, DEFAULT_TIMEOUTS.requestMs),
    };
    const retry: RegistryRetryPolicy = {
      retries: Math.floor(positive('retry.retries', opts.retry?.retries, DEFAULT_RETRY.retries, true)),
      baseDelayMs: positive('retry.baseDelayMs', opts.retry?.baseDelayMs, DEFAULT_RETRY.baseDelayMs, true),
      maxDelayMs: positive('retry.maxDelayMs', opts.retry?.maxDelayMs, DEFAULT_RETRY.maxDelayMs, true),
    };
    this.limits = {
      manifestBytes: positive(
        'limits.manifestBytes',
        opts.limits?.manifestBytes,
        DEFAULT_LIMITS.manifestBytes,
      ),
      blobBytes: positive('limits.blobBytes', opts.limits?.blobBytes, DEFAULT_LIMITS.blobBytes),
      attachments: positive('limits.attachments', opts.limits?.attachments, DEFAULT_LIMITS.attachments),
    };
    this.discovery = { ...DEFAULT_DISCOVERY, ...opts.discovery };
    this.credentials = opts.credentials ?? defaultCredentials();
    // Settings are keyed by host as the user spelt it; references are keyed by registry identity
    // (`GHCR.IO:443` -> `ghcr.io`). Keep both spellings, and remember an insecure registry given with an
    // explicit :443, whose identity drops the port although plain HTTP must still go to port 443.
    this.insecure = new Set<string>();
    for (const host of opts.insecureRegistries ?? []) {
      this.insecure.add(host);
      const identity = registryIdentity(host);
      if (identity === undefined) continue;
      this.insecure.add(identity);
      if (identity !== host.toLowerCase() && /:443$/.test(host)) this.plainHttpOn443.add(identity);
    }
    for (const [host, target] of Object.entries(opts.mirrors ?? {})) {
      if (!target.startsWith(OCI_LAYOUT_PREFIX) && !/^https?:\/\//.test(target)) {
        throw new RegistryError(
          'INVALID_CONFIG',
          `Mirror for ${host} must be oci-layout:DIR or an http(s):// URL, got "${target.slice(0, 100)}".`,
          { registry: host },
        );
      }
      this.mirrors.set(registryIdentity(host) ?? host, target);
    }
    this.transport = new HttpTransport({
      timeouts,
      retry,
      concurrencyPerHost: Math.floor(
        positive('concurrencyPerRegistry', opts.concurrencyPerRegistry, DEFAULT_CONCURRENCY),
      ),
      insecureHosts: this.insecure,
      caCertificates: opts.caCertificates,
      log: opts.log,
    });
    // Build every mirror's store now so a bad mirror setting fails at start-up, not mid-run.
    for (const host of this.mirrors.keys()) this.storeFor(host);
  }

  storeFor(registry: string): ImageStore {
    const existing = this.stores.get(registry);
    if (existing) return existing;
    const mirror = this.mirrors.get(registry);
    let store: ImageStore;
    if (mirror?.startsWith(OCI_LAYOUT_PREFIX)) {
      const dir = mirror.slice(OCI_LAYOUT_PREFIX.length);
      if (dir === '')
        throw new RegistryError('INVALID_CONFIG', `Mirror for ${registry} names no directory.`, { registry });
      store = new OciLayoutStore(dir, this.limits, registry);
    } else {
      let baseUrl: URL;
      try {
        baseUrl = new URL(mirror ?? this.defaultBaseUrl(registry));
      } catch (cause) {
        throw new RegistryError('INVALID_CONFIG', `Mirror URL for ${registry} is not valid.`, {
          registry,
          cause,
        });
      }
      if (baseUrl.username || baseUrl.password) {
        throw new RegistryError(
          'INVALID_CONFIG',
          `Mirror URL for ${registry} must not embed credentials; use Docker's config.json.`,
          {
            registry,
          },
        );
      }
      store = new DistributionStore({
        registry,
        baseUrl,
        transport: this.transport,
        credentials: this.credentials,
        limits: this.limits,
        log: this.opts.log,
      });
    }
    this.stores.set(registry, store);
    return store;
  }

  private defaultBaseUrl(registry: string): string {
    if (registry === DOCKER_HUB) return DOCKER_HUB_API;
    if (this.plainHttpOn443.has(registry)) return `http://${registry}:443`;
    const hostname = registry.startsWith('[')
      ? registry.slice(0, registry.indexOf(']') + 1)
      : registry.split(':')[0];
    const plain =
      isLoopbackHost(registry) ||
      this.insecure.has(registry) ||
      (hostname !== undefined && this.insecure.has(hostname));
    return `${plain ? 'http' : 'https'}://${registry}`;
  }

  private manifest(
    ref: ImageReference,
    digest: string,
    expected?: Partial<Descriptor>,
  ): Promise<FetchedManifest> {
    return this.manifests.get(`${repositoryName(ref)}@${digest}`, () =>
      this.storeFor(ref.registry).getManifest(ref.repository, digest, expected),
    );
  }

  private normalise(ref: string | ImageReference): ImageReference {
    return typeof ref === 'string' ? parseReference(ref) : ref;
  }

  async resolve(input: string | ImageReference): Promise<ResolvedImage> {
    const reference = this.normalise(input);
    let digest = reference.digest;
    if (digest === undefined) {
      if (reference.tag === undefined) {
        throw new RegistryError(
          'INVALID_REFERENCE',
          `${formatReference(reference)} has neither tag nor digest.`,
          {
            registry: reference.registry,
            repository: reference.repository,
          },
        );
      }
      const tag = reference.tag;
      // Tags move; resolving each once per run keeps every resource naming it judged on the same image.
      digest = await this.tags.get(`${repositoryName(reference)}:${tag}`, async () => {
        const manifest = await this.storeFor(reference.registry).getManifestByTag(reference.repository, tag);
        if (!manifest) {
          throw new RegistryError(
            'NOT_FOUND',
            `${formatReference(reference)} does not exist; check the tag, or pin the image by digest.`,
            { registry: reference.registry, repository: reference.repository, reference: tag, status: 404 },
          );
        }
        this.manifests.set(`${repositoryName(reference)}@${manifest.descriptor.digest}`, manifest);
        return manifest.descriptor.digest;
      });
    } else if (!isSha256Digest(digest)) {
      throw new RegistryError('INVALID_REFERENCE', `${digest.slice(0, 80)} is not a sha256 digest.`, {
        reference: digest,
      });
    }
    const manifest = await this.manifest(reference, digest);
    return { reference: { ...reference, digest }, digest, manifest };
  }

  async platformManifests(input: string | ImageReference, digest: string): Promise<PlatformManifest[]> {
    const reference = this.normalise(input);
    const manifest = await this.manifest(reference, digest);
    if (!isIndexType(manifest.descriptor.mediaType)) return [];
    const details = { registry: reference.registry, repository: reference.repository, reference: digest };
    const images = descriptorsOf(manifest.json, 'manifests', details).filter(
      (d) => !isBuildkitAttestationEntry(d),
    );
    for (const d of images) this.parents.set(`${repositoryName(reference)}@${d.digest}`, digest);
    return images.map((descriptor) =>
      descriptor.platform ? { descriptor, platform: descriptor.platform } : { descriptor },
    );
  }

  async selectPlatform(
    input: string | ImageReference,
    digest: string,
    platform: Platform,
  ): Promise<ResolvedImage> {
    const reference = this.normalise(input);
    const candidates = await this.platformManifests(reference, digest);
    if (candidates.length === 0) {
      const manifest = await this.manifest(reference, digest);
      return { reference: { ...reference, digest }, digest, manifest };
    }
    const match = candidates.find(
      (c) =>
        c.platform?.os === platform.os &&
        c.platform.architecture === platform.architecture &&
        (platform.variant === undefined || c.platform.variant === platform.variant),
    );
    if (!match) {
      const offered = candidates.map((c) =>
        c.platform
          ? `${c.platform.os}/${c.platform.architecture}${c.platform.variant ? '/' + c.platform.variant : ''}`
          : '?',
      );
      throw new RegistryError(
        'PLATFORM_NOT_FOUND',
        `${formatReference({ ...reference, digest })} has no ${platform.os}/${platform.architecture}${platform.variant ? '/' + platform.variant : ''} image; it offers ${offered.join(', ') || 'none'}.`,
        { registry: reference.registry, repository: reference.repository, reference: digest },
      );
    }
    const manifest = await this.manifest(reference, match.descriptor.digest, match.descriptor);
    return {
      reference: { ...reference, digest: match.descriptor.digest },
      digest: match.descriptor.digest,
      manifest,
    };
  }

  attachments(
    reference: ImageReference,
    digest: string,
    storedIn?: Pick<ImageReference, 'registry' | 'repository'>,
  ): Promise<Attachments> {
    if (!isSha256Digest(digest)) {
      return Promise.reject(
        new RegistryError('INVALID_REFERENCE', `${digest.slice(0, 80)} is not a sha256 digest.`, {
          reference: digest,
        }),
      );
    }
    const storage: ImageReference = storedIn
      ? { registry: storedIn.registry, repository: storedIn.repository }
      : reference;
    const key = `${repositoryName(reference)}@${digest}${storedIn ? ` in ${repositoryName(storage)}` : ''}`;
    return this.attachmentCache.get(key, () =>
      discoverAttachments(
        {
          store: this.storeFor(storage.registry),
          limits: this.limits,
          discovery: this.discovery,
          manifest: (repository, d, expected) => this.manifest({ ...storage, repository }, d, expected),
          imageManifest: (d, expected) => this.manifest(reference, d, expected),
          subject: () => this.manifest(reference, digest),
          parentIndex: async () => {
            const parent = this.parents.get(`${repositoryName(reference)}@${digest}`);
            return parent === undefined ? undefined : this.manifest(reference, parent);
          },
        },
        reference,
        digest,
        storedIn,
      ),
    );
  }

  stats(): RegistryStats {
    const c = this.transport.counters;
    return {
      requests: c.requests,
      byRegistry: { ...c.byHost },
      cacheHits: this.manifests.hits + this.tags.hits + this.attachmentCache.hits,
      retries: c.retries,
    };
  }

  close(): void {
    this.transport.close();
  }
}
