import * as assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  formatReference,
  isLoopbackHost,
  parseReference,
  registryIdentity,
  repositoryName,
} from '../../policy-pack/registry/reference';
import { RegistryError } from '../../policy-pack/registry/errors';
import { underPrefix } from '../../policy-pack/policies/allowed-registries';
import { parseTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import { buildImage } from '../../cli/oci/image';
import { RegistryPusher } from '../../cli/oci/push';
import { pushImage } from '../../cli/oci/target';
import { startRegistry, type RunningRegistry } from '../support/registry';
import { testClient } from './support/env';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('registry/reference: Docker normalisation', () => {
  const cases: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['library/nginx', 'docker.io/library/nginx:latest'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['index.docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['ghcr.io/org/app:v1', 'ghcr.io/org/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/team/app', 'localhost:5000/team/app:latest'],
    ['127.0.0.1:5000/app:1.0', '127.0.0.1:5000/app:1.0'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    [`nginx@${DIGEST}`, `docker.io/library/nginx@${DIGEST}`],
    [`gcr.io/p/app:v2@${DIGEST}`, `gcr.io/p/app:v2@${DIGEST}`],
    ['registry.example.com:443/a/b/c:tag_1.2-x', 'registry.example.com/a/b/c:tag_1.2-x'],
    ['foo__bar/a.b-c', 'docker.io/foo__bar/a.b-c:latest'],
    // Host names are case-insensitive (the same registry answers): a rule, exemption or allowed prefix
    // for docker.io/library or ghcr.io must not be sidestepped by writing the host in capitals.
    ['Docker.IO/nginx', 'docker.io/library/nginx:latest'],
    ['GHCR.io/org/app:v1', 'ghcr.io/org/app:v1'],
    ['LocalHost:5000/app', 'localhost:5000/app:latest'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} -> ${expected}`, () => {
      assert.equal(formatReference(parseReference(input)), expected);
    });
  }

  it('splits registry, repository, tag and digest', () => {
    assert.deepEqual(parseReference(`127.0.0.1:5000/team/app:v1@${DIGEST}`), {
      registry: '127.0.0.1:5000',
      repository: 'team/app',
      tag: 'v1',
      digest: DIGEST,
    });
    assert.equal(repositoryName(parseReference('nginx')), 'docker.io/library/nginx');
    assert.equal(parseReference(`nginx@${DIGEST}`).tag, undefined);
  });

  const garbage = [
    '',
    ' nginx',
    'Nginx',
    'https://ghcr.io/org/app',
    'nginx:',
    'nginx:-bad',
    'nginx@sha256:abc',
    `nginx@sha512:${'a'.repeat(128)}`,
    `nginx@sha256:${'A'.repeat(64)}`,
    'a//b',
    'a/',
    'ghcr.io/org/app:tag with space',
    'ghcr.io:99999/app',
    'bad_host_.io/x/y',
    '-lead/app',
    'a..b',
    'x'.repeat(300),
    'ghcr.io/org/app:' + 't'.repeat(129),
  ];
  for (const g of garbage) {
    it(`refuses ${JSON.stringify(g.slice(0, 40))} with INVALID_REFERENCE`, () => {
      assert.throws(
        () => parseReference(g),
        (e: unknown) => e instanceof RegistryError && e.code === 'INVALID_REFERENCE',
      );
    });
  }

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1:5000', '127.9.8.7', 'localhost', 'localhost:80', '[::1]:5000', '[::1]'])
      assert.ok(isLoopbackHost(h), h);
    for (const h of [
      '128.0.0.1',
      '127.0.0.1.evil.com',
      'localhost.evil.com',
      '10.0.0.1:5000',
      'ghcr.io',
      '[::2]',
    ])
      assert.ok(!isLoopbackHost(h), h);
  });
});

/**
 * Another spelling of the same endpoint must be judged exactly like the canonical one: matched by the
 * same trust-policy rule, the same exemption and the same allowed-registries prefix (the functions the
 * policies call), or refused outright. Under `unmatchedImages: allow`, a spelling that escaped the rules
 * would be an unverified image let through.
 */
describe('registry/reference: one identity per registry endpoint', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const policy = parseTrustPolicy(
    {
      apiVersion: 'trustops.dev/v1alpha1',
      kind: 'TrustPolicy',
      unmatchedImages: 'allow',
      signers: { ops: { key: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() } } },
      images: [
        { match: ['ghcr.io/acme/**'], signature: { signers: ['ops'] } },
        { match: ['[2001:db8::1]/acme/**'], signature: { signers: ['ops'] } },
        { match: ['127.0.0.1:5000/acme/**'], signature: { signers: ['ops'] } },
      ],
      exemptions: [
        {
          image: `ghcr.io:443/acme/legacy@${DIGEST}`,
          reason: 'vendor',
          ticket: 'SEC-1',
          expires: '2999-12-31',
        },
      ],
    },
    { baseDir: '.' },
  );
  const repo = (image: string): string => repositoryName(parseReference(image));
  const judged = (image: string) => ({
    repository: repo(image),
    rule: policy.ruleFor(repo(image))?.name,
    allowedUnderGhcrAcme: underPrefix(repo(image), 'ghcr.io/acme'),
  });

  const sameAs: [string, string][] = [
    ['ghcr.io:443/acme/app:v1', 'ghcr.io/acme/app:v1'],
    ['GHCR.IO:443/acme/app:v1', 'ghcr.io/acme/app:v1'],
    ['ghcr.io:0443/acme/app:v1', 'ghcr.io/acme/app:v1'],
    [`Ghcr.Io:443/acme/app@${DIGEST}`, `ghcr.io/acme/app@${DIGEST}`],
    ['[2001:DB8:0:0::1]:443/acme/app', '[2001:db8::1]/acme/app'],
    ['[2001:db8::1]/acme/app', '[2001:db8::1]/acme/app'],
    // Loopback registries are reached over plain HTTP, whose default port is 80.
    ['127.1:5000/acme/app', '127.0.0.1:5000/acme/app'],
    ['localhost:80/acme/app', 'localhost/acme/app'],
    ['[::1]:80/acme/app', '[::1]/acme/app'],
    // Docker Hub spellings, with the HTTPS port too.
    ['docker.io:443/nginx', 'nginx'],
    ['index.docker.io:443/library/nginx', 'nginx'],
    ['Docker.io/nginx', 'nginx'],
    ['registry-1.docker.io/library/nginx', 'nginx'],
  ];
  for (const [spelling, canonical] of sameAs) {
    it(`${spelling} is judged like ${canonical}`, () => {
      assert.equal(formatReference(parseReference(spelling)), formatReference(parseReference(canonical)));
      assert.deepEqual(judged(spelling), judged(canonical));
    });
  }

  it('ghcr.io:443 falls under the ghcr.io rule, prefix and exemption (it escaped them before)', () => {
    assert.equal(judged('ghcr.io:443/acme/app').rule, judged('ghcr.io/acme/app').rule);
    assert.notEqual(judged('ghcr.io:443/acme/app').rule, undefined);
    assert.equal(judged('ghcr.io:443/acme/app').allowedUnderGhcrAcme, true);
    assert.equal(judged('[2001:db8::1]:443/acme/app').rule, judged('[2001:db8::1]/acme/app').rule);
    assert.notEqual(judged('[2001:db8::1]:443/acme/app').rule, undefined);
    assert.equal(judged('127.1:5000/acme/app').rule, judged('127.0.0.1:5000/acme/app').rule);
    assert.notEqual(judged('127.1:5000/acme/app').rule, undefined);
    // The exemption was written with :443; the image without it (and the other way round).
    const now = new Date('2026-01-01T00:00:00Z');
    assert.ok(policy.exemptionFor(repo('ghcr.io/acme/legacy'), DIGEST, now));
    assert.ok(policy.exemptionFor(repo('GHCR.io:443/acme/legacy'), DIGEST, now));
  });

  const differentEndpoint: [string, string][] = [
    // Other ports are other registries.
    ['ghcr.io:8443/acme/app', 'ghcr.io/acme/app'],
    ['ghcr.io:80/acme/app', 'ghcr.io/acme/app'],
    // Loopback over plain HTTP: 443 is not the default port, so it is another endpoint.
    ['localhost:443/acme/app', 'localhost/acme/app'],
    ['[::1]:443/acme/app', '[::1]/acme/app'],
    // Different names resolve through different paths (hosts file, DNS): left distinct.
    ['localhost:5000/acme/app', '127.0.0.1:5000/acme/app'],
    ['ghcr.io.evil.com/acme/app', 'ghcr.io/acme/app'],
  ];
  for (const [spelling, other] of differentEndpoint) {
    it(`${spelling} stays distinct from ${other} and does not fall under its rule or prefix`, () => {
      assert.notEqual(repo(spelling), repo(other));
      if (repo(other).startsWith('ghcr.io/acme/')) {
        assert.equal(policy.ruleFor(repo(spelling)), undefined);
        assert.equal(underPrefix(repo(spelling), 'ghcr.io/acme'), false);
      }
    });
  }

  it('registryIdentity gives host-keyed settings (mirrors, insecure registries) the identity references get', () => {
    const hosts: [string, string | undefined][] = [
      ['GHCR.IO:443', 'ghcr.io'],
      ['ghcr.io', 'ghcr.io'],
      ['ghcr.io:8443', 'ghcr.io:8443'],
      ['index.docker.io:443', 'docker.io'],
      ['Registry-1.Docker.io', 'docker.io'],
      ['localhost:443', 'localhost:443'],
      ['127.0.0.1:80', '127.0.0.1'],
      ['[2001:DB8::1]:443', '[2001:db8::1]'],
      ['ghcr.io.', undefined],
      ['ghcr.io:99999', undefined],
      ['', undefined],
      ['user@ghcr.io', undefined],
    ];
    for (const [host, identity] of hosts) {
      assert.equal(registryIdentity(host), identity, host);
      if (identity !== undefined) assert.equal(parseReference(`${host}/acme/app:1`).registry, identity, host);
    }
  });

  const refused = [
    // A trailing-dot FQDN names the same host in DNS, but the cluster's runtime and the pack might not
    // agree on it: refused, so the image is blocked rather than judged under another identity.
    'ghcr.io./acme/app',
    'ghcr.io.:443/acme/app',
    'GHCR.IO./acme/app',
    // A name ending in a number that is no IPv4 address: the URL parser the client uses refuses it.
    'foo.1/acme/app',
    '1.2.3.4.5/acme/app',
    'ghcr.io:/acme/app',
    'ghcr.io:443:443/acme/app',
    '[2001:db8::1/acme/app',
    '[2001:db8::1]443/acme/app',
    '[2001:db8::g]/acme/app',
    '[::1]:99999/acme/app',
  ];
  for (const r of refused) {
    it(`refuses ${r} with INVALID_REFERENCE`, () => {
      assert.throws(
        () => parseReference(r),
        (e: unknown) => e instanceof RegistryError && e.code === 'INVALID_REFERENCE',
      );
    });
  }
});

/**
 * Canonicalising a host must not send the fetch elsewhere: spellings of one loopback endpoint resolve
 * the same tag to the same digest from the same real registry, under one identity.
 */
describe('registry/reference: canonical spellings fetch from the same registry', function () {
  let registry: RunningRegistry;
  let digest: string;

  before(async () => {
    registry = await startRegistry();
    digest = (
      await pushImage(new RegistryPusher(registry.url), 'team/app', buildImage({ seed: 'ref-443' }), 'v1')
    ).digest;
  });
  after(async () => {
    await registry?.stop();
  });

  it('127.0.0.1, 127.1 and 0x7f.0.0.1 with the same port: one identity, one registry, one digest', async () => {
    const client = testClient();
    try {
      for (const host of ['127.0.0.1', '127.1', '0x7f.0.0.1', '127.0.1']) {
        const ref = `${host}:${registry.port}/team/app:v1`;
        assert.equal(parseReference(ref).registry, registry.host, ref);
        const resolved = await client.resolve(ref);
        assert.equal(resolved.digest, digest, ref);
      }
    } finally {
      client.close();
    }
  });
});
