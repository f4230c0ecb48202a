import { RegistryError, type RegistryErrorDetails } from './errors';
import type { HttpTransport, TransportResponse } from './transport';
import type { CredentialSource, RegistryCredential } from './types';

/**
 * Registry authentication: anonymous first, then whatever the registry's 401 challenge asks for —
 * Basic with the user's credentials, or the Bearer token flow (realm, service, scope) with anonymous,
 * Basic or identity-token grants. What was learned (scheme, realm, tokens per scope) is remembered for the
 * client's life so later requests go out authorised and skip the 401 round trip.
 */

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `WWW-Authenticate` (`Bearer realm="…",service="…",scope="…"`, `Basic realm="…"`). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const challenges: Challenge[] = [];
  const token = /\s*([A-Za-z][A-Za-z0-9._~+/-]*)(?:\s+|$)/y;
  const param = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;
  let i = 0;
  while (i < text.length) {
    token.lastIndex = i;
    const m = token.exec(text);
    if (!m || m[1] === undefined) break;
    const challenge: Challenge = { scheme: m[1].toLowerCase(), params: {} };
    i = token.lastIndex;
    for (;;) {
      param.lastIndex = i;
      const p = param.exec(text);
      if (!p || p[1] === undefined) break;
      // A bare word followed by a space is the next challenge's scheme, not a parameter.
      challenge.params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
      i = param.lastIndex;
    }
    challenges.push(challenge);
    while (i < text.length && (text[i] === ',' || text[i] === ' ')) i++;
  }
  return challenges;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

const TOKEN_RESPONSE_LIMIT = 1024 * 1024;
/** Docker's default when a token response names no lifetime. */
const DEFAULT_TOKEN_SECONDS = 60;

export class RegistryAuthenticator {
  private scheme: 'unknown' | 'basic' | 'bearer' = 'unknown';
  private bearer?: { realm: URL; service?: string };
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  private credential?: Promise<RegistryCredential | undefined>;

  constructor(
    private readonly registry: string,
    private readonly transport: HttpTransport,
    private readonly credentials: CredentialSource | undefined,
    private readonly credentialHost: string = registry,
  ) {}

  private lookupCredential(): Promise<RegistryCredential | undefined> {
    this.credential ??= this.credentials
      ? this.credentials.lookup(this.credentialHost).catch((cause: unknown) => {
          this.credential = undefined;
          throw cause instanceof RegistryError
            ? cause
            : new RegistryError(
                'CREDENTIALS_ERROR',
                `Looking up credentials for ${this.credentialHost} failed; check Docker's config.json and credential helpers.`,
                { registry: this.registry, cause },
              );
        })
      : Promise.resolve(undefined);
    return this.credential;
  }

  /** Authorization headers for a request needing `scope`, from what earlier challenges taught. */
  async headers(scope: string, details: RegistryErrorDetails): Promise<Record<string, string>> {
    if (this.scheme === 'basic') {
      const cred = await this.lookupCredential();
      return cred?.kind === 'basic' ? { authorization: basicHeader(cred) } : {};
    }
    if (this.scheme === 'bearer') {
      const token = await this.token(scope, details);
      return { authorization: `Bearer ${token.value}` };
    }
    return {};
  }

  /**
   * Learns from a 401. Returns true when a retry with new headers can succeed; throws UNAUTHORIZED when
   * it cannot (no credentials, or they were already refused).
   */
  async handleUnauthorized(
    res: TransportResponse,
    scope: string,
    alreadyRetried: boolean,
    details: RegistryErrorDetails,
    sentAuthorization: boolean,
  ): Promise<boolean> {
    const challenges = parseChallenges(res.headers['www-authenticate']);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    const cred = await this.lookupCredential();
    if (bearer?.params.error === 'insufficient_scope' && alreadyRetried) {
      throw denied(this.registry, details);
    }
    if (!alreadyRetried && bearer?.params.realm) {
      let realm: URL;
      try {
        realm = new URL(bearer.params.realm);
      } catch (cause) {
        throw new RegistryError('BAD_RESPONSE', `${this.registry} named an invalid token realm.`, {
          ...details,
          cause,
        });
      }
      this.transport.assertTransportAllowed(realm, details);
      const sameRealm = this.scheme === 'bearer' && this.bearer?.realm.href === realm.href;
      if (!sameRealm) this.tokens.clear();
      this.scheme = 'bearer';
      this.bearer = { realm, service: bearer.params.service };
      // Only a token that was sent and refused is dropped; requests that raced ahead of the first
      // challenge simply retry and share the one token fetch.
      if (sentAuthorization) this.tokens.delete(scope);
      return true;
    }
    if (!alreadyRetried && basic && cred?.kind === 'basic') {
      this.scheme = 'basic';
      return true;
    }
    throw unauthorized(this.registry, cred !== undefined, details);
  }

  private token(scope: string, details: RegistryErrorDetails): Promise<CachedToken> {
    const cached = this.tokens.get(scope);
    if (cached) {
      return cached.then((t) => {
        if (t.expiresAt > Date.now()) return t;
        this.tokens.delete(scope);
        return this.token(scope, details);
      });
    }
    const loading = this.fetchToken(scope, details);
    this.tokens.set(scope, loading);
    loading.catch(() => {
      if (this.tokens.get(scope) === loading) this.tokens.delete(scope);
    });
    return loading;
  }

  private async fetchToken(scope: string, details: RegistryErrorDetails): Promise<CachedToken> {
    const bearer = this.bearer;
    if (!bearer) throw new Error('token requested before a Bearer challenge');
    const cred = await this.lookupCredential();
    const url = new URL(bearer.realm);
    const headers: Record<string, string> = { accept: 'application/json' };
    let method: 'GET' | 'POST' = 'GET';
    let body: Buffer | undefined;
    if (cred?.kind === 'identity-token') {
      // Docker's OAuth2 refresh-token grant: the identity token is never sent as a password.
      method = 'POST';
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.token,
        client_id: 'trustops',
        scope,
      });
      if (bearer.service) form.set('service', bearer.service);
      body = Buffer.from(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (bearer.service) url.searchParams.set('service', bearer.service);
      url.searchParams.set('scope', scope);
      if (cred?.kind === 'basic') headers.authorization = basicHeader(cred);
    }
    const res = await this.transport.request({
      method,
      url,
      headers,
      body,
      maxBytes: TOKEN_RESPONSE_LIMIT,
      details,
    });
    if (res.status === 401 || res.status === 403)
      throw unauthorized(this.registry, cred !== undefined, details);
    if (res.status !== 200) {
      throw new RegistryError(
        'BAD_RESPONSE',
        `The token service of ${this.registry} answered ${res.status}.`,
        {
          ...details,
          status: res.status,
        },
      );
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(res.body.toString('utf8')) as typeof parsed;
    } catch (cause) {
      throw new RegistryError('BAD_RESPONSE', `The token service of ${this.registry} did not return JSON.`, {
        ...details,
        cause,
      });
    }
    const value = typeof parsed.token === 'string' ? parsed.token : parsed.access_token;
    if (typeof value !== 'string' || value === '' || /[\r\n]/.test(value)) {
      throw new RegistryError(
        'BAD_RESPONSE',
        `The token service of ${this.registry} returned no usable token.`,
        details,
      );
    }
    const seconds =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0
        ? parsed.expires_in
        : DEFAULT_TOKEN_SECONDS;
    // Renew a little early so a token never expires between being read and being used.
    return { value, expiresAt: Date.now() + Math.max(1, seconds - 5) * 1000 };
  }
}

function basicHeader(cred: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
}

function unauthorized(
  registry: string,
  hadCredentials: boolean,
  details: RegistryErrorDetails,
): RegistryError {
  return new RegistryError(
    'UNAUTHORIZED',
    hadCredentials
      ? `${registry} refused the configured credentials; log in again (docker login ${registry}) or fix the credential helper.`
      : `${registry} requires authentication and no credentials are configured for it; run \`docker login ${registry}\` ` +
          'or set TRUSTOPS_REGISTRY_HOST/TRUSTOPS_REGISTRY_USERNAME/TRUSTOPS_REGISTRY_PASSWORD.',
    { ...details, registry, status: 401 },
  );
}

export function denied(registry: string, details: RegistryErrorDetails): RegistryError {
  return new RegistryError(
    'DENIED',
    `${registry} denied access to ${details.repository ?? 'the repository'}; the credentials in use lack pull permission on it.`,
    { ...details, registry, status: 403 },
  );
}
