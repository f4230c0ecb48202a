import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { RegistryPusher } from '../../cli/oci/push';
import { parseChallenges as parseAuthChallenges } from '../../policy-pack/registry/auth';
import { createRegistryClient } from '../../policy-pack/registry/client';
import {
  dockerConfigCredentials,
  environmentCredentials,
  runCredentialHelper,
} from '../../policy-pack/registry/credentials';
import type {
  RegistryClient,
  RegistryClientOptions,
  RegistryLogEvent,
} from '../../policy-pack/registry/types';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { startTokenServer, type TokenServer } from '../support/token-server';
import { FaultProxy } from './support/fault-proxy';
import { ANONYMOUS, fixedCredentials, rejectsWithCode, testClient } from './support/env';
import { pushSignedImage, type SignedImage } from './support/signed-image';

const USER = 'alice';
const PASSWORD = 'correct-Horse-battery-9';

/** Nothing secret may appear in an error or a log event. */
function assertNoSecret(text: string): void {
  assert.ok(!text.includes(PASSWORD), 'password leaked');
  assert.ok(!text.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')), 'basic credential leaked');
}

function errorText(e: Error): string {
  return `${e.message} ${JSON.stringify(e)} ${String((e as { cause?: unknown }).cause ?? '')}`;
}

async function expectSignedImage(client: RegistryClient, host: string, signed: SignedImage): Promise<void> {
  const resolved = await client.resolve(`${host}/team/app:v1`);
  assert.equal(resolved.digest, signed.descriptor.digest);
  const found = await client.attachments(resolved.reference, resolved.digest);
  assert.equal(found.signatures.length, 1);
  assert.equal(found.bundles.length, 1);
}

describe('registry/auth: Basic auth against the real registry', function () {
  let registry: RunningRegistry;
  let signed: SignedImage;
  let tmp: string;
  const clients: RegistryClient[] = [];
  const client = (opts: RegistryClientOptions): RegistryClient => {
    const c = testClient(opts);
    clients.push(c);
    return c;
  };

  before(async () => {
    registry = await startRegistry({ auth: { kind: 'basic', username: USER, password: PASSWORD } });
    const pusher = new RegistryPusher(registry.url, { username: USER, password: PASSWORD });
    signed = await pushSignedImage(pusher, {
      repo: 'team/app',
      seed: 'basic',
      name: 'b/app',
      tag: 'v1',
      cosignSignatures: 1,
      bundles: 1,
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-auth-'));
  });
  after(async () => {
    for (const c of clients) c.close();
    await registry?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('anonymous: UNAUTHORIZED, with a message that says how to log in', async () => {
    const err = await rejectsWithCode(
      client({ credentials: ANONYMOUS }).resolve(`${registry.host}/team/app:v1`),
      'UNAUTHORIZED',
    );
    assert.match(err.message, /docker login/);
  });

  it('wrong password: UNAUTHORIZED, and the password is in no message or log event', async () => {
    const events: RegistryLogEvent[] = [];
    const c = client({
      credentials: fixedCredentials(registry.host, {
        kind: 'basic',
        username: USER,
        password: 'wrong-' + PASSWORD,
      }),
      log: (e) => events.push(e),
    });
    const err = await rejectsWithCode(c.resolve(`${registry.host}/team/app:v1`), 'UNAUTHORIZED');
    assertNoSecret(errorText(err));
    assert.ok(!errorText(err).includes('wrong-'));
    assert.ok(!JSON.stringify(events).includes('wrong-'));
  });

  it('right credentials: reads the image and its attachments; one challenge, then Basic up front', async () => {
    const events: RegistryLogEvent[] = [];
    const c = client({
      credentials: fixedCredentials(registry.host, { kind: 'basic', username: USER, password: PASSWORD }),
      log: (e) => events.push(e),
    });
    await expectSignedImage(c, registry.host, signed);
    assert.equal(events.filter((e) => e.event === 'auth-challenge').length, 1);
    assertNoSecret(JSON.stringify(events));
  });

  it("credentials from Docker's config.json `auths` (base64 auth)", async () => {
    const dir = path.join(tmp, 'auths');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        auths: { [registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
      }),
    );
    await expectSignedImage(
      client({ credentials: dockerConfigCredentials({ configDir: dir }) }),
      registry.host,
      signed,
    );
  });

  it('DOCKER_CONFIG selects the config directory; username/password entries work too', async () => {
    const dir = path.join(tmp, 'docker-config-env');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ auths: { [`https://${registry.host}`]: { username: USER, password: PASSWORD } } }),
    );
    await expectSignedImage(
      client({ credentials: dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } }) }),
      registry.host,
      signed,
    );
  });

  describe('credential helpers (docker-credential-*)', () => {
    let helperDir: string;
    let env: NodeJS.ProcessEnv;
    before(() => {
      helperDir = path.join(tmp, 'helpers');
      fs.mkdirSync(helperDir);
      // A real helper program speaking Docker's protocol: server URL on stdin, JSON on stdout.
      fs.writeFileSync(
        path.join(helperDir, 'docker-credential-trustopstest'),
        [
          '#!/bin/sh',
          'test "$1" = get || exit 3',
          'read -r host',
          `if [ "$host" = "${registry.host}" ]; then`,
          `  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$host"`,
          'else',
          '  echo "credentials not found in native keychain" >&2; exit 1',
          'fi',
        ].join('\n') + '\n',
        { mode: 0o755 },
      );
      fs.writeFileSync(path.join(helperDir, 'docker-credential-broken'), '#!/bin/sh\necho "{not json"\n', {
        mode: 0o755,
      });
      env = { ...process.env, PATH: `${helperDir}:${process.env.PATH ?? ''}` };
    });

    it('credHelpers[host] runs the named helper', async () => {
      const dir = path.join(tmp, 'credhelpers');
      fs.mkdirSync(dir);
      fs.writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ credHelpers: { [registry.host]: 'trustopstest' } }),
      );
      await expectSignedImage(
        client({ credentials: dockerConfigCredentials({ configDir: dir, env }) }),
        registry.host,
        signed,
      );
    });

    it('credsStore is the fallback for every host; "not found" means anonymous', async () => {
      const dir = path.join(tmp, 'credsstore');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ credsStore: 'trustopstest' }));
      const source = dockerConfigCredentials({ configDir: dir, env });
      await expectSignedImage(client({ credentials: source }), registry.host, signed);
      assert.equal(await source.lookup('other.example.com'), undefined);
    });

    it('a missing or broken helper is CREDENTIALS_ERROR, and a bad helper name is never executed', async () => {
      await rejectsWithCode(runCredentialHelper('does-not-exist', registry.host, env), 'CREDENTIALS_ERROR');
      await rejectsWithCode(runCredentialHelper('broken', registry.host, env), 'CREDENTIALS_ERROR');
      await rejectsWithCode(runCredentialHelper('../../bin/sh', registry.host, env), 'CREDENTIALS_ERROR');
      const dir = path.join(tmp, 'broken');
      fs.mkdirSync(dir);
      fs.writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ credHelpers: { [registry.host]: 'does-not-exist' } }),
      );
      await rejectsWithCode(
        client({ credentials: dockerConfigCredentials({ configDir: dir, env }) }).resolve(
          `${registry.host}/team/app:v1`,
        ),
        'CREDENTIALS_ERROR',
      );
    });
  });

  it('environment variables, scoped to the one host they name', async () => {
    const env = {
      TRUSTOPS_REGISTRY_HOST: registry.host,
      TRUSTOPS_REGISTRY_USERNAME: USER,
      TRUSTOPS_REGISTRY_PASSWORD: PASSWORD,
    };
    await expectSignedImage(client({ credentials: environmentCredentials(env) }), registry.host, signed);
    assert.equal(await environmentCredentials(env).lookup('ghcr.io'), undefined);
  });

  it('a malformed config.json is CREDENTIALS_ERROR', async () => {
    const dir = path.join(tmp, 'malformed');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"auths": ');
    await rejectsWithCode(
      client({ credentials: dockerConfigCredentials({ configDir: dir }) }).resolve(
        `${registry.host}/team/app:v1`,
      ),
      'CREDENTIALS_ERROR',
    );
  });

  it('403 from the registry is DENIED', async () => {
    const proxy = await new FaultProxy(registry.url).start();
    try {
      proxy.setFaults([{ path: /manifests/, action: { kind: 'status', status: 403 } }]);
      const c = client({
        credentials: fixedCredentials(proxy.host, { kind: 'basic', username: USER, password: PASSWORD }),
      });
      await rejectsWithCode(c.resolve(`${proxy.host}/team/app:v1`), 'DENIED');
    } finally {
      await proxy.close();
    }
  });
});

describe('registry/auth: Bearer token flow against the real registry and token server', function () {
  let tokens: TokenServer;
  let registry: RunningRegistry;
  let signed: SignedImage;

  before(async () => {
    tokens = await startTokenServer({ username: USER, password: PASSWORD });
    registry = await startRegistry({ auth: tokens.registryAuth });
    const pusher = new RegistryPusher(registry.url, { username: USER, password: PASSWORD });
    signed = await pushSignedImage(pusher, {
      repo: 'team/app',
      seed: 'token',
      name: 't/app',
      tag: 'v1',
      cosignSignatures: 1,
      bundles: 1,
    });
  });
  after(async () => {
    await registry?.stop();
    await tokens?.close();
  });

  it('follows the challenge (realm, service, scope) and reuses one pull token for the whole repository', async () => {
    const before = tokens.stats.issued;
    const events: RegistryLogEvent[] = [];
    const c = testClient({
      credentials: fixedCredentials(registry.host, { kind: 'basic', username: USER, password: PASSWORD }),
      log: (e) => events.push(e),
    });
    try {
      await expectSignedImage(c, registry.host, signed);
      assert.equal(tokens.stats.issued - before, 1, 'one token for repository:team/app:pull');
      assertNoSecret(JSON.stringify(events));
    } finally {
      c.close();
    }
  });

  it('the challenge names the realm the client followed', async () => {
    const res = await fetch(`${registry.url}/v2/team/app/manifests/v1`);
    const [challenge] = parseAuthChallenges(res.headers.get('www-authenticate') ?? undefined);
    assert.equal(challenge?.params.realm, tokens.realm);
    assert.equal(challenge?.params.service, tokens.service);
    await res.arrayBuffer();
  });

  it('wrong credentials at the token service: UNAUTHORIZED without leaking them', async () => {
    const c = testClient({
      credentials: fixedCredentials(registry.host, {
        kind: 'basic',
        username: USER,
        password: 'nope-' + PASSWORD,
      }),
    });
    try {
      const err = await rejectsWithCode(c.resolve(`${registry.host}/team/app:v1`), 'UNAUTHORIZED');
      assert.ok(!errorText(err).includes('nope-'));
    } finally {
      c.close();
    }
  });

  it('anonymous: UNAUTHORIZED', async () => {
    const c = createRegistryClient({ credentials: ANONYMOUS, retry: { retries: 0 } });
    try {
      await rejectsWithCode(c.resolve(`${registry.host}/team/app:v1`), 'UNAUTHORIZED');
    } finally {
      c.close();
    }
  });

  it('an identity token is exchanged with the refresh-token grant (POST), never sent as a password', async () => {
    const seen: { method?: string; body: string; authorization?: string }[] = [];
    const realm = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, body, authorization: req.headers.authorization });
        res.writeHead(401).end();
      });
    });
    await new Promise<void>((resolve) => realm.listen(0, '127.0.0.1', resolve));
    const port = (realm.address() as { port: number }).port;
    const proxy = await new FaultProxy(registry.url).start();
    proxy.setFaults([
      {
        path: /manifests/,
        action: {
          kind: 'status',
          status: 401,
          headers: { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="svc"` },
        },
      },
    ]);
    const c = testClient({
      credentials: fixedCredentials(proxy.host, { kind: 'identity-token', token: 'refresh-XYZ' }),
    });
    try {
      const err = await rejectsWithCode(c.resolve(`${proxy.host}/team/app:v1`), 'UNAUTHORIZED');
      assert.ok(!errorText(err).includes('refresh-XYZ'));
      assert.equal(seen[0]?.method, 'POST');
      const form = new URLSearchParams(seen[0]?.body);
      assert.equal(form.get('grant_type'), 'refresh_token');
      assert.equal(form.get('refresh_token'), 'refresh-XYZ');
      assert.equal(form.get('service'), 'svc');
      assert.equal(form.get('scope'), 'repository:team/app:pull');
      assert.equal(seen[0]?.authorization, undefined);
    } finally {
      c.close();
      await proxy.close();
      realm.closeAllConnections();
      await new Promise<void>((resolve) => realm.close(() => resolve()));
    }
  });

  it('a token realm on a non-loopback plain-HTTP host is refused (INSECURE_TRANSPORT): credentials never go there', async () => {
    const proxy = await new FaultProxy(registry.url).start();
    proxy.setFaults([
      {
        path: /manifests/,
        action: {
          kind: 'status',
          status: 401,
          headers: { 'www-authenticate': 'Bearer realm="http://auth.example.com/token",service="svc"' },
        },
      },
    ]);
    const c = testClient({
      credentials: fixedCredentials(proxy.host, { kind: 'basic', username: USER, password: PASSWORD }),
    });
    try {
      await rejectsWithCode(c.resolve(`${proxy.host}/team/app:v1`), 'INSECURE_TRANSPORT');
    } finally {
      c.close();
      await proxy.close();
    }
  });
});
