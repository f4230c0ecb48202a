import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { Semaphore } from './concurrency';
import { RegistryError, type RegistryErrorDetails } from './errors';
import { isLoopbackHost } from './reference';
import type { RegistryLogEvent, RegistryRetryPolicy, RegistryTimeouts } from './types';

/**
 * The one place that talks HTTP. node:http gives what fetch does not: a separate connect timeout, a
 * byte limit enforced while the body streams, and manual redirects so credentials can be dropped when
 * a redirect leaves the origin. Everything above this layer sees a status and a bounded body.
 */

export interface TransportOptions {
  timeouts: RegistryTimeouts;
  retry: RegistryRetryPolicy;
  concurrencyPerHost: number;
  /** Hosts (host or host:port) allowed over plain HTTP besides loopback. */
  insecureHosts: ReadonlySet<string>;
  /** Extra trusted CA certificates (PEM), added to Node's roots. */
  caCertificates?: readonly string[];
  log?: (event: RegistryLogEvent) => void;
}

export interface TransportRequest {
  method: 'GET' | 'HEAD' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Largest accepted 2xx body; a bigger one fails with TOO_LARGE before or while it streams. */
  maxBytes: number;
  /** Names the request in errors (registry, repository, reference). */
  details: RegistryErrorDetails;
}

export interface TransportResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: URL;
}

export interface TransportCounters {
  requests: number;
  retries: number;
  byHost: Record<string, number>;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** Error bodies are read only to explain the failure; more than this is never useful. */
const ERROR_BODY_LIMIT = 64 * 1024;
/** Certificate failures: the peer is not who it claims to be, so retrying cannot help. */
const TLS_VERIFICATION_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);
const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN']);

class AttemptFailure extends Error {
  constructor(
    readonly registryError: RegistryError,
    readonly retryable: boolean,
  ) {
    super(registryError.message);
  }
}

export class HttpTransport {
  readonly counters: TransportCounters = { requests: 0, retries: 0, byHost: {} };
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly perHost = new Map<string, Semaphore>();

  constructor(private readonly options: TransportOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.concurrencyPerHost };
    this.httpAgent = new http.Agent(agentOptions);
    const ca = options.caCertificates?.length
      ? [...tls.rootCertificates, ...options.caCertificates]
      : undefined;
    this.httpsAgent = new https.Agent(ca ? { ...agentOptions, ca } : agentOptions);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Throws INSECURE_TRANSPORT unless `url` is https, or http to a loopback or explicitly insecure host. */
  assertTransportAllowed(url: URL, details: RegistryErrorDetails): void {
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && (isLoopbackHost(url.host) || this.isInsecureHost(url))) return;
    throw new RegistryError(
      'INSECURE_TRANSPORT',
      `Refusing ${url.protocol.replace(':', '')} to ${url.host}: registries are reached over HTTPS; plain HTTP is allowed only ` +
        'for loopback hosts and hosts listed with --insecure-registry.',
      { ...details, registry: details.registry ?? url.host },
    );
  }

  private isInsecureHost(url: URL): boolean {
    return this.options.insecureHosts.has(url.host) || this.options.insecureHosts.has(url.hostname);
  }

  /** Sends `req`, following redirects and retrying 429/5xx/connection failures; returns the final response. */
  async request(req: TransportRequest): Promise<TransportResponse> {
    let url = req.url;
    let method = req.method;
    let body = req.body;
    const headers = { ...req.headers };
    const origin = url.origin;
    for (let hop = 0; ; hop++) {
      this.assertTransportAllowed(url, req.details);
      const res = await this.requestWithRetries({ ...req, url, method, body, headers });
      const location = res.headers.location;
      if (!REDIRECT_STATUSES.has(res.status) || location === undefined) return res;
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryError(
          'TOO_MANY_REDIRECTS',
          `${req.details.registry ?? url.host} redirected more than ${MAX_REDIRECTS} times for ${url.pathname}; check the registry or mirror configuration.`,
          req.details,
        );
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (cause) {
        throw new RegistryError('BAD_RESPONSE', `${url.host} redirected to an invalid location.`, {
          ...req.details,
          cause,
        });
      }
      if (url.protocol === 'https:' && next.protocol !== 'https:') {
        throw new RegistryError(
          'INSECURE_TRANSPORT',
          `${url.host} redirected from HTTPS to ${next.protocol.replace(':', '')}://${next.host}; a downgrade is never followed.`,
          req.details,
        );
      }
      // Credentials belong to the origin that asked for them: a redirect elsewhere (blob storage, or a
      // hostile mirror) gets none, and they do not come back on a later hop either.
      if (next.origin !== origin) {
        for (const name of Object.keys(headers))
          if (name.toLowerCase() === 'authorization') delete headers[name];
      }
      if (res.status === 303) {
        method = 'GET';
        body = undefined;
      }
      this.options.log?.({ event: 'redirect', registry: url.host, path: next.pathname, status: res.status });
      url = next;
    }
  }

  private async requestWithRetries(req: TransportRequest): Promise<TransportResponse> {
    const { retries, baseDelayMs, maxDelayMs } = this.options.retry;
    for (let attempt = 0; ; attempt++) {
      let response: TransportResponse | undefined;
      let failure: AttemptFailure | undefined;
      try {
        response = await this.attemptWithPermit(req);
      } catch (e) {
        if (!(e instanceof AttemptFailure)) throw e;
        failure = e;
      }
      if (response && !isRetryableStatus(response.status)) return response;

      const lastAttempt = attempt >= retries;
      if (failure && (!failure.retryable || lastAttempt)) throw failure.registryError;
      if (response && lastAttempt) throw statusExhausted(response, req, attempt + 1);

      let delay = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2));
      if (response) {
        const retryAfter = parseRetryAfter(response.headers['retry-after']);
        if (retryAfter !== undefined && retryAfter > maxDelayMs) {
          throw new RegistryError(
            response.status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE',
            `${req.details.registry ?? req.url.host} asks to retry after ${Math.ceil(retryAfter / 1000)} s, longer than the ` +
              `${maxDelayMs} ms this run waits; try again later or raise the retry maxDelayMs.`,
            { ...req.details, status: response.status },
          );
        }
        if (retryAfter !== undefined) delay = Math.max(delay, retryAfter);
      }
      this.counters.retries++;
      this.options.log?.({
        event: 'retry',
        registry: req.url.host,
        method: req.method,
        path: req.url.pathname,
        status: response?.status,
        attempt: attempt + 1,
        delayMs: Math.round(delay),
      });
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async attemptWithPermit(req: TransportRequest): Promise<TransportResponse> {
    let semaphore = this.perHost.get(req.url.host);
    if (!semaphore) {
      semaphore = new Semaphore(this.options.concurrencyPerHost);
      this.perHost.set(req.url.host, semaphore);
    }
    const release = await semaphore.acquire();
    try {
      this.counters.requests++;
      this.counters.byHost[req.url.host] = (this.counters.byHost[req.url.host] ?? 0) + 1;
      this.options.log?.({
        event: 'request',
        registry: req.url.host,
        method: req.method,
        path: req.url.pathname,
      });
      return await this.attempt(req);
    } finally {
      release();
    }
  }

  /** One HTTP exchange under the connect and request timeouts; the body is read within its limit. */
  private attempt(req: TransportRequest): Promise<TransportResponse> {
    const { connectMs, requestMs } = this.options.timeouts;
    const isHttps = req.url.protocol === 'https:';
    const details = { ...req.details, registry: req.details.registry ?? req.url.host };
    return new Promise<TransportResponse>((resolve, reject) => {
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (err: AttemptFailure | undefined, value?: TransportResponse): void => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        if (err) {
          clientRequest.destroy();
          reject(err);
        } else resolve(value as TransportResponse);
      };
      const fail = (
        code: 'TIMEOUT' | 'UNAVAILABLE' | 'TOO_LARGE' | 'BAD_RESPONSE',
        message: string,
        retryable: boolean,
        cause?: unknown,
      ): void =>
        finish(new AttemptFailure(new RegistryError(code, message, { ...details, cause }), retryable));

      const headers: Record<string, string> = { 'user-agent': 'trustops-registry/0.1', ...req.headers };
      if (req.body) headers['content-length'] = String(req.body.length);
      const clientRequest = (isHttps ? https : http).request(req.url, {
        method: req.method,
        headers,
        agent: isHttps ? this.httpsAgent : this.httpAgent,
      });

      timers.push(
        setTimeout(
          () =>
            fail(
              'TIMEOUT',
              `${details.registry} did not answer ${req.method} ${req.url.pathname} within ${requestMs} ms; check the registry's health ` +
                'or raise the request timeout.',
              false,
            ),
          requestMs,
        ),
      );
      clientRequest.on('socket', (socket) => {
        const connected = isHttps ? 'secureConnect' : 'connect';
        if (!socket.connecting && (!isHttps || (socket as unknown as { encrypted?: boolean }).encrypted))
          return;
        const connectTimer = setTimeout(
          () =>
            fail(
              'TIMEOUT',
              `Could not connect to ${req.url.host} within ${connectMs} ms; check the host name, network and any mirror setting.`,
              false,
            ),
          connectMs,
        );
        timers.push(connectTimer);
        socket.once(connected, () => clearTimeout(connectTimer));
      });
      clientRequest.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== undefined && TLS_VERIFICATION_CODES.has(e.code)) {
          return finish(
            new AttemptFailure(
              new RegistryError(
                'INSECURE_TRANSPORT',
                `The TLS certificate of ${req.url.host} could not be verified (${e.code}); if the registry uses a private CA, ` +
                  'pass its certificate as a trusted CA (caCertificates / --registry-ca). Never disable verification.',
                { ...details, cause: e },
              ),
              false,
            ),
          );
        }
        const retryable = e.code !== undefined && RETRYABLE_NETWORK_CODES.has(e.code);
        fail(
          'UNAVAILABLE',
          `Request to ${req.url.host} failed (${e.code ?? 'network error'}); check that the registry is reachable.`,
          retryable || e.message === 'socket hang up',
          e,
        );
      });
      clientRequest.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const limit = ok ? req.maxBytes : ERROR_BODY_LIMIT;
        const declared = Number(res.headers['content-length']);
        if (ok && Number.isFinite(declared) && declared > req.maxBytes) {
          // Fail first: destroying the response emits 'aborted', which must not win the race.
          fail('TOO_LARGE', tooLargeMessage(details, req, declared), false);
          res.destroy();
          return;
        }
        if (req.method === 'HEAD' || REDIRECT_STATUSES.has(status)) {
          res.resume();
          return finish(undefined, { status, headers: res.headers, body: Buffer.alloc(0), url: req.url });
        }
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > limit) {
            if (ok) {
              fail('TOO_LARGE', tooLargeMessage(details, req, received), false);
              res.destroy();
              return;
            }
            return; // error bodies are truncated, not refused
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (ok && Number.isFinite(declared) && received !== declared) {
            return fail(
              'BAD_RESPONSE',
              `${details.registry} sent ${received} bytes where it declared ${declared}.`,
              true,
            );
          }
          finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks), url: req.url });
        });
        res.on('error', (e) =>
          fail(
            'UNAVAILABLE',
            `${details.registry} closed the connection while sending ${req.url.pathname}.`,
            true,
            e,
          ),
        );
        res.on('aborted', () =>
          fail('UNAVAILABLE', `${details.registry} aborted the response for ${req.url.pathname}.`, true),
        );
      });
      clientRequest.end(req.body);
    });
  }
}

function tooLargeMessage(details: RegistryErrorDetails, req: TransportRequest, bytes: number): string {
  return (
    `${details.registry}${req.url.pathname} is at least ${bytes} bytes, over the ${req.maxBytes}-byte limit; ` +
    'raise the limit only if such content is expected from this registry.'
  );
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

function statusExhausted(res: TransportResponse, req: TransportRequest, attempts: number): RegistryError {
  const rateLimited = res.status === 429;
  return new RegistryError(
    rateLimited ? 'RATE_LIMITED' : 'UNAVAILABLE',
    `${req.details.registry ?? req.url.host} answered ${res.status} to ${req.method} ${req.url.pathname} ${attempts} times; ` +
      (rateLimited
        ? 'it is rate limiting this client: wait, or authenticate for a higher quota.'
        : 'the registry is failing: try again later.'),
    { ...req.details, status: res.status },
  );
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - Date.now());
}
