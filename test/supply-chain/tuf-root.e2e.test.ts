import { initializeTUFRepo, tufHandlers, type TUFRepo } from '@tufjs/repo-mock';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createImageVerifier } from '../../policy-pack/image-verifier';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { PolicyError } from '../../policy-pack/supply-chain/policy-error';
import { tufTrustedRoot } from '../../policy-pack/supply-chain/sigstore/tuf-root';
import { embeddedPublicGoodRoot } from '../../policy-pack/supply-chain/sigstore';
import { parseTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { ImageVerdict } from '../../policy-pack/supply-chain/types';
import { publish, startWorld, type World } from './support/world';

/**
 * The trusted root as a TUF target, end to end: a real TUF repository (metadata signed by
 * @tufjs/repo-mock's keys) served over loopback HTTP holds the mock Sigstore's trusted_root.json; the
 * images are signed by that mock Sigstore, so only a root obtained through TUF can allow them (the
 * embedded public-good root cannot).
 */
class TufServer {
  private server?: http.Server;
  private handlers = new Map<string, () => { statusCode: number; response: string | Buffer }>();
  requests = 0;

  constructor(private repo: TUFRepo) {
    this.serve(repo);
  }

  serve(repo: TUFRepo): void {
    this.repo = repo;
    this.handlers = new Map(
      tufHandlers(repo, { metadataPathPrefix: '', targetPathPrefix: '/targets' }).map((h) => [h.path, h.fn]),
    );
  }

  get initialRoot(): string {
    return JSON.stringify(this.repo.rootMeta.toJSON());
  }

  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.requests++;
      const h = this.handlers.get(req.url ?? '');
      const r = h ? h() : { statusCode: 404, response: '' };
      res.writeHead(r.statusCode).end(r.response);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}

describe('trusted root over TUF (trustedRoot.tuf), end to end', function () {
  let world: World;
  let tuf: TufServer;
  let mirror: string;
  let n = 0;

  before(async function () {
    world = await startWorld();
    tuf = new TufServer(
      initializeTUFRepo([{ name: 'trusted_root.json', content: JSON.stringify(world.mock.trustedRoot) }]),
    );
    mirror = await tuf.start();
  });
  after(async function () {
    await tuf?.stop();
    await world?.stop();
  });

  /** A policy whose trusted root comes from `mirrorUrl` with a fresh cache (unless `cacheDir` is given). */
  function policyWithTuf(opts: { mirrorUrl?: string; cacheDir?: string; root?: string | null } = {}) {
    // relative paths resolve against the policy's folder, where the world keeps the signers' keys
    const rootFile = `tuf-root-${++n}.json`;
    fs.writeFileSync(path.join(world.dir, rootFile), tuf.initialRoot);
    const cacheDir = opts.cacheDir ?? path.join(world.dir, `tuf-cache-${n}`);
    const root = opts.root === null ? '' : `, root: ${opts.root ?? `./${rootFile}`}`;
    const yaml = world.policyYaml({
      extra: `trustedRoot:\n  tuf: { mirror: "${opts.mirrorUrl ?? mirror}", cacheDir: "${cacheDir}"${root} }\n`,
    });
    return { policy: parseTrustPolicy(yaml, { baseDir: world.dir }), cacheDir };
  }

  function verify(image: string, policy: ReturnType<typeof parseTrustPolicy>): Promise<ImageVerdict> {
    // no trustedRoot given: the verifier takes it from the policy, as the pack and the CLI do
    return createImageVerifier({ policy, registry: createRegistryClient({}) }).verify(image);
  }

  it('a root fetched and verified over TUF allows an image signed under it', async function () {
    const image = await publish(world, 'referrer');
    const { policy } = policyWithTuf();
    const v = await verify(image.ref, policy);
    assert.equal(v.allowed, true, JSON.stringify(v.findings));
    // the embedded public-good root alone cannot verify the mock Sigstore's signatures
    const embedded = parseTrustPolicy(world.policyYaml(), { baseDir: world.dir });
    assert.equal((await verify(image.ref, embedded)).allowed, false);
  });

  it('offline after one refresh, the verified cache is used; with no cache, a private mirror fails closed', async function () {
    const image = await publish(world, 'referrer');
    const first = policyWithTuf();
    assert.equal((await verify(image.ref, first.policy)).allowed, true);
    const down = 'http://127.0.0.1:9'; // nothing listens on the discard port: the refresh fails at once
    // same repository cache, mirror unreachable: the cached, verified root
    const cachedCopy = path.join(world.dir, `copied-cache-${n}`);
    fs.cpSync(first.cacheDir, cachedCopy, { recursive: true });
    // the cache is keyed by mirror URL: rename the repository folder to the one the offline policy looks up
    const [repoFolder] = fs.readdirSync(cachedCopy);
    fs.renameSync(
      path.join(cachedCopy, repoFolder!),
      path.join(cachedCopy, encodeURIComponent('127.0.0.1:9')),
    );
    const offline = policyWithTuf({ mirrorUrl: down, cacheDir: cachedCopy });
    assert.equal((await verify(image.ref, offline.policy)).allowed, true);
    // a fresh cache and no mirror: blocked, saying why
    const nothing = policyWithTuf({ mirrorUrl: down });
    const v = await verify(image.ref, nothing.policy);
    assert.equal(v.allowed, false);
    assert.deepEqual(
      v.findings.map((f) => f.code),
      ['POLICY_INVALID'],
    );
    assert.match(v.findings[0]!.found, /TUF mirror http:\/\/127\.0\.0\.1:9/);
  });

  it('a failed lookup is not kept: the same verifier succeeds once the mirror answers', async function () {
    const image = await publish(world, 'referrer');
    const later = new TufServer(
      initializeTUFRepo([{ name: 'trusted_root.json', content: JSON.stringify(world.mock.trustedRoot) }]),
    );
    const url = await later.start();
    await later.stop();
    const rootFile = path.join(world.dir, `tuf-root-later.json`);
    fs.writeFileSync(rootFile, later.initialRoot);
    const yaml = world.policyYaml({
      extra: `trustedRoot:\n  tuf: { mirror: "${url}", root: ./tuf-root-later.json, cacheDir: ./tuf-cache-later }\n`,
    });
    const verifier = createImageVerifier({
      policy: parseTrustPolicy(yaml, { baseDir: world.dir }),
      registry: createRegistryClient({}),
    });
    const down = await verifier.verify(image.ref);
    assert.deepEqual(
      down.findings.map((f) => f.code),
      ['POLICY_INVALID'],
    );
    await later.start(Number(new URL(url).port));
    try {
      assert.equal((await verifier.verify(image.ref)).allowed, true);
    } finally {
      await later.stop();
    }
  });

  it('a trusted_root.json that does not match its signed TUF hash is refused, never used', async function () {
    const image = await publish(world, 'referrer');
    const signed = initializeTUFRepo([
      { name: 'trusted_root.json', content: JSON.stringify(world.mock.trustedRoot) },
    ]);
    // the same signed metadata, but the mirror serves other bytes of the same length for the target (a
    // swapped key character), so only the signed hash can tell
    const original = JSON.stringify(world.mock.trustedRoot);
    const swapped = original.replace(
      /"rawBytes":"(.)/,
      (_m, c: string) => `"rawBytes":"${c === 'A' ? 'B' : 'A'}`,
    );
    assert.equal(swapped.length, original.length);
    assert.notEqual(swapped, original);
    const tampered: TUFRepo = { ...signed, targets: [{ name: 'trusted_root.json', content: swapped }] };
    const previous = tuf.initialRoot;
    tuf.serve(tampered);
    try {
      const { policy } = policyWithTuf();
      const v = await verify(image.ref, policy);
      assert.equal(v.allowed, false);
      assert.deepEqual(
        v.findings.map((f) => f.code),
        ['POLICY_INVALID'],
      );
      assert.match(v.findings[0]!.found, /no trusted root from TUF mirror/);
    } finally {
      tuf.serve(
        initializeTUFRepo([{ name: 'trusted_root.json', content: JSON.stringify(world.mock.trustedRoot) }]),
      );
      assert.notEqual(tuf.initialRoot, previous, 'a new repository has new keys');
    }
  });

  it('offline with no cache, the public-good repository falls back to the embedded root (never another mirror)', async function () {
    const down = 'http://127.0.0.1:9';
    const cacheDir = path.join(world.dir, 'fallback-cache');
    const root = path.join(world.dir, 'fallback-root.json');
    fs.writeFileSync(root, tuf.initialRoot);
    const fallback = await tufTrustedRoot(
      { mirror: down, rootPath: root, cacheDir },
      { offlineFallback: embeddedPublicGoodRoot },
    );
    assert.equal(fallback, embeddedPublicGoodRoot());
    await assert.rejects(
      tufTrustedRoot({ mirror: down, rootPath: root, cacheDir: `${cacheDir}-2` }),
      (e: unknown) => (e as { code?: string }).code === 'TRUST_ROOT_INVALID',
    );
  });

  it('policy load: a private mirror needs its initial root; the schema refuses a second trust source', function () {
    assert.throws(
      () => policyWithTuf({ root: null }),
      (e: unknown) => e instanceof PolicyError && e.problems.some((p) => p.path === '/trustedRoot/tuf/root'),
    );
    assert.throws(
      () => policyWithTuf({ root: './missing-root.json' }),
      (e: unknown) => e instanceof PolicyError && e.problems.some((p) => p.path === '/trustedRoot/tuf/root'),
    );
    assert.throws(
      () =>
        parseTrustPolicy(
          world.policyYaml({ extra: 'trustedRoot:\n  file: ./trusted_root.json\n  tuf: {}\n' }),
          { baseDir: world.dir },
        ),
      (e: unknown) => e instanceof PolicyError,
    );
    // the public-good repository needs no root: its initial root ships with the TUF client
    const publicGood = parseTrustPolicy(world.policyYaml({ extra: 'trustedRoot:\n  tuf: {}\n' }), {
      baseDir: world.dir,
    });
    assert.equal(publicGood.trustedRootSource.kind, 'tuf');
  });
});
