import { strict as assert } from 'node:assert';
import { OciWriteError } from '../../cli/oci/errors';
import { buildImage } from '../../cli/oci/image';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { rawManifest } from './raw-distribution';
import { startRegistry, type RunningRegistry } from './registry';
import { startTokenServer, type TokenServer } from './token-server';

const basic = (u: string, p: string): string => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

describe('test bed: registry with token auth', () => {
  let tokens: TokenServer;
  let reg: RunningRegistry;
  before(async () => {
    tokens = await startTokenServer({ username: 'ci', password: 'tok3n' });
    reg = await startRegistry({ auth: tokens.registryAuth });
  });
  after(async () => {
    await reg?.stop();
    await tokens?.close();
  });

  it('challenges anonymous requests with a Bearer realm pointing at the token server', async () => {
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`realm="${tokens.realm}"`));
    assert.ok(challenge.includes(`service="${tokens.service}"`));
  });

  it('the token endpoint rejects a wrong password and issues a token the registry accepts for the right one', async () => {
    const url = `${tokens.realm}?service=${encodeURIComponent(tokens.service)}&scope=repository:app/t:pull`;
    const wrong = await fetch(url, { headers: { authorization: basic('ci', 'wrong') } });
    assert.equal(wrong.status, 401);
    const none = await fetch(url);
    assert.equal(none.status, 401);
    const right = await fetch(url, { headers: { authorization: basic('ci', 'tok3n') } });
    assert.equal(right.status, 200);
    const { token } = (await right.json()) as { token: string };
    const v2 = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(v2.status, 200);
    // a forged token (signature bytes changed) is refused by the registry
    const [h, p, s] = token.split('.');
    const sig = Buffer.from(s ?? '', 'base64url');
    sig[0] = (sig[0] ?? 0) ^ 0x01;
    const forged = `${h}.${p}.${sig.toString('base64url')}`;
    const bad = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal(bad.status, 401);
  });

  it('RegistryPusher follows the Bearer challenge to push, and reads back with a pull token', async () => {
    const before = tokens.stats.issued;
    const img = buildImage({ seed: 'token-push' });
    await pushImage(new RegistryPusher(reg.url, { username: 'ci', password: 'tok3n' }), 'app/t', img, 'v1');
    assert.ok(tokens.stats.issued > before, 'no token was issued during the push');
    const pull = await fetch(
      `${tokens.realm}?service=${encodeURIComponent(tokens.service)}&scope=repository:app/t:pull`,
      { headers: { authorization: basic('ci', 'tok3n') } },
    );
    const { token } = (await pull.json()) as { token: string };
    const got = await rawManifest(reg.url, 'app/t', img.digest, `Bearer ${token}`);
    assert.equal(got.status, 200);
    assert.equal(got.computedDigest, img.digest);
  });

  it('RegistryPusher fails with AUTH_REJECTED when the token server rejects the password', async () => {
    const refused = tokens.stats.refused;
    await assert.rejects(
      pushImage(
        new RegistryPusher(reg.url, { username: 'ci', password: 'nope' }),
        'app/t',
        buildImage({ seed: 'x' }),
        'v2',
      ),
      (e: unknown) => e instanceof OciWriteError && e.code === 'AUTH_REJECTED',
    );
    assert.ok(tokens.stats.refused > refused);
  });
});

describe('test bed: token auth with anonymous pull (public-registry behaviour)', () => {
  let tokens: TokenServer;
  let reg: RunningRegistry;
  const img = buildImage({ seed: 'anon' });
  before(async () => {
    tokens = await startTokenServer({ username: 'ci', password: 'tok3n', anonymousPull: true });
    reg = await startRegistry({ auth: tokens.registryAuth });
    await pushImage(new RegistryPusher(reg.url, { username: 'ci', password: 'tok3n' }), 'pub/app', img, 'v1');
  });
  after(async () => {
    await reg?.stop();
    await tokens?.close();
  });

  it('an anonymous token reads, but cannot push; wrong credentials are still refused', async () => {
    const scope = `&scope=repository:pub/app:pull,push`;
    const anon = await fetch(`${tokens.realm}?service=${encodeURIComponent(tokens.service)}${scope}`);
    assert.equal(anon.status, 200);
    const { token } = (await anon.json()) as { token: string };
    const got = await rawManifest(reg.url, 'pub/app', img.digest, `Bearer ${token}`);
    assert.equal(got.computedDigest, img.digest);
    const upload = await fetch(`${reg.url}/v2/pub/app/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(upload.status, 401);
    await assert.rejects(
      pushImage(new RegistryPusher(reg.url), 'pub/app', buildImage({ seed: 'anon-push' }), 'v2'),
      (e: unknown) => e instanceof OciWriteError && e.code === 'AUTH_REJECTED',
    );
    const wrong = await fetch(`${tokens.realm}?service=${encodeURIComponent(tokens.service)}${scope}`, {
      headers: { authorization: basic('ci', 'wrong') },
    });
    assert.equal(wrong.status, 401);
  });
});
