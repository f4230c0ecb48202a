import { spawnSync } from 'node:child_process';
import { randomUUID, timingSafeEqual, X509Certificate, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SignJWT } from 'jose';
import type { TokenAuthOptions } from './registry';

/**
 * A loopback token server for the registry's `token` auth (the Docker token protocol): it checks Basic
 * credentials at its endpoint and issues ES256 JWTs whose `x5c` header carries a self-signed
 * certificate; the registry trusts that certificate as its `rootcertbundle` (distribution 2.8 verifies
 * the x5c chain against it).
 */
export interface TokenServer {
  /** The token endpoint (the registry's `realm`). */
  realm: string;
  service: string;
  issuer: string;
  /** The certificate PEM to hand the registry as its rootcertbundle. */
  certificatePem: string;
  /** `startRegistry({ auth: server.registryAuth })`. */
  registryAuth: TokenAuthOptions;
  /** How many tokens were issued and refused (tests assert the flow really went through here). */
  stats: { issued: number; refused: number };
  close(): Promise<void>;
}

export interface TokenServerOptions {
  username: string;
  password: string;
  service?: string;
  issuer?: string;
}

/** A self-signed P-256 certificate and key via the openssl CLI (node has no certificate builder). */
function selfSignedCertificate(): { certPem: string; keyPem: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-token-'));
  try {
    const keyPath = path.join(dir, 'key.pem');
    const certPath = path.join(dir, 'cert.pem');
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '1',
        '-subj',
        '/CN=trustops-test-token-issuer',
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0)
      throw new Error(
        `openssl could not create the token signing certificate: ${r.stderr || r.error?.message}`,
      );
    return { certPem: fs.readFileSync(certPath, 'utf8'), keyPem: fs.readFileSync(keyPath, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `repository:app/x:pull,push` -> the access claim entry the registry checks. */
function accessFor(scopes: string[]): { type: string; name: string; actions: string[] }[] {
  return scopes.flatMap((scope) => {
    const parts = scope.split(':');
    const [type, ...rest] = parts;
    const actions = rest.pop();
    const name = rest.join(':');
    return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
  });
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const service = opts.service ?? 'trustops-test-registry';
  const issuer = opts.issuer ?? 'trustops-test-token-issuer';
  const { certPem, keyPem } = selfSignedCertificate();
  const key = createPrivateKey(keyPem);
  const x5c = [new X509Certificate(certPem).raw.toString('base64')];
  const stats = { issued: 0, refused: 0 };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const header = req.headers.authorization ?? '';
      const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString() : '';
      const colon = decoded.indexOf(':');
      const user = colon < 0 ? '' : decoded.slice(0, colon);
      const password = colon < 0 ? '' : decoded.slice(colon + 1);
      if (url.pathname !== '/token') {
        res.writeHead(404).end();
        return;
      }
      if (!(sameSecret(user, opts.username) && sameSecret(password, opts.password))) {
        stats.refused++;
        res.writeHead(401, {
          'www-authenticate': 'Basic realm="trustops-token"',
          'content-type': 'application/json',
        });
        res.end(
          JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'wrong username or password' }] }),
        );
        return;
      }
      if (url.searchParams.get('service') !== service) {
        stats.refused++;
        res
          .writeHead(400)
          .end(
            JSON.stringify({ errors: [{ code: 'INVALID_SERVICE', message: `expected service ${service}` }] }),
          );
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ access: accessFor(url.searchParams.getAll('scope')) })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c })
        .setIssuer(issuer)
        .setSubject(user)
        .setAudience(service)
        .setIssuedAt(now)
        .setNotBefore(now - 5)
        .setExpirationTime(now + 300)
        .setJti(randomUUID())
        .sign(key);
      stats.issued++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          token,
          access_token: token,
          expires_in: 300,
          issued_at: new Date(now * 1000).toISOString(),
        }),
      );
    })().catch((e: unknown) => {
      res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const realm = `http://127.0.0.1:${port}/token`;
  return {
    realm,
    service,
    issuer,
    certificatePem: certPem,
    registryAuth: { kind: 'token', realm, service, issuer, certificatePem: certPem },
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
