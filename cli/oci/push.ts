import { sha256Digest } from './digest';
import { OciWriteError } from './errors';
import type { Blob } from './image';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from './media-types';
import type { OciTarget, StoredManifest } from './target';

const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

/**
 * Basic credentials (also used at a Bearer token realm), a fixed bearer token, or an identity (refresh)
 * token as Docker's config.json stores it, exchanged at the token realm by the OAuth2 refresh-token grant.
 */
export type RegistryCredentials =
  { username: string; password: string } | { bearerToken: string } | { identityToken: string };

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (values may contain commas inside quotes). */
export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)="([^"]*)"/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    if (m[1] && m[2] !== undefined) params[m[1].toLowerCase()] = m[2];
  }
  return { scheme, params };
}

/**
 * Pushes to a registry over the distribution API v2. Answers Basic challenges with the username and
 * password, and Bearer challenges by fetching a token from the challenge's realm (Basic credentials
 * there), or sends a given bearer token as is.
 */
export class RegistryPusher implements OciTarget {
  private readonly base: string;
  /** Authorization header per challenge scope, so one token serves a whole push. */
  private readonly authByScope = new Map<string, string>();
  private lastAuth: string | undefined;
  /** `repo@digest` of manifests whose push the registry answered with `OCI-Subject` (it indexes referrers). */
  private readonly subjectIndexed = new Set<string>();

  constructor(
    baseUrl: string,
    readonly credentials?: RegistryCredentials,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    if (credentials && 'bearerToken' in credentials) this.lastAuth = `Bearer ${credentials.bearerToken}`;
  }

  async putBlob(repo: string, blob: Blob): Promise<void> {
    if (sha256Digest(blob.data) !== blob.digest) {
      throw new OciWriteError(
        'DIGEST_MISMATCH',
        `blob ${blob.digest} has bytes whose digest is ${sha256Digest(blob.data)}`,
      );
    }
    const head = await this.request('HEAD', `/v2/${repo}/blobs/${blob.digest}`);
    if (head.status === 200) return;
    const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`);
    await this.expectStatus(start, 202, `starting the upload of ${blob.digest} to ${repo}`);
    const location = start.headers.get('location');
    if (!location)
      throw new OciWriteError('REGISTRY_ERROR', `upload of ${blob.digest} to ${repo}: no Location header`);
    const uploadUrl = new URL(location, this.base + '/');
    uploadUrl.searchParams.set('digest', blob.digest);
    const put = await this.request('PUT', uploadUrl.toString(), blob.data, {
      'content-type': 'application/octet-stream',
    });
    await this.expectStatus(put, 201, `uploading ${blob.digest} to ${repo}`);
    this.checkDigestHeader(put, blob.digest, `blob upload to ${repo}`);
  }

  async putManifest(repo: string, manifest: Buffer, mediaType: string, reference: string): Promise<string> {
    const digest = sha256Digest(manifest);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new OciWriteError(
        'DIGEST_MISMATCH',
        `manifest pushed by digest ${reference} hashes to ${digest}`,
      );
    }
    const res = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, manifest, {
      'content-type': mediaType,
    });
    await this.expectStatus(res, 201, `putting manifest ${repo}:${reference}`);
    this.checkDigestHeader(res, digest, `manifest ${repo}:${reference}`);
    if (res.headers.get('oci-subject')) this.subjectIndexed.add(`${repo}@${digest}`);
    return digest;
  }

  indexedSubjectOf(repo: string, manifestDigest: string): boolean {
    return this.subjectIndexed.has(`${repo}@${manifestDigest}`);
  }

  async getManifest(repo: string, reference: string): Promise<StoredManifest | undefined> {
    const res = await this.request('GET', `/v2/${repo}/manifests/${reference}`, undefined, {
      accept: MANIFEST_ACCEPT,
    });
    if (res.status === 404) {
      await res.arrayBuffer();
      return undefined;
    }
    await this.expectStatus(res, 200, `reading manifest ${repo}:${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new OciWriteError(
        'DIGEST_MISMATCH',
        `manifest ${repo}@${reference} has bytes whose digest is ${digest}`,
      );
    }
    const mediaType = res.headers.get('content-type') ?? '';
    return { bytes, mediaType, digest };
  }

  private checkDigestHeader(res: Response, expected: string, what: string): void {
    const got = res.headers.get('docker-content-digest');
    if (got && got !== expected) {
      throw new OciWriteError('DIGEST_MISMATCH', `${what}: registry reports ${got}, expected ${expected}`);
    }
  }

  private async expectStatus(res: Response, status: number, what: string): Promise<void> {
    if (res.status === status) return;
    const body = (await res.text()).slice(0, 500);
    const code = res.status === 401 || res.status === 403 ? 'AUTH_REJECTED' : 'REGISTRY_ERROR';
    throw new OciWriteError(code, `${what}: expected HTTP ${status}, got ${res.status} ${body}`);
  }

  /** One request, answering at most one auth challenge. */
  private async request(
    method: string,
    pathOrUrl: string,
    body?: Buffer,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.base + pathOrUrl;
    const send = (auth: string | undefined): Promise<Response> =>
      fetch(url, {
        method,
        headers: { ...headers, ...(auth ? { authorization: auth } : {}) },
        body,
        redirect: 'follow',
        signal: AbortSignal.timeout(30_000),
      });
    const first = await send(this.lastAuth);
    if (first.status !== 401) return first;
    await first.arrayBuffer();
    const auth = await this.answerChallenge(first.headers.get('www-authenticate') ?? '');
    const second = await send(auth);
    if (second.status === 401) {
      await second.arrayBuffer();
      throw new OciWriteError('AUTH_REJECTED', `${method} ${url}: the registry rejected the credentials`);
    }
    this.lastAuth = auth;
    return second;
  }

  private async answerChallenge(header: string): Promise<string> {
    const challenge = parseChallenge(header);
    const creds = this.credentials;
    if (challenge.scheme === 'basic') {
      if (!creds || !('username' in creds)) {
        throw new OciWriteError(
          'AUTH_UNSUPPORTED',
          `the registry asks for Basic auth and no username/password was given`,
        );
      }
      return 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    }
    if (challenge.scheme !== 'bearer') {
      throw new OciWriteError('AUTH_UNSUPPORTED', `unsupported auth challenge: ${JSON.stringify(header)}`);
    }
    if (creds && 'bearerToken' in creds) {
      // A fixed token was already sent and refused.
      throw new OciWriteError('AUTH_REJECTED', `the registry refused the given bearer token (${header})`);
    }
    const { realm, service, scope } = challenge.params;
    if (!realm) throw new OciWriteError('AUTH_UNSUPPORTED', `Bearer challenge without realm: ${header}`);
    const key = `${realm} ${service ?? ''} ${scope ?? ''}`;
    const cached = this.authByScope.get(key);
    if (cached && cached !== this.lastAuth) return cached;
    const tokenUrl = new URL(realm);
    let res: Response;
    if (creds && 'identityToken' in creds) {
      // Docker's OAuth2 refresh-token grant: the identity token is never sent as a password.
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        client_id: 'trustops',
        ...(service ? { service } : {}),
        ...(scope ? { scope } : {}),
      });
      res = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.timeout(30_000),
      });
    } else {
      if (service) tokenUrl.searchParams.set('service', service);
      if (scope) tokenUrl.searchParams.set('scope', scope);
      res = await fetch(tokenUrl, {
        headers: creds
          ? {
              authorization: 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64'),
            }
          : {},
        signal: AbortSignal.timeout(30_000),
      });
    }
    if (res.status === 401 || res.status === 403) {
      await res.arrayBuffer();
      throw new OciWriteError(
        'AUTH_REJECTED',
        `token server ${realm} rejected the credentials (HTTP ${res.status})`,
      );
    }
    if (!res.ok) {
      throw new OciWriteError(
        'REGISTRY_ERROR',
        `token server ${realm}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`,
      );
    }
    const json = (await res.json()) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (!token) throw new OciWriteError('REGISTRY_ERROR', `token server ${realm} answered without a token`);
    const auth = `Bearer ${token}`;
    this.authByScope.set(key, auth);
    return auth;
  }
}
