// @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill loaded first
import 'reflect-metadata';
import {
  createPrivateKey,
  randomBytes,
  randomUUID,
  timingSafeEqual,
  webcrypto,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
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
  /**
   * Issue pull-only tokens to requests without credentials, as public registries (Docker Hub, ghcr.io)
   * do for public images. Wrong credentials are still refused. Default false.
   */
  anonymousPull?: boolean;
  /**
   * Also accept this identity (refresh) token by the OAuth2 refresh-token grant (a POSTed form), as
   * Docker's config.json `identitytoken` is used. Issued tokens then name `username` as the subject.
   */
  identityToken?: string;
}

/**
 * A self-signed P-256 certificate and its key. No extended key usage: Go's x509 verification in the
 * registry then accepts it for any purpose.
 */
async function selfSignedCertificate(): Promise<{ certPem: string; key: KeyObject }> {
  const crypto = webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0];
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(8)
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: 'CN=trustops-test-token-issuer',
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 24 * 3600_000),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certPem: cert.toString('pem'),
    key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
  };
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
  const { certPem, key } = await selfSignedCertificate();
  const x5c = [new X509Certificate(certPem).raw.toString('base64')];
  const stats = { issued: 0, refused: 0 };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'POST' && url.pathname === '/token') {
        // the refresh-token grant: service and scope come in the form, not the query
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        const refresh = form.get('refresh_token') ?? '';
        if (
          form.get('grant_type') !== 'refresh_token' ||
          opts.identityToken === undefined ||
          !sameSecret(refresh, opts.identityToken)
        ) {
          stats.refused++;
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
          return;
        }
        url.searchParams.set('service', form.get('service') ?? '');
        for (const scope of (form.get('scope') ?? '').split(' ').filter(Boolean)) {
          url.searchParams.append('scope', scope);
        }
        req.headers.authorization =
          'Basic ' + Buffer.from(`${opts.username}:${opts.password}`).toString('base64');
      }
      const header = req.headers.authorization ?? '';
      const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString() : '';
      const colon = decoded.indexOf(':');
      const user = colon < 0 ? '' : decoded.slice(0, colon);
      const password = colon < 0 ? '' : decoded.slice(colon + 1);
      if (url.pathname !== '/token') {
        res.writeHead(404).end();
        return;
      }
      const anonymous = header === '' && opts.anonymousPull === true;
      if (!anonymous && !(sameSecret(user, opts.username) && sameSecret(password, opts.password))) {
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
      let access = accessFor(url.searchParams.getAll('scope'));
      if (anonymous) {
        access = access
          .map((a) => ({ ...a, actions: a.actions.filter((x) => x === 'pull') }))
          .filter((a) => a.actions.length > 0);
      }
      const token = await new SignJWT({ access })
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
