import * as http from 'node:http';

/**
 * A loopback reverse proxy in front of the real registry that can make it lie. Each fault matches
 * requests (method + path regexp) and replaces the honest answer: corrupt or substitute bodies, stall,
 * answer with a status (500/429 storms), stream an oversized body, or redirect elsewhere. Everything
 * else is forwarded unchanged, headers (and so authentication) included.
 */

export type FaultAction =
  /** Forward, but flip one byte of the body (headers, including Docker-Content-Digest, kept). */
  | { kind: 'corrupt' }
  /** Answer 200 with this body instead (headers from upstream except length). */
  | { kind: 'replace'; body: Buffer; dropDigestHeader?: boolean; contentType?: string }
  /** Never answer; the socket stays open until the proxy closes. */
  | { kind: 'stall' }
  /** Send headers and half the body, then stall. */
  | { kind: 'stall-body' }
  /** Answer with `status` and optional headers, empty body. */
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Stream `bytes` of filler, with or without a Content-Length header. */
  | { kind: 'oversize'; bytes: number; declareLength: boolean }
  /** Declare the right length but close after half of the body. */
  | { kind: 'truncate' }
  /** Forward honestly after `ms`. */
  | { kind: 'delay'; ms: number }
  /** 307 to `location` (path of the original request appended when it ends with '/'). */
  | { kind: 'redirect'; location: string };

export interface Fault {
  method?: string;
  path: RegExp;
  action: FaultAction;
  /** Apply to this many matching requests, then forward honestly. Default: every time. */
  times?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  authorization?: string;
  at: number;
}

export class FaultProxy {
  readonly seen: SeenRequest[] = [];
  private faults: Fault[] = [];
  private server?: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true });
  port = 0;
  /** Requests being answered right now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly upstream: string) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  setFaults(faults: Fault[]): void {
    this.faults = faults.map((f) => ({ ...f }));
    this.seen.length = 0;
    this.maxInFlight = this.inFlight;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private takeFault(req: http.IncomingMessage): FaultAction | undefined {
    const path = req.url ?? '';
    for (const fault of this.faults) {
      if (fault.method && fault.method !== req.method) continue;
      if (!fault.path.test(path)) continue;
      if (fault.times !== undefined) {
        if (fault.times <= 0) continue;
        fault.times--;
      }
      return fault.action;
    }
    return undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.seen.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      at: Date.now(),
    });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);
    const action = this.takeFault(req);
    switch (action?.kind) {
      case 'stall':
        return; // hold the request open
      case 'status':
        res.writeHead(action.status, action.headers).end();
        return;
      case 'redirect':
        res
          .writeHead(307, {
            location: action.location.endsWith('/')
              ? action.location + (req.url ?? '').slice(1)
              : action.location,
          })
          .end();
        return;
      case 'oversize': {
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          ...(action.declareLength ? { 'content-length': String(action.bytes) } : {}),
        });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = action.bytes;
        const pump = (): void => {
          while (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      case 'delay':
        setTimeout(() => this.forward(req, res, undefined), action.ms);
        return;
      default:
        this.forward(req, res, action);
    }
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    action: FaultAction | undefined,
  ): void {
    const upstream = http.request(new URL(req.url ?? '/', this.upstream), {
      method: req.method,
      headers: { ...req.headers, host: new URL(this.upstream).host },
      agent: this.agent,
    });
    upstream.on('error', () => res.destroy());
    upstream.on('response', (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        let body: Buffer = Buffer.concat(chunks);
        const headers = { ...up.headers };
        delete headers['content-length'];
        delete headers['transfer-encoding'];
        let status = up.statusCode ?? 502;
        if (action?.kind === 'corrupt' && body.length > 0) {
          body = Buffer.from(body);
          const i = Math.floor(body.length / 2);
          body[i] = (body[i] ?? 0) ^ 0x01;
        } else if (action?.kind === 'replace') {
          body = action.body;
          status = 200;
          if (action.dropDigestHeader) delete headers['docker-content-digest'];
          if (action.contentType) headers['content-type'] = action.contentType;
        } else if (action?.kind === 'truncate') {
          res.writeHead(status, { ...headers, 'content-length': String(body.length) });
          res.write(body.subarray(0, Math.floor(body.length / 2)));
          setTimeout(() => res.destroy(), 20);
          return;
        } else if (action?.kind === 'stall-body') {
          res.writeHead(status, { ...headers, 'content-length': String(body.length) });
          res.write(body.subarray(0, Math.floor(body.length / 2)));
          return; // never finish
        }
        res.writeHead(status, { ...headers, 'content-length': String(body.length) });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    });
    req.pipe(upstream);
  }
}

/** A second loopback origin that records what reaches it and serves fixed bodies by path. */
export class RecordingOrigin {
  readonly seen: SeenRequest[] = [];
  readonly bodies = new Map<string, Buffer>();
  private server?: http.Server;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      this.seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        at: Date.now(),
      });
      const body = this.bodies.get(req.url ?? '');
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' })
        .end(body);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
