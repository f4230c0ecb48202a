import * as assert from 'node:assert/strict';
import { parseChallenges } from '../../policy-pack/registry/auth';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { RegistryError } from '../../policy-pack/registry/errors';
import { parseMirrorFlags } from '../../policy-pack/registry/mirrors';
import { parseReference } from '../../policy-pack/registry/reference';
import { parseRetryAfter } from '../../policy-pack/registry/transport';
import { RegistryPusher } from '../../cli/oci/push';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { FaultProxy } from './support/fault-proxy';
import { ANONYMOUS, testClient } from './support/env';
import { pushSignedImage, type SignedImage } from './support/signed-image';

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof RegistryError && e.code === code);
}

describe('registry/client: transport policy and configuration', () => {
  it('HTTPS by default; plain HTTP for loopback and --insecure-registry hosts only', () => {
    const c = createRegistryClient({
      credentials: ANONYMOUS,
      insecureRegistries: ['10.0.0.5:5000', 'lab.internal'],
    });
    try {
      assert.equal(c.storeFor('ghcr.io').origin, 'https://ghcr.io');
      assert.equal(c.storeFor('docker.io').origin, 'https://registry-1.docker.io');
      assert.equal(c.storeFor('registry.example.com:8443').origin, 'https://registry.example.com:8443');
      assert.equal(c.storeFor('127.0.0.1:5000').origin, 'http://127.0.0.1:5000');
      assert.equal(c.storeFor('localhost:5000').origin, 'http://localhost:5000');
      assert.equal(c.storeFor('[::1]:5000').origin, 'http://[::1]:5000');
      assert.equal(c.storeFor('10.0.0.5:5000').origin, 'http://10.0.0.5:5000');
      assert.equal(c.storeFor('lab.internal:5000').origin, 'http://lab.internal:5000');
      assert.equal(c.storeFor('10.0.0.6:5000').origin, 'https://10.0.0.6:5000');
    } finally {
      c.close();
    }
  });

  it('host-keyed settings match references whatever the spelling: GHCR.IO, :443, an insecure registry on 443', () => {
    const c = createRegistryClient({
      credentials: ANONYMOUS,
      insecureRegistries: ['LAB.Internal', 'plain443.example:443'],
      mirrors: {
        'GHCR.IO:443': 'https://mirror.example.com',
        'index.docker.io': 'https://hub-mirror.example.com',
      },
    });
    try {
      const registryOf = (ref: string) => parseReference(ref).registry;
      // the reference and the setting normalise to the same registry identity
      assert.equal(c.storeFor(registryOf('lab.internal:5000/x/y')).origin, 'http://lab.internal:5000');
      assert.equal(c.storeFor(registryOf('ghcr.io/acme/app')).origin, 'https://mirror.example.com');
      assert.equal(
        c.storeFor(registryOf('docker.io/library/alpine')).origin,
        'https://hub-mirror.example.com',
      );
      // plain HTTP on port 443: the identity drops the port, the fetch must not
      assert.equal(registryOf('plain443.example:443/x/y'), 'plain443.example');
      assert.equal(c.storeFor(registryOf('plain443.example:443/x/y')).origin, 'http://plain443.example:443');
      assert.equal(c.storeFor(registryOf('plain443.example/x/y')).origin, 'http://plain443.example:443');
      // and nothing else became insecure
      assert.equal(c.storeFor(registryOf('other.example:443/x/y')).origin, 'https://other.example');
    } finally {
      c.close();
    }
  });

  it('refuses a plain-HTTP mirror on a non-loopback host (INSECURE_TRANSPORT) unless it is marked insecure', () => {
    throwsCode(
      () =>
        createRegistryClient({
          credentials: ANONYMOUS,
          mirrors: { 'docker.io': 'http://mirror.example.com' },
        }),
      'INSECURE_TRANSPORT',
    );
    const ok = createRegistryClient({
      credentials: ANONYMOUS,
      mirrors: { 'docker.io': 'http://mirror.example.com' },
      insecureRegistries: ['mirror.example.com'],
    });
    assert.equal(ok.storeFor('docker.io').origin, 'http://mirror.example.com');
    ok.close();
  });

  it('refuses bad settings with INVALID_CONFIG', () => {
    throwsCode(() => createRegistryClient({ mirrors: { 'ghcr.io': 'ftp://x' } }), 'INVALID_CONFIG');
    throwsCode(
      () => createRegistryClient({ mirrors: { 'ghcr.io': 'https://user:pw@mirror.example.com' } }),
      'INVALID_CONFIG',
    );
    throwsCode(() => createRegistryClient({ mirrors: { 'ghcr.io': 'oci-layout:' } }), 'INVALID_CONFIG');
    throwsCode(() => createRegistryClient({ timeouts: { requestMs: 0 } }), 'INVALID_CONFIG');
    throwsCode(() => createRegistryClient({ retry: { retries: -1 } }), 'INVALID_CONFIG');
    throwsCode(() => createRegistryClient({ limits: { manifestBytes: Number.NaN } }), 'INVALID_CONFIG');
    throwsCode(() => createRegistryClient({ concurrencyPerRegistry: 0 }), 'INVALID_CONFIG');
  });

  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.example.com/token',
            service: 'registry.example.com',
            scope: 'repository:a/b:pull,push',
          },
        },
      ],
    );
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    assert.deepEqual(
      parseChallenges('Basic realm="x", Bearer realm="https://a/t",error="insufficient_scope"').map((c) => [
        c.scheme,
        c.params.realm,
        c.params.error,
      ]),
      [
        ['basic', 'x', undefined],
        ['bearer', 'https://a/t', 'insufficient_scope'],
      ],
    );
    assert.deepEqual(parseChallenges(undefined), []);
    assert.deepEqual(parseChallenges('"garbage'), []);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const inFuture = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString());
    assert.ok(inFuture !== undefined && inFuture > 50_000 && inFuture <= 60_000);
    assert.equal(parseRetryAfter(new Date(0).toUTCString()), 0);
  });
});

describe('registry/client: per-registry concurrency limit', () => {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let signed: SignedImage;
  before(async () => {
    registry = await startRegistry();
    signed = await pushSignedImage(new RegistryPusher(registry.url), {
      repo: 'team/app',
      seed: 'concurrency',
      name: 'c/app',
      cosignSignatures: 1,
      cosignAttestations: 4,
      bundles: 5,
    });
    proxy = await new FaultProxy(registry.url).start();
  });
  after(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  for (const limit of [1, 3]) {
    it(`never has more than ${limit} request(s) in flight to one registry`, async () => {
      proxy.setFaults([{ path: /./, action: { kind: 'delay', ms: 20 } }]);
      const c = testClient({ concurrencyPerRegistry: limit });
      try {
        const found = await c.attachments(parseReference(`${proxy.host}/team/app`), signed.descriptor.digest);
        assert.equal(found.attestations.length, 4);
        assert.equal(found.bundles.length, 5);
        assert.equal(proxy.maxInFlight, limit);
      } finally {
        c.close();
      }
    });
  }
});

describe('registry/mirrors: --registry-mirror flags', () => {
  it('parses HOST=oci-layout:DIR and HOST=https://mirror', () => {
    assert.deepEqual(
      parseMirrorFlags(['ghcr.io=oci-layout:/srv/m', 'docker.io=https://mirror.example.com']),
      {
        'ghcr.io': 'oci-layout:/srv/m',
        'docker.io': 'https://mirror.example.com',
      },
    );
    for (const bad of [
      ['ghcr.io'],
      ['=oci-layout:/x'],
      ['ghcr.io=/srv/m'],
      ['a/b=https://m'],
      ['x.io=https://a', 'x.io=https://b'],
    ]) {
      assert.throws(
        () => parseMirrorFlags(bad),
        (e: unknown) => e instanceof RegistryError && e.code === 'INVALID_CONFIG',
        bad.join(' '),
      );
    }
  });
});
