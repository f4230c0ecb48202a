import * as assert from 'node:assert/strict';
import {
  formatReference,
  isLoopbackHost,
  parseReference,
  repositoryName,
} from '../../policy-pack/registry/reference';
import { RegistryError } from '../../policy-pack/registry/errors';

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
    ['registry.example.com:443/a/b/c:tag_1.2-x', 'registry.example.com:443/a/b/c:tag_1.2-x'],
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
