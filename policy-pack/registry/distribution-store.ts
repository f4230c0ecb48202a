import { denied, RegistryAuthenticator } from './auth';
import { digestToTag, isSha256Digest, verifyDigest } from './digest';
import { RegistryError, type RegistryErrorDetails } from './errors';
import { descriptorsOf, parseManifest } from './manifest';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types';
import type { HttpTransport, TransportResponse } from './transport';
import type {
  CredentialSource,
  Descriptor,
  FetchedManifest,
  ImageStore,
  RegistryLimits,
  RegistryLogEvent,
} from './types';

/**
 * An `ImageStore` over the OCI distribution HTTP API v2 (`/v2/<name>/manifests|blobs|referrers`).
 * Requests go straight to the resource (no `/v2/` ping); a 401 teaches the authenticator, which then
 * authorises every later request up front.
 */
export interface DistributionStoreOptions {
  /** Registry host the references name (`ghcr.io`); used in messages and for credentials. */
  registry: string;
  /** Where the API is served: `https://ghcr.io`, a mirror, or `http://127.0.0.1:5000`. */
  baseUrl: URL;
  transport: HttpTransport;
  credentials?: CredentialSource;
  limits: RegistryLimits;
  log?: (event: RegistryLogEvent) => void;
}

export class DistributionStore implements ImageStore {
  readonly origin: string;
  private readonly auth: RegistryAuthenticator;
  /** Set once the registry answered 404 to the referrers API: it has none, so go straight to the tag schema. */
  private referrersApiMissing = false;

  constructor(private readonly opts: DistributionStoreOptions) {
    this.origin = opts.baseUrl.origin;
    opts.transport.assertTransportAllowed(opts.baseUrl, { registry: opts.registry });
    this.auth = new RegistryAuthenticator(opts.registry, opts.transport, opts.credentials, opts.baseUrl.host);
  }

  private details(repository: string, reference?: string): RegistryErrorDetails {
    return { registry: this.opts.registry, repository, reference };
  }

  private url(path: string): URL {
    const base = this.opts.baseUrl.href.replace(/\/+$/, '');
    return new URL(base + path);
  }

  /** A GET (or HEAD) with auth applied; retried once after a 401 challenge taught us how to authenticate. */
  private async send(
    method: 'GET' | 'HEAD',
    repository: string,
    path: string,
    maxBytes: number,
    details: RegistryErrorDetails,
    accept?: string,
  ): Promise<TransportResponse> {
    const scope = `repository:${repository}:pull`;
    for (let retried = false; ; retried = true) {
      const headers: Record<string, string> = { ...(await this.auth.headers(scope, details)) };
      if (accept) headers.accept = accept;
      const res = await this.opts.transport.request({
        method,
        url: this.url(path),
        headers,
        maxBytes,
        details,
      });
      if (res.status === 401) {
        this.opts.log?.({ event: 'auth-challenge', registry: this.opts.registry, path, status: 401 });
        await this.auth.handleUnauthorized(res, scope, retried, details, headers.authorization !== undefined);
        continue;
      }
      if (res.status === 403) throw denied(this.opts.registry, details);
      return res;
    }
  }

  private unexpected(res: TransportResponse, what: string, details: RegistryErrorDetails): RegistryError {
    return new RegistryError(
      'BAD_RESPONSE',
      `${this.opts.registry} answered ${res.status} when asked for ${what}${registryErrorSummary(res.body)}.`,
      { ...details, status: res.status },
    );
  }

  private notFound(what: string, details: RegistryErrorDetails): RegistryError {
    return new RegistryError(
      'NOT_FOUND',
      `${what} does not exist in ${this.opts.registry}/${details.repository ?? ''}; check the reference, or push it first.`,
      { ...details, status: 404 },
    );
  }

  private async fetchManifest(
    repository: string,
    reference: string,
    expected?: Partial<Descriptor>,
  ): Promise<FetchedManifest | null> {
    const details = this.details(repository, reference);
    const res = await this.send(
      'GET',
      repository,
      `/v2/${repository}/manifests/${reference}`,
      this.opts.limits.manifestBytes,
      details,
      MANIFEST_ACCEPT,
    );
    if (res.status === 404) return null;
    if (res.status !== 200) throw this.unexpected(res, `manifest ${reference}`, details);
    const byDigest = isSha256Digest(reference);
    const headerDigest = headerValue(res.headers['docker-content-digest']);
    if (!byDigest && headerDigest !== undefined) {
      // A tag has no digest of its own to check against; the registry's claim must at least agree with the bytes.
      verifyDigest(res.body, headerDigest, details);
    }
    return parseManifest(res.body, {
      expectedDigest: byDigest ? reference : undefined,
      expected,
      contentType: headerValue(res.headers['content-type']),
      details,
    });
  }

  async resolveTag(repository: string, tag: string): Promise<Descriptor> {
    const manifest = await this.getManifestByTag(repository, tag);
    if (!manifest) throw this.notFound(`Tag "${tag}"`, this.details(repository, tag));
    return manifest.descriptor;
  }

  async getManifest(
    repository: string,
    digest: string,
    expected?: Partial<Descriptor>,
  ): Promise<FetchedManifest> {
    if (!isSha256Digest(digest)) {
      throw new RegistryError(
        'BAD_RESPONSE',
        `"${digest.slice(0, 80)}" is not a sha256 digest.`,
        this.details(repository),
      );
    }
    const manifest = await this.fetchManifest(repository, digest, expected);
    if (!manifest) throw this.notFound(`Manifest ${digest}`, this.details(repository, digest));
    return manifest;
  }

  getManifestByTag(repository: string, tag: string): Promise<FetchedManifest | null> {
    return this.fetchManifest(repository, tag);
  }

  async getBlob(repository: string, descriptor: Descriptor, maxBytes: number): Promise<Buffer> {
    const details = this.details(repository, descriptor.digest);
    if (!isSha256Digest(descriptor.digest)) {
      throw new RegistryError(
        'BAD_RESPONSE',
        `Blob digest "${descriptor.digest.slice(0, 80)}" is not sha256.`,
        details,
      );
    }
    if (descriptor.size > maxBytes) {
      throw new RegistryError(
        'TOO_LARGE',
        `Blob ${descriptor.digest} declares ${descriptor.size} bytes, over the ${maxBytes}-byte limit; raise the limit only if such attachments are expected.`,
        details,
      );
    }
    // The descriptor's size is the tighter bound: anything longer cannot have the right digest anyway.
    const res = await this.send(
      'GET',
      repository,
      `/v2/${repository}/blobs/${descriptor.digest}`,
      descriptor.size,
      details,
    );
    if (res.status === 404) throw this.notFound(`Blob ${descriptor.digest}`, details);
    if (res.status !== 200) throw this.unexpected(res, `blob ${descriptor.digest}`, details);
    verifyDigest(res.body, descriptor.digest, details);
    return res.body;
  }

  async listReferrers(repository: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const details = this.details(repository, digest);
    let index: FetchedManifest | null = null;
    if (!this.referrersApiMissing) {
      const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
      const res = await this.send(
        'GET',
        repository,
        `/v2/${repository}/referrers/${digest}${query}`,
        this.opts.limits.manifestBytes,
        details,
        OCI_INDEX,
      );
      if (res.status === 200) {
        index = parseManifest(res.body, { expected: { mediaType: OCI_INDEX }, details });
      } else if (res.status === 404) {
        this.referrersApiMissing = true;
        this.opts.log?.({
          event: 'referrers-fallback',
          registry: this.opts.registry,
          path: `/v2/${repository}/referrers`,
        });
      } else {
        throw this.unexpected(res, `the referrers of ${digest}`, details);
      }
    }
    if (this.referrersApiMissing) index = await this.fetchManifest(repository, digestToTag(digest));
    if (!index) return [];
    const referrers = descriptorsOf(index.json, 'manifests', details);
    // Registries may ignore the filter (OCI-Filters-Applied is optional): filter here too.
    return artifactType ? referrers.filter((d) => d.artifactType === artifactType) : referrers;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The first distribution error code in a response body (`MANIFEST_UNKNOWN`), for messages. */
function registryErrorSummary(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] };
    const code = parsed.errors?.[0]?.code;
    return typeof code === 'string' ? ` (${code.slice(0, 60)})` : '';
  } catch {
    return '';
  }
}
