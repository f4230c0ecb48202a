/**
 * Image verification bench (issue 4). One run against the real registry and the loopback Sigstore.
 *
 * - coldRatioToFloor: one image with signature + SBOM + provenance + 2 rebuilds (5 Sigstore bundles as
 *   OCI referrers; keyless release identity through the mock Fulcio, rebuilders by key, all logged in
 *   the mock Rekor), verified by a FRESH registry client and verifier (nothing cached), over a floor
 *   measured on the same image in the same iteration: exactly the HTTP requests our client sent,
 *   replayed one after another on one keep-alive connection, plus bare @sigstore/verify calls on the
 *   same five bundles (trust material built once, as ours does). Medians over the iterations.
 *   The process is warmed first (modules loaded, SBOM schemas compiled, JIT), as a policy pack or
 *   CLI that verifies more than one image is.
 * - images1000Seconds: BENCH_IMAGES (default 1000) distinct such images through one verifier,
 *   16 in flight (client concurrencyPerRegistry 16); scaled to 1000 when fewer were run (then said so on stderr).
 *   Next to it, from the same run: images1000FloorSeconds, exactly the requests our client sent for the
 *   fleet, replayed bare with the same concurrency and no verification at all (what the registry alone
 *   allows on this machine); images1000RegistryCpuSeconds, the CPU the registry process used during the
 *   fleet run (it shares the two cores with us); images1000VerifierCpuSeconds, this process's CPU.
 * - warmMsPerImage: a digest verified before, again (the per-digest verdict cache).
 * - peakRssMB: the process's maximum resident set size.
 * The last line printed is one JSON object.
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type KeyFinderFunc } from '@sigstore/verify';
import { createPublicKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { keyHintOf } from '../cli/oci/sign-key';
import { createImageVerifier } from '../policy-pack/image-verifier';
import { createRegistryClient } from '../policy-pack/registry/client';
import { MANIFEST_ACCEPT } from '../policy-pack/registry/media-types';
import type { RegistryLogEvent } from '../policy-pack/registry/types';
import { loadTrustedRoot } from '../policy-pack/supply-chain/sigstore';
import { publish, startWorld, type Published, type World } from '../test/supply-chain/support/world';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 9);
const IMAGES = Number(process.env.BENCH_IMAGES ?? 1000);
/** Images in flight and HTTP requests per registry in the fleet run (a documented client option). */
const IN_FLIGHT = 16;
const WARM_REPEATS = 20000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function bareRequest(agent: http.Agent, url: string, method: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method, headers: { accept: MANIFEST_ACCEPT } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Our verification with a fresh client and verifier; returns the time and the requests it sent. */
async function ours(world: World, image: Published): Promise<{ ms: number; requests: RegistryLogEvent[] }> {
  const requests: RegistryLogEvent[] = [];
  const trustedRoot = loadTrustedRoot(world.mock.trustedRoot, 'sigstore mock');
  // the policy is read once per process (pack start-up, CLI start), not per image
  const policy = world.policy();
  const start = process.hrtime.bigint();
  const verifier = createImageVerifier({
    policy,
    registry: createRegistryClient({ log: (e) => (e.event === 'request' ? requests.push(e) : undefined) }),
    trustedRoot,
  });
  const v = await verifier.verify(image.ref);
  const elapsed = ms(start);
  if (!v.allowed) throw new Error(`bench image not allowed: ${JSON.stringify(v.findings)}`);
  return { ms: elapsed, requests };
}

/** The floor: the same HTTP requests, bare and sequential, then bare @sigstore/verify on the bundles. */
async function floor(world: World, image: Published, requests: RegistryLogEvent[]): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const keys: Record<string, string> = {};
  for (const k of Object.values(world.keys)) keys[keyHintOf(k.publicKeyPem)] = k.publicKeyPem;
  const keyFinder: KeyFinderFunc = (hint) => {
    const pem = keys[hint];
    if (!pem) throw new Error(`no key for hint ${hint}`);
    return { publicKey: createPublicKey(pem), validFor: () => true };
  };
  const start = process.hrtime.bigint();
  const bodies: Buffer[] = [];
  for (const r of requests) {
    bodies.push(await bareRequest(agent, `http://${r.registry}${r.path ?? '/'}`, r.method ?? 'GET'));
  }
  const trust = toTrustMaterial(TrustedRoot.fromJSON(world.mock.trustedRoot), keyFinder);
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 0 });
  let verified = 0;
  const manifest = (image.image as { manifest: Buffer }).manifest;
  for (const body of bodies) {
    let json: { mediaType?: unknown; messageSignature?: unknown };
    try {
      json = JSON.parse(body.toString()) as typeof json;
    } catch {
      continue;
    }
    if (
      typeof json.mediaType !== 'string' ||
      !json.mediaType.startsWith('application/vnd.dev.sigstore.bundle')
    ) {
      continue;
    }
    const bundle = bundleFromJSON(json);
    verifier.verify(toSignedEntity(bundle, json.messageSignature ? manifest : undefined));
    verified++;
  }
  const elapsed = ms(start);
  agent.destroy();
  if (verified !== 5) throw new Error(`floor verified ${verified} bundles, expected 5`);
  return elapsed;
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined where there is none. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // fields after the command name: state is field 3, utime 14, stime 15 (clock ticks, 100 per second)
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

interface FleetResult {
  /** seconds for the fleet, scaled to 1000 images */
  seconds: number;
  /** the same HTTP requests, bare, 16 in flight on keep-alive connections, scaled to 1000 images */
  floorSeconds: number;
  /** CPU the registry process used while our verifier ran, scaled to 1000 images */
  registryCpuSeconds?: number;
  /** CPU this process used while our verifier ran, scaled to 1000 images */
  verifierCpuSeconds: number;
}

async function thousand(world: World): Promise<FleetResult> {
  // setup, not timed: publish 4 at a time
  const images: Published[] = [];
  let made = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (made < IMAGES) {
        made++;
        images.push(await publish(world, 'referrer', undefined, { repo: 'acme/fleet' }));
      }
    }),
  );
  const requests: RegistryLogEvent[] = [];
  const verifier = createImageVerifier({
    policy: world.policy(),
    registry: createRegistryClient({
      concurrencyPerRegistry: IN_FLIGHT,
      log: (e) => (e.event === 'request' ? requests.push(e) : undefined),
    }),
    trustedRoot: loadTrustedRoot(world.mock.trustedRoot, 'sigstore mock'),
  });
  const mb = (n: number) => `${Math.round(n / 1048576)} MB`;
  global.gc?.();
  const before = process.memoryUsage();
  const registryPid = world.registry.process.pid;
  const registryCpu0 = cpuSecondsOf(registryPid);
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < images.length) {
        const img = images[next++] as Published;
        const v = await verifier.verify(img.ref);
        if (!v.allowed) throw new Error(`fleet image not allowed: ${JSON.stringify(v.findings)}`);
      }
    }),
  );
  const seconds = ms(start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = process.memoryUsage();
  global.gc?.();
  const retained = process.memoryUsage();
  process.stderr.write(
    `fleet memory: before ${mb(before.rss)} rss / ${mb(before.heapUsed)} heap / ${mb(before.arrayBuffers)} buffers (the test world and ${IMAGES} published images); ` +
      `after ${mb(after.rss)} / ${mb(after.heapUsed)}; retained after GC ${mb(retained.heapUsed)} heap\n`,
  );
  const registryCpu1 = cpuSecondsOf(registryPid);

  // the floor: exactly those requests again, no verification, same concurrency, fresh connections
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const floorStart = process.hrtime.bigint();
  let replayed = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (replayed < requests.length) {
        const r = requests[replayed++] as RegistryLogEvent;
        await bareRequest(agent, `http://${r.registry}${r.path ?? '/'}`, r.method ?? 'GET');
      }
    }),
  );
  const floorSeconds = ms(floorStart) / 1000;
  agent.destroy();

  if (IMAGES !== 1000) process.stderr.write(`images1000Seconds scaled from ${IMAGES} images\n`);
  const scale = 1000 / IMAGES;
  process.stderr.write(
    `fleet: ${IMAGES} images, ${requests.length} requests in ${seconds.toFixed(2)} s; bare replay ${floorSeconds.toFixed(2)} s\n`,
  );
  return {
    seconds: seconds * scale,
    floorSeconds: floorSeconds * scale,
    registryCpuSeconds:
      registryCpu0 !== undefined && registryCpu1 !== undefined
        ? (registryCpu1 - registryCpu0) * scale
        : undefined,
    verifierCpuSeconds: ((cpu.user + cpu.system) / 1e6) * scale,
  };
}

async function main(): Promise<void> {
  const world = await startWorld();
  try {
    // warm the process: modules, schema compilation, JIT
    for (let i = 0; i < 2; i++) {
      const w = await publish(world, 'referrer');
      const o = await ours(world, w);
      await floor(world, w, o.requests);
    }
    const oursMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const image = await publish(world, 'referrer');
      // alternate the order so neither side always runs on a warmer registry
      let o: { ms: number; requests: RegistryLogEvent[] };
      let f: number;
      if (i % 2 === 0) {
        o = await ours(world, image);
        f = await floor(world, image, o.requests);
      } else {
        const probe = await ours(world, image);
        f = await floor(world, image, probe.requests);
        o = await ours(world, image);
      }
      oursMs.push(o.ms);
      floorMs.push(f);
      process.stderr.write(
        `cold ${i}: ours ${o.ms.toFixed(1)} ms, floor ${f.toFixed(1)} ms, ${o.requests.length} requests\n`,
      );
    }

    const cached = await publish(world, 'referrer');
    const verifier = createImageVerifier({
      policy: world.policy(),
      registry: createRegistryClient({}),
      trustedRoot: loadTrustedRoot(world.mock.trustedRoot, 'sigstore mock'),
    });
    await verifier.verify(cached.ref);
    const warmStart = process.hrtime.bigint();
    for (let i = 0; i < WARM_REPEATS; i++) await verifier.verify(cached.ref);
    const warmMsPerImage = ms(warmStart) / WARM_REPEATS;

    const fleet = await thousand(world);
    const result = {
      coldRatioToFloor: Number((median(oursMs) / median(floorMs)).toFixed(3)),
      coldOursMs: Number(median(oursMs).toFixed(2)),
      coldFloorMs: Number(median(floorMs).toFixed(2)),
      images1000Seconds: Number(fleet.seconds.toFixed(2)),
      images1000FloorSeconds: Number(fleet.floorSeconds.toFixed(2)),
      images1000RegistryCpuSeconds:
        fleet.registryCpuSeconds === undefined ? null : Number(fleet.registryCpuSeconds.toFixed(2)),
      images1000VerifierCpuSeconds: Number(fleet.verifierCpuSeconds.toFixed(2)),
      warmMsPerImage: Number(warmMsPerImage.toFixed(4)),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await world.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:verify failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
