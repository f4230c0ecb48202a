import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildImage } from '../../cli/oci/image';
import type { RegistryClient } from '../../policy-pack/registry/types';
import { rejectsWithCode, testClient } from './support/env';

/**
 * HTTPS is the default transport: a loopback HTTPS endpoint with a self-signed certificate (made by the
 * openssl CLI) is trusted only when its CA is configured, and a redirect from HTTPS to plain HTTP is
 * never followed, even to loopback.
 */
describe('registry/https: certificate verification and no downgrade', function () {
  let dir: string;
  let cert: string;
  let server: https.Server;
  let port: number;
  const image = buildImage({ seed: 'https' });
  const clients: RegistryClient[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-https-'));
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
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    server = https.createServer({ cert, key: fs.readFileSync(path.join(dir, 'key.pem')) }, (req, res) => {
      if (req.url === `/v2/team/app/manifests/${image.digest}`) {
        res
          .writeHead(200, {
            'content-type': image.mediaType,
            'content-length': String(image.manifest.length),
          })
          .end(image.manifest);
      } else if (req.url === '/v2/team/app/manifests/downgrade') {
        res
          .writeHead(307, { location: `http://127.0.0.1:${port}/v2/team/app/manifests/${image.digest}` })
          .end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    for (const c of clients) c.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const client = (ca?: string): RegistryClient => {
    const c = testClient({
      mirrors: { 'secure.test': `https://127.0.0.1:${port}` },
      ...(ca ? { caCertificates: [ca] } : {}),
    });
    clients.push(c);
    return c;
  };

  it('reads over HTTPS when the private CA is configured', async () => {
    const r = await client(cert).resolve(`secure.test/team/app@${image.digest}`);
    assert.deepEqual(r.manifest.bytes, image.manifest);
  });

  it('an unverifiable certificate is INSECURE_TRANSPORT, not retried', async () => {
    const c = client();
    await rejectsWithCode(c.resolve(`secure.test/team/app@${image.digest}`), 'INSECURE_TRANSPORT');
    assert.equal(c.stats().retries, 0);
  });

  it('a redirect from HTTPS to plain HTTP is INSECURE_TRANSPORT, even to loopback', async () => {
    await rejectsWithCode(client(cert).resolve('secure.test/team/app:downgrade'), 'INSECURE_TRANSPORT');
  });
});
